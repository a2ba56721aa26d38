"""Finding, validating and indexing every data file: scenarios, rubrics, act examples, tracks.

File kinds form a small registry; each kind knows its schema and its place on disk. A
catalog is built in one pass and either holds every file or lists every fault
(``file: field path: reason``), so the CLI validator and the app's start-up report the
same messages.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from pydantic import BaseModel

from app.core.datafiles import DataFileError, Fault, content_hash, load_model
from app.core.operators import DEFAULT_OPERATOR, uses_placeholders


@dataclass(frozen=True)
class FileKind:
    name: str
    schema: Callable[[], type[BaseModel]]  # imported lazily: schemas live in their own modules
    key: Callable[[Any], tuple]  # identity of a loaded item, e.g. (id, language)
    cross_check: Callable[["Catalog", Path, Any], list[Fault]] | None = None
    # A kind whose module has its own loader (extra checks, id = file name) names it here;
    # it gets the path and the centre's operator profile id (None: the default).
    loader: Callable[[Path, str | None], Any] | None = None
    # A kind whose file holds several items (a scenario in each of its languages) names
    # how to read them all: (path, operator, scenarios folder) -> [(model, hash), ...].
    versions: Callable[[Path, str | None, Path | None], list[tuple[Any, str]]] | None = None

    def load(self, path: Path, operator: str | None = None) -> tuple[Any, str]:
        """The validated model and its content hash. A file with `{operator.…}`
        placeholders reads differently per operator, so its hash includes the operator."""
        if self.loader is None:
            model, digest = load_model(self.schema(), path, context={"operator": operator})
        else:
            model, digest = self.loader(path, operator), content_hash(path.read_bytes())
        if uses_placeholders(path.read_bytes()):
            digest = content_hash(f"{digest}\0operator:{operator or DEFAULT_OPERATOR}".encode())
        return model, digest

    def load_all(self, path: Path, operator: str | None = None,
                 scenarios_dir: Path | None = None) -> list[tuple[Any, str]]:
        """Every item the file holds with its content hash (one for most kinds; a scenario
        file gives one per language). `scenarios_dir` is the folder whose defaults a
        scenario inherits."""
        if self.versions is not None:
            return self.versions(path, operator, scenarios_dir)
        return [self.load(path, operator)]


KINDS: dict[str, FileKind] = {}


def register_kind(kind: FileKind) -> FileKind:
    if kind.name in KINDS:
        raise ValueError(f"file kind {kind.name!r} is registered twice")
    KINDS[kind.name] = kind
    return kind


def get_kind(name: str) -> FileKind:
    try:
        return KINDS[name]
    except KeyError:
        raise KeyError(f"unknown file kind {name!r}; known: {', '.join(sorted(KINDS))}") from None


@dataclass
class Entry:
    kind: str
    path: Path
    model: Any
    content_hash: str
    raw: dict


@dataclass
class Catalog:
    entries: list[Entry] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    scenarios_dir: Path | None = None

    def of_kind(self, kind: str) -> list[Entry]:
        return [e for e in self.entries if e.kind == kind]

    def find(self, kind: str, *key) -> Entry | None:
        k = get_kind(kind)
        for e in self.of_kind(kind):
            if k.key(e.model)[: len(key)] == tuple(key):
                return e
        return None

    @property
    def ok(self) -> bool:
        return not self.faults


def kind_for_path(path: Path, scenarios_dir: Path, rubrics_dir: Path) -> str | None:
    """Decide a file's kind by where it lives. None for files that are not data files."""
    if path.suffix not in (".yaml", ".yml", ".json"):
        return None
    path = path.resolve()
    try:
        rel = path.relative_to(scenarios_dir.resolve())
        if rel.parts[0] == "prompts":
            return "customer_prompt" if "customer_prompt" in KINDS else None
        if rel.parts[0] == "_defaults":
            return "scenario_defaults"
        return "scenario"
    except ValueError:
        pass
    try:
        rel = path.relative_to(rubrics_dir.resolve())
    except ValueError:
        return None
    top = rel.parts[0] if len(rel.parts) > 1 else None
    if top == "acts" and len(rel.parts) > 2:
        return "acts_batch"  # rubrics/acts/<language>.d/<batch>.yaml
    return {None: "rubric", "acts": "acts", "tracks": "track", "prompts": "judge_prompt"}.get(top)


# Top-level keys that tell a file's kind when it lies outside scenarios/ and rubrics/
# (a scenario drafted elsewhere, a fixture): the first kind whose keys are all present wins.
SIGNATURE_KEYS = (
    ("scenario", {"states", "personas"}),
    ("rubric", {"dimensions", "criteria"}),
    ("acts", {"examples", "acts"}),
    ("acts_batch", {"examples", "batch"}),
    ("track", {"exam", "drills"}),
)


def guess_kind(path: Path) -> str | None:
    """The kind of a data file outside the content folders, judged by its top-level keys."""
    if path.suffix not in (".yaml", ".yml", ".json"):
        return None
    try:
        from app.core.datafiles import read_raw

        data, _ = read_raw(path)
    except DataFileError:
        return "scenario"  # unreadable: report its fault as a scenario file would get it
    if not isinstance(data, dict):
        return "scenario"
    for kind, keys in SIGNATURE_KEYS:
        if keys <= data.keys() and kind in KINDS:
            return kind
    return None


def discover(scenarios_dir: Path, rubrics_dir: Path) -> list[tuple[Path, str]]:
    found = []
    for root in (scenarios_dir, rubrics_dir):
        for path in sorted(root.rglob("*")):
            if path.is_file():
                kind = kind_for_path(path, scenarios_dir, rubrics_dir)
                if kind and kind in KINDS:
                    found.append((path, kind))
    return found


def _inside(path: Path, *dirs: Path) -> bool:
    resolved = path.resolve()
    return any(resolved.is_relative_to(d.resolve()) for d in dirs)


def build_catalog(scenarios_dir: Path | str, rubrics_dir: Path | str,
                  paths: list[Path] | None = None, operator: str | None = None) -> Catalog:
    """Load every data file (or only `paths`, for the validator) and run cross-file checks.

    `operator` is the centre's operator profile id (None: the default profile); it fills
    the scenarios' `{operator.…}` placeholders.

    Cross-file checks (a rubric naming an unknown act, a duplicate id) always see the
    whole catalog, so validating one file still catches its references to others.
    """
    scenarios_dir, rubrics_dir = Path(scenarios_dir), Path(rubrics_dir)
    _ensure_kinds_registered()
    catalog = Catalog(scenarios_dir=scenarios_dir)
    all_files = discover(scenarios_dir, rubrics_dir)
    wanted = None
    if paths is not None:
        wanted = set()
        for p in paths:
            p = Path(p)
            if not p.exists():
                catalog.faults.append(Fault(str(p), "", "no such file or directory"))
                continue
            targets = sorted(x for x in p.rglob("*") if x.is_file()) if p.is_dir() else [p]
            for t in targets:
                kind = kind_for_path(t, scenarios_dir, rubrics_dir)
                if kind is None and not _inside(t, scenarios_dir, rubrics_dir):
                    kind = guess_kind(t)
                if kind is None or kind not in KINDS:
                    if not p.is_dir():
                        catalog.faults.append(Fault(str(t), "", "not a scenario, rubric, act-example or track file (unknown folder, extension or top-level keys)"))
                    continue
                wanted.add(t.resolve())
                if all(t.resolve() != f.resolve() for f, _ in all_files):
                    all_files.append((t, kind))
    seen: dict[tuple, Path] = {}
    for path, kind_name in all_files:
        kind = KINDS[kind_name]
        try:
            items = kind.load_all(path, operator, scenarios_dir)
        except DataFileError as exc:
            if wanted is None or path.resolve() in wanted or _is_defaults(path, scenarios_dir):
                catalog.faults.extend(exc.faults)
            continue
        for model, digest in items:
            key = (kind_name, *kind.key(model))
            # Files outside the content folders are drafts checked on their own: a draft of an
            # existing scenario shares its id by design.
            if _inside(path, scenarios_dir, rubrics_dir):
                if key in seen:
                    catalog.faults.append(Fault(str(path), "id", f"duplicate of {seen[key]}"))
                    continue
                seen[key] = path
            raw = json.loads(model.model_dump_json())
            catalog.entries.append(Entry(kind_name, path, model, digest, raw))
    for entry in list(catalog.entries):
        check = KINDS[entry.kind].cross_check
        if check and (wanted is None or entry.path.resolve() in wanted):
            catalog.faults.extend(check(catalog, entry.path, entry.model))
    if wanted is not None:
        catalog.entries = [e for e in catalog.entries if e.path.resolve() in wanted]
    # A fault in a shared defaults file, or in a file of several languages, is found once
    # per version: report it once.
    catalog.faults = list(dict.fromkeys(catalog.faults))
    return catalog


def _is_defaults(path: Path, scenarios_dir: Path) -> bool:
    # Every scenario inherits the defaults: their faults are reported whichever files are checked.
    return path.resolve().parent == (scenarios_dir / "_defaults").resolve()


def other_operator_faults(catalog: Catalog, operators: list[str], checked: str | None) -> list[Fault]:
    """Faults of the catalog's files with `{operator.…}` placeholders under the profiles it was
    not built with: a scenario must serve every operator, so a placeholder one profile lacks
    (China Mobile has no do-not-disturb code) is reported, naming that operator."""
    faults: list[Fault] = []
    done = set()
    for entry in catalog.entries:
        if (entry.kind, entry.path) in done or not uses_placeholders(entry.path.read_bytes()):
            continue
        done.add((entry.kind, entry.path))
        for op in operators:
            if op == (checked or DEFAULT_OPERATOR):
                continue
            try:
                KINDS[entry.kind].load_all(entry.path, op, catalog.scenarios_dir)
            except DataFileError as exc:
                faults.extend(Fault(f.file, f.field, f"{f.reason} (operator {op})") for f in exc.faults)
    return list(dict.fromkeys(faults))


_registered = False


def _ensure_kinds_registered() -> None:
    """Import the modules that register file kinds (once)."""
    global _registered
    if _registered:
        return
    _registered = True
    import app.core.kinds  # noqa: F401

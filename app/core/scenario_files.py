"""One scenario file, every language: shared defaults and translation overlays.

A scenario file (`scenarios/<id>.yaml`) is written in its own `language` (zh-CN) and may
carry other languages as overlays under `translations`:

    translations:
      en:
        title: Billing complaint
        lines: {opening: ["Why is my bill 108 yuan?"]}
        personas: [{id: calm, label: Reasonable}]

The version of the file in a language is built in two steps, both with one merge rule:

1. **translation**: the file without `translations`, with `translations.<language>` laid
   over it: mappings merge key by key; lists of items with an `id` (states, personas,
   hidden_facts, knowledge_points, ...) merge item by item on the id (a translation
   cannot add or drop items: it gives the id of each item it changes); any other value
   or list (lines' variants, transitions, `wrong`, `impossible_promises`) is replaced
   whole. Matchers (`disclosed_by`, `stated_by`, `done_by`, `asked_by`, a condition's
   `text`) and `objects` are replaced whole too: patterns and words are per language, so
   a translation states them completely.
2. **inheritance**: the defaults of that language (`scenarios/_defaults/<language>.yaml`:
   end states, global transitions, common lines) fill in what the scenario does not
   define, with the same rule, the scenario winning: a state, line key or persona it
   defines with the same id or key overrides the default; `global_transitions` given in
   the scenario replace the defaults' list. The scenario's own items come first.

A fault in the result names the file and the field where the faulty value was written:
`scenarios/x.yaml: translations.en.lines.opening[0]: ...` for a translated line; a fault
in a value inherited from the defaults is the scenario's and names where the value came
from (`... (inherited from scenarios/_defaults/en.yaml: global_transitions[2].to)`).
A non-Chinese version still holding Chinese text inherited from the base language is a
fault naming where its translation belongs.

The content hash of a version is taken over the merged data of that language, so
editing the English overlay makes a new English version only, and comments or layout
make none.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from pydantic import BaseModel, ValidationError

from app.core.datafiles import DataFileError, Fault, content_hash, faults_from_validation, field_path, read_raw
from app.core.operators import DEFAULT_OPERATOR

DEFAULTS_DIR = "_defaults"
TRANSLATIONS = "translations"
# Values replaced whole by a layer above rather than merged: per-language patterns and words.
WHOLE_KEYS = frozenset({"disclosed_by", "stated_by", "done_by", "asked_by", "text", "objects"})
# What a translation cannot change: the file's identity.
FIXED_KEYS = ("id", "language", TRANSLATIONS)
LANGUAGES = ("zh-CN", "en")
CJK_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")

Loc = tuple


@dataclass
class Version:
    """One language's merged data, where each of its values was written, and the faults
    found while merging (each naming its own file and field)."""

    language: str
    data: dict
    origins: dict[Loc, tuple[str, Loc]] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)

    def locate(self, fault: Fault, file: str) -> Fault:
        """`fault` (about the merged data, filed under `file`) moved to the field of `file`
        where the value was written (inside `translations.<language>` for a translated one).
        A value inherited from the defaults stays filed under the scenario, whose version
        is what breaks (its own transitions may be what no longer reach a default end
        state), and the reason names the defaults file and field it came from."""
        if fault.file != file or not fault.field:
            return fault
        parts = _split(fault.field)
        for n in range(len(parts), 0, -1):
            origin = self.origins.get(tuple(parts[:n]))
            if origin is not None:
                src_file, src_loc = origin
                where = field_path((*src_loc, *parts[n:]))
                if src_file != file:
                    return Fault(file, fault.field, f"{fault.reason} (inherited from {src_file}: {where})")
                return Fault(src_file, where, fault.reason)
        return fault

    @property
    def digest(self) -> str:
        text = json.dumps(self.data, ensure_ascii=False, separators=(",", ":"))
        return content_hash(text.encode("utf-8"))


def _split(path: str) -> list:
    """`states[2].say[0]` -> ["states", 2, "say", 0] (the inverse of field_path)."""
    out: list = []
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
        out.append(int(index) if index else name)
    return out


def _is_id_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(x, dict) and isinstance(x.get("id"), str)
                                                           for x in value)


def _record(node: Any, file: str, src: Loc, at: Loc, out: dict) -> Any:
    """Copy `node`, noting that it and everything in it was written at `file`/`src`."""
    out[at] = (file, src)
    if isinstance(node, dict):
        return {k: _record(v, file, (*src, k), (*at, k), out) for k, v in node.items()}
    if isinstance(node, list):
        return [_record(v, file, (*src, i), (*at, i), out) for i, v in enumerate(node)]
    return node


@dataclass(frozen=True)
class _Layer:
    node: Any
    file: str
    src: Loc


class _Merge:
    """Lays `upper` over `lower`. `translation`: lower is the base and owns the order, and
    upper may only change existing id items; otherwise (inheritance) upper is the scenario,
    its items come first and defaults fill in."""

    def __init__(self, translation: bool):
        self.translation = translation
        self.origins: dict[Loc, tuple[str, Loc]] = {}
        self.faults: list[Fault] = []

    def fault(self, layer: _Layer, loc: Loc, reason: str) -> None:
        self.faults.append(Fault(layer.file, field_path(loc), reason))

    def merge(self, lo: _Layer | None, up: _Layer | None, at: Loc) -> Any:
        if up is None:
            return _record(lo.node, lo.file, lo.src, at, self.origins)
        if lo is None:
            return _record(up.node, up.file, up.src, at, self.origins)
        a, b = lo.node, up.node
        if isinstance(a, dict) and isinstance(b, dict):
            return self._dicts(lo, up, at)
        if _is_id_list(a) and isinstance(b, list):
            if _is_id_list(b):
                return self._id_lists(lo, up, at)
            if self.translation:
                self.fault(up, up.src, "each item needs the `id` of the item it translates")
                return _record(a, lo.file, lo.src, at, self.origins)
        return _record(b, up.file, up.src, at, self.origins)

    def _dicts(self, lo: _Layer, up: _Layer, at: Loc) -> dict:
        owner = lo if self.translation else up
        self.origins[at] = (owner.file, owner.src)
        keys = list(lo.node) + [k for k in up.node if k not in lo.node]
        if not self.translation:
            keys = list(up.node) + [k for k in lo.node if k not in up.node]
        out = {}
        for k in keys:
            lo_k = _Layer(lo.node[k], lo.file, (*lo.src, k)) if k in lo.node else None
            up_k = _Layer(up.node[k], up.file, (*up.src, k)) if k in up.node else None
            if k in WHOLE_KEYS and up_k is not None:
                lo_k = None
            out[k] = self.merge(lo_k, up_k, (*at, k))
        return out

    def _id_lists(self, lo: _Layer, up: _Layer, at: Loc) -> list:
        owner = lo if self.translation else up
        self.origins[at] = (owner.file, owner.src)
        lo_items = {x["id"]: (i, x) for i, x in enumerate(lo.node)}
        up_items = {x["id"]: (i, x) for i, x in enumerate(up.node)}
        if self.translation:
            for j, x in enumerate(up.node):
                if x["id"] not in lo_items:
                    self.fault(up, (*up.src, j, "id"), f"no item {x['id']!r} to translate (known: "
                                                       f"{', '.join(map(str, lo_items))}); a translation changes"
                                                       " the base's items, it does not add any")
            order = [("lo", i) for i in range(len(lo.node))]
        else:
            order = [("up", j) for j in range(len(up.node))]
            order += [("lo", i) for i, x in enumerate(lo.node) if x["id"] not in up_items]
        out = []
        for side, i in order:
            item = (lo.node if side == "lo" else up.node)[i]
            li = lo_items.get(item["id"])
            ui = up_items.get(item["id"])
            lo_l = _Layer(li[1], lo.file, (*lo.src, li[0])) if li else None
            up_l = _Layer(ui[1], up.file, (*up.src, ui[0])) if ui else None
            out.append(self.merge(lo_l, up_l, (*at, len(out))))
        return out


@dataclass(frozen=True)
class Defaults:
    """The defaults files of a scenarios folder: language -> (data, file name)."""

    by_language: dict[str, tuple[dict, str]]

    @classmethod
    def none(cls) -> "Defaults":
        return cls({})


def defaults_folder(scenarios_dir: Path | str) -> Path:
    return Path(scenarios_dir) / DEFAULTS_DIR


def read_defaults(scenarios_dir: Path | str | None) -> Defaults:
    """The defaults of `scenarios_dir` (none when it has no `_defaults` folder). A file that
    cannot be read is left out here; the catalog reports it as a file of its own kind."""
    if scenarios_dir is None:
        return Defaults.none()
    found = {}
    folder = defaults_folder(scenarios_dir)
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        try:
            data, _ = read_raw(path)
        except DataFileError:
            continue
        if isinstance(data, dict):
            found[path.stem] = ({k: v for k, v in data.items() if k != "language"}, str(path))
    return Defaults(found)


def _check_translations(data: dict, file: str) -> tuple[dict[str, dict], list[Fault]]:
    base_language = data.get("language")
    raw = data.get(TRANSLATIONS)
    if raw is None:
        return {}, []
    if not isinstance(raw, dict):
        return {}, [Fault(file, TRANSLATIONS, "expected a mapping of language -> overlay, e.g. `en: {title: ...}`")]
    out, faults = {}, []
    for lang, overlay in raw.items():
        where = f"{TRANSLATIONS}.{lang}"
        if lang not in LANGUAGES:
            faults.append(Fault(file, where, f"unknown language {lang!r}; known: {', '.join(LANGUAGES)}"))
        elif lang == base_language:
            faults.append(Fault(file, where, f"the file is written in {lang}: change its text in place"))
        elif not isinstance(overlay, dict):
            faults.append(Fault(file, where, "expected a mapping of the fields that differ in this language"))
        else:
            bad = [k for k in FIXED_KEYS if k in overlay]
            faults += [Fault(file, f"{where}.{k}", f"a translation cannot change `{k}`") for k in bad]
            out[lang] = {k: v for k, v in overlay.items() if k not in FIXED_KEYS}
    return out, faults


def _strings(node: Any, at: Loc) -> Iterator[tuple[Loc, str]]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _strings(v, (*at, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _strings(v, (*at, i))
    elif isinstance(node, str):
        yield at, node


def _untranslated(version: Version, file: str, base_language: str) -> list[Fault]:
    """Chinese text an English version inherits from the base file: the translation was forgotten."""
    if version.language.startswith("zh") or not base_language.startswith("zh"):
        return []
    faults, seen = [], set()
    for loc, text in _strings(version.data, ()):
        src_file, src = version.origins.get(loc, (file, loc))
        if src_file != file or (src and src[0] == TRANSLATIONS) or not CJK_RE.search(text):
            continue
        # A list of variants or patterns is reported once, at the list.
        where = loc[:-1] if loc and isinstance(loc[-1], int) else loc
        if where in seen:
            continue
        seen.add(where)
        faults.append(Fault(file, f"{TRANSLATIONS}.{version.language}.{field_path(where)}",
                            f"the {version.language} version still has {base_language} text here"
                            f" ({field_path(src)}: {text[:30]!r}): give its {version.language} text"))
    return faults


def merge_versions(data: Any, file: str, defaults: Defaults) -> dict[str, Version]:
    """Every language version of one parsed scenario file, merged (not yet validated).

    Raises DataFileError when the file's top is not a mapping."""
    if not isinstance(data, dict):
        raise DataFileError([Fault(file, "", f"expected a mapping at the top, got {type(data).__name__}")])
    overlays, faults = _check_translations(data, file)
    base = {k: v for k, v in data.items() if k != TRANSLATIONS}
    base_language = base.get("language") if isinstance(base.get("language"), str) else LANGUAGES[0]
    versions = {}
    for lang in (base_language, *overlays):
        step = _Merge(translation=True)
        translated = step.merge(_Layer(base, file, ()),
                                _Layer(overlays[lang], file, (TRANSLATIONS, lang)) if lang in overlays else None, ())
        version = Version(lang, translated, step.origins, list(faults if lang == base_language else step.faults))
        if lang != base_language:
            version.data["language"] = lang
        if lang in defaults.by_language:
            d_data, d_file = defaults.by_language[lang]
            inherit = _Merge(translation=False)
            # The scenario layer keeps the origins found in step 1.
            merged = inherit.merge(_Layer(d_data, d_file, ()), _Layer(version.data, file, ()), ())
            inherit.origins = {at: (step.origins.get(src, (f, src)) if f == file else (f, src))
                               for at, (f, src) in inherit.origins.items()}
            version = Version(lang, merged, inherit.origins, version.faults + inherit.faults)
        version.faults += _untranslated(version, file, base_language)
        versions[lang] = version
    return versions


def validate_version(schema: type[BaseModel], version: Version, file: str, operator: str | None) -> Any:
    """The validated model of one version; DataFileError with faults at their own files."""
    faults = list(version.faults)
    model = None
    try:
        model = schema.model_validate(version.data, context={"operator": operator})
    except ValidationError as exc:
        faults += [version.locate(f, file) for f in faults_from_validation(file, exc)]
    if faults:
        raise DataFileError(_unique(faults))
    return model


def _unique(faults: list[Fault]) -> list[Fault]:
    return list(dict.fromkeys(faults))


def version_digest(version: Version, operator: str | None) -> str:
    """The content hash of a version; one with `{operator.…}` placeholders reads differently
    per operator, so its hash includes the operator."""
    digest = version.digest
    if "{operator" in json.dumps(version.data, ensure_ascii=False):
        digest = content_hash(f"{digest}\0operator:{operator or DEFAULT_OPERATOR}".encode())
    return digest


def _schema(schema):
    if schema is None:
        from app.core.simulation.schema import Scenario

        return Scenario
    return schema


def scenario_versions_from_data(data: Any, file: str, defaults: Defaults, operator: str | None = None,
                                schema: type[BaseModel] | None = None) -> dict[str, tuple[Any, str]]:
    """language -> (validated model, content hash) for parsed scenario data (an editor's
    text, a file). Raises DataFileError listing every language's faults, each naming
    the file and the field where the faulty value is written."""
    schema = _schema(schema)
    versions = merge_versions(data, file, defaults)
    out, faults = {}, []
    for lang, version in versions.items():
        try:
            out[lang] = (validate_version(schema, version, file, operator), version_digest(version, operator))
        except DataFileError as exc:
            faults += exc.faults
    if faults:
        raise DataFileError(_unique(faults))
    return out


def _defaults_for(path: Path, scenarios_dir: Path | str | None) -> Defaults:
    # A file in a folder with defaults inherits them; a draft elsewhere those of the
    # scenarios folder it is checked against; a fixture on its own none.
    if scenarios_dir is None and defaults_folder(path.parent).is_dir():
        scenarios_dir = path.parent
    return read_defaults(scenarios_dir)


def scenario_versions(path: Path | str, operator: str | None = None, scenarios_dir: Path | str | None = None,
                      schema: type[BaseModel] | None = None) -> dict[str, tuple[Any, str]]:
    """language -> (validated model, content hash) for every language of a scenario file.

    `scenarios_dir` is the folder whose `_defaults/` the file inherits (default: the
    file's own folder when it has one). Raises DataFileError naming file and field."""
    path = Path(path)
    data, _ = read_raw(path)
    return scenario_versions_from_data(data, str(path), _defaults_for(path, scenarios_dir), operator, schema)


def pick_language(available: list[str] | tuple[str, ...], wanted: str | None, base: str) -> str:
    """The version to use for `wanted` ('en', 'en-GB', 'zh'): the same language, else the
    same primary language, else the file's own."""
    if wanted in available:
        return wanted
    primary = (wanted or "").split("-")[0].lower()
    return next((a for a in available if a.split("-")[0].lower() == primary), base)


def load_scenario(path: Path | str, language: str | None = None, operator: str | None = None,
                  scenarios_dir: Path | str | None = None, schema: type[BaseModel] | None = None):
    """One language version of a scenario file, validated (the file's own language when
    `language` is None or not there). Faults in other languages do not stop it."""
    path = Path(path)
    data, _ = read_raw(path)
    versions = merge_versions(data, str(path), _defaults_for(path, scenarios_dir))
    base = data.get("language") if isinstance(data.get("language"), str) else LANGUAGES[0]
    lang = pick_language(list(versions), language, base) if language else next(iter(versions))
    version = versions[lang]
    return validate_version(_schema(schema), version, str(path), operator)


def languages_of(path: Path | str) -> list[str]:
    """The languages a scenario file is written in (its own first), read cheaply."""
    data, _ = read_raw(Path(path))
    if not isinstance(data, dict):
        return []
    overlays = data.get(TRANSLATIONS) if isinstance(data.get(TRANSLATIONS), dict) else {}
    return [data.get("language", LANGUAGES[0]), *[k for k in overlays if k != data.get("language")]]

"""Checking a scenario written in the browser: the same rules as a file in scenarios/.

A draft is YAML text and two agent scripts, not yet a file. `check_draft` runs the loader
`flask scenarios validate` runs (schema, `{operator.…}` placeholders under every operator
profile, the cross-file checks against the catalog, the id and the file name), plus the
scripts rule, and names each fault after the file the draft will become
(`scenarios/<id>.yaml`). `play_scripts` plays both scripts under every persona, as the test
suite does for every file in scenarios/: a draft whose excellent script does not resolve
the call, or whose poor one does, is not published.
"""
from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from app.core.agent_scripts import KINDS as SCRIPT_KINDS
from app.core.catalog import Catalog, _ensure_kinds_registered, get_kind
from app.core.datafiles import DataFileError, Fault
from app.core.operators import fill_text, get_operator, uses_placeholders
from app.core.scenario import ID_RE
from app.core.scenario_files import scenario_versions

# A scenario file is about 400 lines (some 20 KB); a draft 10 times that is a mistake.
MAX_DRAFT_BYTES = 200_000
MAX_SCRIPT_BYTES = 20_000
LANGUAGES = ("zh-CN", "en")


def file_name(scenario_id: str, language: str) -> str:
    """Where the scenario lives in the content folder, as faults name it: one file holds
    every language (the others as `translations.<language>` overlays)."""
    return f"scenarios/{scenario_id}.yaml"


@dataclass
class DraftCheck:
    """The outcome of checking a draft: the loaded scenario (None when it does not load),
    its raw data as stored in a version row, its content hash, and every fault."""
    faults: list[Fault] = field(default_factory=list)
    model: Any = None
    raw: dict | None = None
    content_hash: str | None = None

    @property
    def ok(self) -> bool:
        return not self.faults and self.model is not None


def check_draft(text: str, scenario_id: str, language: str, catalog: Catalog, operator: str | None,
                operators: list[str], good: str = "", bad: str = "") -> DraftCheck:
    """Every fault of the draft `text` meant to be scenario `scenario_id` in `language`.

    The text is the whole file, every language of it; `language` is the version played
    and published. Faults name `scenarios/<id>.yaml`, the field path and the reason, as
    the validator prints them; the file inherits `_defaults/` of the catalog's scenarios
    folder as a file there would. The model is loaded under the centre's `operator`; the
    other `operators` only add faults. Never raises for bad text."""
    name = file_name(scenario_id, language)
    check = DraftCheck()
    raw_bytes = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else b""
    if len(raw_bytes) > MAX_DRAFT_BYTES:
        check.faults.append(Fault(name, "", f"too large: {len(raw_bytes)} bytes (at most {MAX_DRAFT_BYTES})"))
        return check
    if not ID_RE.match(scenario_id or "") or language not in LANGUAGES:
        check.faults.append(Fault(name, "id", f"{scenario_id!r} is not a scenario id in a known language"))
        return check
    _ensure_kinds_registered()
    kind = get_kind("scenario")
    with tempfile.TemporaryDirectory(prefix="draft-") as tmp:
        # The loader reads files: the draft is written under its future name, so the
        # file-name rule (id = file name) holds for it as for a file in scenarios/.
        path = Path(tmp) / f"{scenario_id}.yaml"
        path.write_bytes(raw_bytes)
        defaults_from = getattr(catalog, "scenarios_dir", None)
        try:
            versions = scenario_versions(path, operator, scenarios_dir=defaults_from)
        except DataFileError as exc:
            check.faults.extend(_renamed(exc.faults, path, name))
            return check
        if language not in versions:
            check.faults.extend(_renamed([Fault(str(path), "translations", f"the draft has no {language} version"
                                                f" (it has {', '.join(versions)})")], path, name))
            return check
        model, digest = versions[language]
        faults = list(kind.cross_check(catalog, path, model)) if kind.cross_check else []
        if uses_placeholders(raw_bytes):
            for op in operators:
                if op == operator:
                    continue
                try:
                    scenario_versions(path, op, scenarios_dir=defaults_from)
                except DataFileError as exc:
                    faults.extend(Fault(f.file, f.field, f"{f.reason} (operator {op})") for f in exc.faults)
        check.faults.extend(_renamed(faults, path, name))
    check.model, check.content_hash = model, digest
    check.raw = json.loads(model.model_dump_json())
    for kind_name, script in (("good", good), ("bad", bad)):
        word = SCRIPT_KINDS[kind_name]
        if len((script or "").encode("utf-8", "surrogatepass")) > MAX_SCRIPT_BYTES:
            check.faults.append(Fault(name, f"agent_scripts.{kind_name}", f"the {word} agent script is too large"
                                                                          f" (at most {MAX_SCRIPT_BYTES} bytes)"))
        elif not script_lines(script):
            check.faults.append(Fault(name, f"agent_scripts.{kind_name}",
                                      f"the {word} agent script has no lines (every scenario needs its own excellent"
                                      " and poor scripts, one agent turn per line)"))
    return check


def _renamed(faults: list[Fault], tmp_path: Path, name: str) -> list[Fault]:
    tmp = str(tmp_path)
    return [Fault(name if f.file == tmp else f.file, f.field, f.reason.replace(tmp, name)) for f in faults]


def script_lines(text: str) -> list[str]:
    """The agent turns of a script text: its non-blank lines, stripped."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


@dataclass(frozen=True)
class ScriptRun:
    """One script played under one persona: `ok` when the excellent script resolved the
    call or the poor one did not."""
    kind: str  # good | bad
    persona: str
    outcome: str
    ok: bool
    last_customer_line: str


def play_scripts(scenario, engine_for_language: Callable[[str], Any], good: str, bad: str,
                 operator: str | None = None, seed: int = 7) -> list[ScriptRun]:
    """Play both scripts under every persona of the scenario (scripts name numbers and codes
    through `{operator.…}` placeholders, filled for the centre's operator)."""
    from app.core.simulation.play import play_lines

    op = get_operator(operator)
    engine = engine_for_language(scenario.language)
    runs = []
    for kind, text in (("good", good), ("bad", bad)):
        lines = [fill_text(line, op) for line in script_lines(text)]
        for persona in scenario.personas:
            played = play_lines(engine, scenario, persona.id, seed, lines)
            resolved = played["outcome"] == "resolved"
            last = next((t["text"] for t in reversed(played["turns"]) if t["speaker"] == "customer"), "")
            runs.append(ScriptRun(kind, persona.id, played["outcome"], resolved == (kind == "good"), last))
    return runs


def script_faults(runs: list[ScriptRun], scenario_id: str, language: str) -> list[Fault]:
    """A fault for each script run that went the wrong way."""
    name = file_name(scenario_id, language)
    out = []
    for r in runs:
        if r.ok:
            continue
        reason = (f"the excellent agent script does not resolve the call with persona {r.persona!r}"
                  f" (outcome {r.outcome})" if r.kind == "good" else
                  f"the poor agent script resolves the call with persona {r.persona!r}")
        out.append(Fault(name, f"agent_scripts.{r.kind}", reason))
    return out

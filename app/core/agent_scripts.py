"""Where a scenario's own agent scripts live, and the rule that it has them.

Every scenario in scenarios/ is played by the test suite with two agent scripts, one
line per agent turn: an excellent one (`<id>.good.txt`: resolves the call under every
persona) and a poor one (`<id>.bad.txt`: never does). zh-CN scenarios keep them in
`tests/data/agent_scripts/`, English ones in its `en/` folder. A scenario without them
is a validation fault naming the scenario file and the missing script.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from app.core.datafiles import Fault

KINDS = {"good": "excellent", "bad": "poor"}


def script_path(scripts_dir: Path | str, scenario_id: str, language: str, kind: str) -> Path:
    """The script file of one kind (`good` or `bad`) for a scenario in a language."""
    if kind not in KINDS:
        raise ValueError(f"unknown script kind {kind!r} (known: {', '.join(KINDS)})")
    folder = Path(scripts_dir) if language == "zh-CN" else Path(scripts_dir) / language.split("-")[0]
    return folder / f"{scenario_id}.{kind}.txt"


def script_lines(path: Path) -> list[str]:
    """The agent turns of a script: its non-blank lines, stripped."""
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def missing_script_faults(scenarios: Iterable[tuple[Path, str, str]], scripts_dir: Path | str) -> list[Fault]:
    """A fault for each (scenario file, id, language) without an excellent or a poor
    script, or with an empty one: `scenarios/x.yaml: agent_scripts.good: ...`."""
    faults = []
    for path, scenario_id, language in scenarios:
        for kind, word in KINDS.items():
            script = script_path(scripts_dir, scenario_id, language, kind)
            if not script.is_file():
                reason = f"no {word} agent script {script}"
            elif not script_lines(script):
                reason = f"the {word} agent script {script} has no lines"
            else:
                continue
            faults.append(Fault(str(path), f"agent_scripts.{kind}",
                                f"{reason} (every scenario needs its own excellent and poor scripts, one"
                                " agent turn per line; the test suite plays both under every persona)"))
    return faults

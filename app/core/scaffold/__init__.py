"""`flask scenarios new ID`: a commented, valid zh-CN scenario and its two agent scripts.

The templates next to this file are a small working scenario (a 10 yuan charge the
customer never ordered) whose comments explain each field in Chinese; the excellent
script resolves it under every persona and the poor one does not, so a new file passes
validation and the suite from the start and the trainer changes it step by step.
"""
from __future__ import annotations

from pathlib import Path

from app.core.agent_scripts import script_path
from app.core.scenario import ID_RE

TEMPLATES = Path(__file__).resolve().parent


class ScaffoldError(ValueError):
    """A scenario cannot be scaffolded (bad id, a file already there)."""


def scaffold_scenario(scenario_id: str, scenarios_dir: Path | str, scripts_dir: Path | str,
                      title: str | None = None) -> list[Path]:
    """Write `<scenarios_dir>/<id>.yaml` and its excellent and poor scripts; return the
    paths written. Writes nothing and raises ScaffoldError when the id is not a valid id
    or any of the three files exists already (an existing scenario is never overwritten)."""
    if not ID_RE.match(scenario_id or ""):
        raise ScaffoldError(f"{scenario_id!r} is not a scenario id: use lower-case letters, digits and '_'"
                            " (e.g. roaming_bill_shock)")
    title = (title or "").strip() or f"新场景 {scenario_id}"
    if "\n" in title or len(title) > 80:
        raise ScaffoldError("the title is one line of at most 80 characters")
    targets = {
        Path(scenarios_dir) / f"{scenario_id}.yaml": "scenario.zh-CN.yaml",
        script_path(scripts_dir, scenario_id, "zh-CN", "good"): "good.zh-CN.txt",
        script_path(scripts_dir, scenario_id, "zh-CN", "bad"): "bad.zh-CN.txt",
    }
    there = [str(p) for p in targets if p.exists()]
    if there:
        raise ScaffoldError(f"already exists, not overwritten: {', '.join(there)}")
    texts = scaffold_texts(scenario_id, title)
    for (path, template), text in zip(targets.items(), texts.values()):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return list(targets)


def scaffold_texts(scenario_id: str, title: str) -> dict[str, str]:
    """The three texts a new scenario starts from, keyed `scenario`, `good`, `bad` (the
    browser editor's first draft is the same working example as `flask scenarios new`)."""
    files = {"scenario": "scenario.zh-CN.yaml", "good": "good.zh-CN.txt", "bad": "bad.zh-CN.txt"}
    return {key: (TEMPLATES / name).read_text(encoding="utf-8")
            .replace("__ID__", scenario_id).replace("__TITLE__", _yaml_safe(title)) for key, name in files.items()}


def _yaml_safe(title: str) -> str:
    # The title goes in as a plain YAML scalar and in a comment: keep characters that would
    # start a YAML structure out of it rather than quoting (the file stays easy to read).
    plain = "".join(" " if ch in ":#{}[]&*!|>'\"%@`" else ch for ch in title)
    return " ".join(plain.split()) or "新场景"

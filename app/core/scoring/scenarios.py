"""Reading scenario files for scoring: only the contract fields of `ScenarioBase`.

The simulator's full schema (`Scenario`, states and personas) validates the rest of the
file; the scorer reads just what it scores against, so a simulator-side change cannot
break scoring and fixture scenarios need no state machine.
"""
from __future__ import annotations

from pathlib import Path

from app.core.datafiles import DataFileError, Fault, parse_model, read_raw
from app.core.scenario import ScenarioBase


def load_scenario_for_scoring(path: Path | str) -> ScenarioBase:
    """Load a scenario file as `ScenarioBase`, dropping simulation-only top-level keys.

    Faults in the contract fields raise DataFileError naming file and field.
    """
    path = Path(path)
    data, _ = read_raw(path)
    if not isinstance(data, dict):
        raise DataFileError([Fault(str(path), "", "expected a mapping at the top")])
    keep = {k: v for k, v in data.items() if k in ScenarioBase.model_fields}
    return parse_model(ScenarioBase, keep, str(path))


def scenario_ids(scenarios_dir: Path | str = Path("scenarios")) -> list[str]:
    """Ids a transcript may name: the `<id>.yaml` files directly in the directory."""
    return sorted(p.stem for p in Path(scenarios_dir).glob("*.yaml"))


def scenario_path(scenario_id: str, language: str | None, scenarios_dir: Path | str = Path("scenarios")) -> Path:
    """The scenario file for a transcript: `scenarios/en/<id>.yaml` for an English
    transcript when that translation exists, else `scenarios/<id>.yaml`."""
    base = Path(scenarios_dir)
    if language and not language.lower().startswith("zh"):
        translated = base / language.split("-")[0] / f"{scenario_id}.yaml"
        if translated.is_file():
            return translated
    return base / f"{scenario_id}.yaml"

"""Reading scenario files for scoring: only the contract fields of `ScenarioBase`.

The simulator's full schema (`Scenario`, states and personas) validates the rest of the
file; the scorer reads just what it scores against, so a simulator-side change cannot
break scoring and fixture scenarios need no state machine.
"""
from __future__ import annotations

from pathlib import Path

from app.core.datafiles import DataFileError, Fault, read_raw
from app.core.scenario import ScenarioBase
from app.core.scenario_files import TRANSLATIONS, merge_versions, pick_language, read_defaults, validate_version


class _Contract(ScenarioBase):
    """ScenarioBase that ignores the simulator's fields (validated by `Scenario`)."""

    model_config = {**ScenarioBase.model_config, "extra": "ignore"}


def load_scenario_for_scoring(path: Path | str, language: str | None = None) -> ScenarioBase:
    """Load one language of a scenario file (its own language when `language` is None or
    not translated) as `ScenarioBase`, dropping simulation-only keys.

    Faults in the contract fields raise DataFileError naming file and field (inside
    `translations.<language>` for a translated field).
    """
    path = Path(path)
    data, _ = read_raw(path)
    if not isinstance(data, dict):
        raise DataFileError([Fault(str(path), "", "expected a mapping at the top")])
    keep = {k: v for k, v in data.items() if k in ScenarioBase.model_fields or k == TRANSLATIONS}
    if isinstance(keep.get(TRANSLATIONS), dict):
        keep[TRANSLATIONS] = {lang: {k: v for k, v in o.items() if k in ScenarioBase.model_fields}
                              if isinstance(o, dict) else o for lang, o in keep[TRANSLATIONS].items()}
    # The contract fields are never inherited from the defaults (states and lines are).
    versions = merge_versions(keep, str(path), read_defaults(None))
    base = keep.get("language") if isinstance(keep.get("language"), str) else next(iter(versions))
    version = versions[pick_language(list(versions), language, base) if language else base]
    return validate_version(_Contract, version, str(path), None)


def scenario_ids(scenarios_dir: Path | str = Path("scenarios")) -> list[str]:
    """Ids a transcript may name: the `<id>.yaml` files directly in the directory (not the
    `_`-prefixed ones, which are not scenarios)."""
    return sorted(p.stem for p in Path(scenarios_dir).glob("*.yaml") if not p.name.startswith("_"))


def scenario_path(scenario_id: str, language: str | None = None, scenarios_dir: Path | str = Path("scenarios")) -> Path:
    """The scenario file for a transcript: `scenarios/<id>.yaml`, which holds every
    language (`load_scenario_for_scoring(path, language)` picks one)."""
    return Path(scenarios_dir) / f"{scenario_id}.yaml"

"""The data-file kinds the catalog knows. Schemas are imported when first needed."""
from __future__ import annotations

from pathlib import Path

from app.core.catalog import Catalog, FileKind, register_kind
from app.core.datafiles import Fault


def _scenario_schema():
    from app.core.simulation.schema import Scenario

    return Scenario


def _scenario_versions(path: Path, operator: str | None = None, scenarios_dir: Path | None = None):
    from app.core.scenario_files import scenario_versions

    return list(scenario_versions(path, operator, scenarios_dir).values())


def _load_scenario(path: Path, operator: str | None = None):
    from app.core.scenario_files import load_scenario

    return load_scenario(path, operator=operator)


def _defaults_schema():
    from app.core.simulation.schema import ScenarioDefaults

    return ScenarioDefaults


def _defaults_file_name(catalog: Catalog, path: Path, model) -> list[Fault]:
    # Scenario versions find their defaults by language: `_defaults/<language>.yaml`.
    if path.stem != model.language:
        return [Fault(str(path), "language", f"defaults for {model.language} belong in {model.language}.yaml")]
    return []


def _rubric_schema():
    from app.core.rubric import Rubric

    return Rubric


def _load_rubric(path: Path, operator: str | None = None):
    from app.core.rubric import load_rubric

    return load_rubric(path)


def _acts_schema():
    from app.core.acts_data import ActsFile

    return ActsFile


def _acts_batch_schema():
    from app.core.acts_data import ActsBatch

    return ActsBatch


def _acts_batch_cross_check(catalog: Catalog, path: Path, model) -> list[Fault]:
    # The model learns from `<language>.d/<batch>.yaml`: a batch elsewhere, or named
    # otherwise than its file, would be validated but never trained on.
    faults = []
    if path.parent.name != f"{model.language}.d":
        faults.append(Fault(str(path), "language",
                            f"a {model.language} batch belongs in a folder named {model.language}.d"))
    if path.stem != model.batch:
        faults.append(Fault(str(path), "batch", f"batch {model.batch!r} differs from the file name {path.stem!r}"))
    return faults


def _scenario_file_name(catalog: Catalog, path: Path, model) -> list[Fault]:
    # Transcripts and drills refer to scenarios by id; the file name is how people find them.
    if path.stem != model.id:
        return [Fault(str(path), "id", f"id {model.id!r} differs from the file name {path.stem!r}")]
    return []


def _scenario_cross_check(catalog: Catalog, path: Path, model) -> list[Fault]:
    return _scenario_file_name(catalog, path, model) + _scenario_criterion_tips(catalog, path, model)


def _scenario_criterion_tips(catalog: Catalog, path: Path, model) -> list[Fault]:
    # A tip for a criterion no rubric has would never show: a typo the author must hear about.
    known = {c.id for e in catalog.of_kind("rubric") for c in e.model.criteria}
    return [Fault(str(path), f"criterion_tips.{cid}",
                  f"unknown criterion id {cid!r}: no rubric has it (known: {', '.join(sorted(known)) or 'none'})")
            for cid in model.criterion_tips if cid not in known]


def _customer_prompt_schema():
    from app.core.simulation.prompts import CustomerPrompt

    return CustomerPrompt


def _track_schema():
    from app.core.certification import Track

    return Track


def _load_track(path: Path, operator: str | None = None):
    from app.core.certification import load_track

    return load_track(path, operator)


def _track_cross_check(catalog: Catalog, path: Path, model) -> list[Fault]:
    from app.core.certification import catalog_cross_check

    return catalog_cross_check(catalog, path, model)


def _judge_prompt_schema():
    from app.core.scoring.judge import JudgePrompt

    return JudgePrompt


register_kind(FileKind("scenario", _scenario_schema, key=lambda m: (m.id, m.language),
                       cross_check=_scenario_cross_check, loader=_load_scenario, versions=_scenario_versions))
register_kind(FileKind("scenario_defaults", _defaults_schema, key=lambda m: (m.language,),
                       cross_check=_defaults_file_name))
register_kind(FileKind("rubric", _rubric_schema, key=lambda m: (m.id,), loader=_load_rubric))
register_kind(FileKind("acts", _acts_schema, key=lambda m: (m.language,)))
register_kind(FileKind("acts_batch", _acts_batch_schema, key=lambda m: (m.language, m.batch),
                       cross_check=_acts_batch_cross_check))
register_kind(FileKind("customer_prompt", _customer_prompt_schema, key=lambda m: (m.language,)))
register_kind(FileKind("track", _track_schema, key=lambda m: (m.id,), loader=_load_track,
                       cross_check=_track_cross_check))
register_kind(FileKind("judge_prompt", _judge_prompt_schema, key=lambda m: (m.language, m.version)))

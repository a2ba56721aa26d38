"""The data-file kinds the catalog knows. Schemas are imported when first needed."""
from __future__ import annotations

from app.core.catalog import FileKind, register_kind


def _scenario_schema():
    from app.core.simulation.schema import Scenario

    return Scenario


def _rubric_schema():
    from app.core.rubric import Rubric

    return Rubric


def _acts_schema():
    from app.core.acts import ActsFile

    return ActsFile


register_kind(FileKind("scenario", _scenario_schema, key=lambda m: (m.id, m.language)))
register_kind(FileKind("rubric", _rubric_schema, key=lambda m: (m.id,)))
register_kind(FileKind("acts", _acts_schema, key=lambda m: (m.language,)))

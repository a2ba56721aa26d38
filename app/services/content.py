"""Scenario and rubric content: the validated catalog and its versions in the database."""
from __future__ import annotations

import threading
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import select

from app.core.catalog import Catalog, build_catalog
from app.core.operators import OPERATORS_DIR
from app.extensions import db
from app.models import RubricVersion, ScenarioVersion

_memo: dict[tuple[str, str, str | None], tuple[tuple, Catalog]] = {}
_lock = threading.Lock()


class ContentError(RuntimeError):
    """The data files have faults; the message lists them as ``file: field: reason``."""


def _fingerprint(*dirs: Path) -> tuple:
    # Cheap change detection so a long-running test session or dev server reloads edited files.
    items = []
    for d in dirs:
        for p in sorted(d.rglob("*")):
            if p.is_file():
                st = p.stat()
                items.append((str(p), st.st_mtime_ns, st.st_size))
    return tuple(items)


def current_catalog(scenarios_dir: str | Path, rubrics_dir: str | Path, operator: str | None = None) -> Catalog:
    """The catalog of these folders with its faults, rebuilt only when a file changed.

    `operator` (the centre's OPERATOR) fills the scenarios' `{operator.…}` placeholders.
    Parsing and validating every file takes seconds; a stat of each is cheap."""
    sdir, rdir = Path(scenarios_dir), Path(rubrics_dir)
    dirs, fingerprint = (str(sdir), str(rdir), operator), _fingerprint(sdir, rdir, OPERATORS_DIR)
    with _lock:
        seen = _memo.get(dirs)
        if seen is None or seen[0] != fingerprint:
            seen = (fingerprint, build_catalog(sdir, rdir, operator=operator))
            _memo[dirs] = seen
    return seen[1]


def load_catalog(scenarios_dir: str | Path, rubrics_dir: str | Path, operator: str | None = None) -> Catalog:
    """The catalog of these folders, rebuilt only when a file changed. Raises ContentError on faults."""
    catalog = current_catalog(scenarios_dir, rubrics_dir, operator)
    if catalog.faults:
        raise ContentError("data files have faults:\n" + "\n".join(str(f) for f in catalog.faults))
    return catalog


def init_catalog(app: Flask) -> None:
    """Validate the data files when the app starts to serve (gunicorn, `flask run`).

    Other `flask` commands (validate, db upgrade, ...) must work on broken content, so
    they only get the faults when they use the catalog.
    """
    import click

    ctx = click.get_current_context(silent=True)
    if ctx is not None and ctx.info_name != "run":
        return
    if app.config.get("LOAD_CONTENT_ON_START"):
        load_catalog(app.config["SCENARIOS_DIR"], app.config["RUBRICS_DIR"], app.config.get("OPERATOR"))


def catalog() -> Catalog:
    cfg = current_app.config
    return load_catalog(cfg["SCENARIOS_DIR"], cfg["RUBRICS_DIR"], cfg.get("OPERATOR"))


def _title(model) -> str:
    title = getattr(model, "title", None) or model.id
    if isinstance(title, dict):  # rubrics carry a title per language
        title = title.get("zh-CN") or next(iter(title.values()), model.id)
    return str(title)[:200]


def _upsert_version(model_cls, id_field: str, entry, extra_key: dict) -> tuple[object, bool]:
    """Get or create the version row for this file content; make it the current one."""
    ident = getattr(entry.model, "id")
    filters = [getattr(model_cls, id_field) == ident] + [getattr(model_cls, k) == v for k, v in extra_key.items()]
    rows = db.session.scalars(select(model_cls).where(*filters)).all()
    row = next((r for r in rows if r.content_hash == entry.content_hash), None)
    created = row is None
    next_version = max((r.version for r in rows), default=0) + 1
    if getattr(row, "is_draft", False):
        # The file now holds content first played as a draft: it becomes a published version.
        row.is_draft, row.version, created = False, max(next_version, 1), True
    if created and row is None:
        row = model_cls(
            **{id_field: ident}, **extra_key,
            version=max(next_version, 1),
            content_hash=entry.content_hash,
            title=_title(entry.model),
            source_path=str(entry.path),
            data=entry.raw,
        )
        db.session.add(row)
    for r in rows:
        r.is_current = r is row
    row.is_current = True
    return row, created


def sync_versions(cat: Catalog | None = None) -> dict[str, int]:
    """Store a version row for every scenario and rubric file whose content is new. Commits.

    A scenario file gives one version row per language it holds (its own and each of its
    `translations`); a language's row changes only when that language's content does.

    Returns counts: {"scenarios": n_files, "rubrics": n_files, "new_versions": k}.
    """
    cat = cat or catalog()
    new = 0
    for entry in cat.of_kind("scenario"):
        _, created = _upsert_version(ScenarioVersion, "scenario_id", entry, {"language": entry.model.language})
        new += created
    for entry in cat.of_kind("rubric"):
        _, created = _upsert_version(RubricVersion, "rubric_id", entry, {})
        new += created
    db.session.commit()
    return {"scenarios": len({e.path for e in cat.of_kind("scenario")}), "rubrics": len(cat.of_kind("rubric")), "new_versions": new}


def scenario_version(scenario_id: str, language: str) -> ScenarioVersion:
    """The version row for the scenario file as it is now (created if the file changed)."""
    entry = catalog().find("scenario", scenario_id, language)
    if entry is None:
        raise LookupError(f"no scenario {scenario_id!r} in language {language!r}")
    row, _ = _upsert_version(ScenarioVersion, "scenario_id", entry, {"language": language})
    db.session.flush()
    return row


def rubric_version(rubric_id: str) -> RubricVersion:
    entry = catalog().find("rubric", rubric_id)
    if entry is None:
        raise LookupError(f"no rubric {rubric_id!r}")
    row, _ = _upsert_version(RubricVersion, "rubric_id", entry, {})
    db.session.flush()
    return row

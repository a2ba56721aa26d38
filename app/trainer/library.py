"""Trainer pages: the scenario library (registered on the trainer blueprint).

Every scenario and rubric in the content folders as a readable page, each with the
validator's verdict. The catalog is `current_catalog`, faults included, rather than
`app.services.content.catalog()`, which refuses faulty content: the library is where a
trainer sees those faults (``file: field: reason``) instead of an error page.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import abort, current_app, render_template

from app.core.catalog import Catalog, Entry
from app.core.datafiles import Fault
from app.i18n import content_language
from app.services.content import current_catalog
from app.trainer.routes import bp


@dataclass
class Item:
    entry: Entry
    faults: list[Fault]

    @property
    def model(self):
        return self.entry.model


def _catalog() -> Catalog:
    cfg = current_app.config
    return current_catalog(cfg["SCENARIOS_DIR"], cfg["RUBRICS_DIR"], cfg.get("OPERATOR"))


def _key(path) -> str:
    return str(Path(path).resolve())


def _split(cat: Catalog) -> tuple[dict[str, list[Item]], list[Fault]]:
    """Scenario and rubric entries with the faults of their own file; faults of files
    that did not load at all (or of other kinds) come back on their own."""
    by_file: dict[str, list[Fault]] = {}
    for f in cat.faults:
        by_file.setdefault(_key(f.file) if f.file and not f.file.startswith("<") else f.file, []).append(f)
    items: dict[str, list[Item]] = {"scenario": [], "rubric": []}
    claimed = set()
    for kind in items:
        for e in cat.of_kind(kind):
            k = _key(e.path)
            claimed.add(k)
            items[kind].append(Item(e, by_file.get(k, [])))
    items["scenario"].sort(key=lambda i: (i.model.id, i.model.language))
    items["rubric"].sort(key=lambda i: i.model.id)
    loose = [f for k, faults in by_file.items() if k not in claimed for f in faults]
    return items, loose


def _faults_named(loose: list[Fault], stem: str) -> list[Fault]:
    return [f for f in loose if Path(f.file).stem == stem]


@bp.route("/library")
def library():
    items, loose = _split(_catalog())
    return render_template("trainer/library.html", scenarios=items["scenario"], rubrics=items["rubric"],
                           loose=loose, lang=content_language())


@bp.route("/library/scenario/<scenario_id>/<language>")
def library_scenario(scenario_id: str, language: str):
    """A scenario file as a page; a file that fails validation shows its faults; 404 when
    no file has this id."""
    items, loose = _split(_catalog())
    item = next((i for i in items["scenario"] if (i.model.id, i.model.language) == (scenario_id, language)), None)
    if item is None:
        faults = _faults_named(loose, scenario_id)
        if not faults:
            abort(404)
        return render_template("trainer/library_broken.html", name=scenario_id, faults=faults)
    return render_template("trainer/library_scenario.html", item=item, s=item.entry.raw)


@bp.route("/library/rubric/<rubric_id>")
def library_rubric(rubric_id: str):
    """A rubric file as a page (dimensions, criteria, tips); faults as for scenarios."""
    items, loose = _split(_catalog())
    item = next((i for i in items["rubric"] if i.model.id == rubric_id), None)
    if item is None:
        faults = _faults_named(loose, rubric_id)
        if not faults:
            abort(404)
        return render_template("trainer/library_broken.html", name=rubric_id, faults=faults)
    lang = content_language()
    raw = item.entry.raw
    criteria = {d["id"]: [c for c in raw["criteria"] if c["dimension"] == d["id"]] for d in raw["dimensions"]}
    return render_template("trainer/library_rubric.html", item=item, r=raw, criteria=criteria, lang=lang)

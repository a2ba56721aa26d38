"""Scenarios written and changed in the browser: drafts, play-tests, publishing.

A draft (ScenarioDraft) holds the YAML text and the two agent scripts; saving one changes
nothing a trainee sees. A play-test plays the draft's content as a draft version row
(`ScenarioVersion.is_draft`, never current) in a drill of mode `playtest`, which every
trainee list, statistic, certification and export leaves out. Publishing checks the draft
as `flask scenarios validate` would, plays both scripts under every persona (the
excellent one must resolve the call, the poor one must not), then writes the scenario file
and its scripts into the content folders, so the catalog, the validator and the test suite
see a published scenario exactly like one written by hand, and stores it as the next
ScenarioVersion (is_current moves; earlier drills keep the version they were played on).
Every save, play-test and publish is audited.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from app.core import authoring
from app.core.agent_scripts import script_path
from app.core.datafiles import Fault
from app.core.operators import load_operators
from app.core.scaffold import scaffold_texts
from app.core.scenario import ID_RE
from app.extensions import db
from app.models import Drill, ScenarioDraft, ScenarioVersion
from app.models.base import utcnow
from app.services import audit, content, drills
from app.services.engines import engine_for

OPEN = "draft"


class AuthoringError(Exception):
    """A request the editor refuses; `code` picks the message shown, `faults` lists what is
    wrong with the draft (file, field, reason), `status` is the HTTP status."""

    def __init__(self, code: str, message: str, faults: list[Fault] | None = None, status: int = 400, **params):
        super().__init__(message)
        self.code, self.faults, self.status, self.params = code, list(faults or []), status, params


@dataclass
class ListedScenario:
    scenario_id: str
    language: str
    title: str
    version: int | None
    draft: ScenarioDraft | None


def _cfg():
    return current_app.config


def _catalog():
    cfg = _cfg()
    return content.current_catalog(cfg["SCENARIOS_DIR"], cfg["RUBRICS_DIR"], cfg.get("OPERATOR"))


def scenario_list() -> tuple[list[ListedScenario], list[ScenarioDraft]]:
    """The scenarios in the content folder (each with its current version number and open
    draft, if any) and the open drafts of scenarios not published yet."""
    drafts = {(d.scenario_id, d.language): d for d in db.session.scalars(
        select(ScenarioDraft).where(ScenarioDraft.status == OPEN).order_by(ScenarioDraft.id))}
    versions = dict(db.session.execute(
        select(ScenarioVersion.scenario_id + "/" + ScenarioVersion.language, ScenarioVersion.version)
        .where(ScenarioVersion.is_current.is_(True), ScenarioVersion.is_draft.is_(False))).all())
    listed = []
    for e in sorted(_catalog().of_kind("scenario"), key=lambda e: (e.model.id, e.model.language)):
        key = (e.model.id, e.model.language)
        listed.append(ListedScenario(e.model.id, e.model.language, e.model.title,
                                     versions.get(f"{key[0]}/{key[1]}"), drafts.pop(key, None)))
    return listed, list(drafts.values())


def get_draft(draft_id: int) -> ScenarioDraft | None:
    return db.session.get(ScenarioDraft, draft_id)


def _open_draft(scenario_id: str, language: str) -> ScenarioDraft | None:
    return db.session.scalar(select(ScenarioDraft).where(
        ScenarioDraft.scenario_id == scenario_id, ScenarioDraft.language == language, ScenarioDraft.status == OPEN))


def new_draft(user, scenario_id: str, title: str | None = None) -> ScenarioDraft:
    """A draft of a new zh-CN scenario, starting from the scaffold's working example (the
    same as `flask scenarios new`). Refuses a bad id or one that exists. Commits."""
    scenario_id = (scenario_id or "").strip()
    if not ID_RE.match(scenario_id) or len(scenario_id) > 64:
        raise AuthoringError("bad_id", f"{scenario_id!r} is not a scenario id")
    title = " ".join((title or "").split())[:80] or f"新场景 {scenario_id}"
    if _catalog().find("scenario", scenario_id) is not None or db.session.scalar(
            select(ScenarioDraft.id).where(ScenarioDraft.scenario_id == scenario_id)) is not None:
        raise AuthoringError("exists", f"scenario {scenario_id!r} exists already", status=409)
    texts = scaffold_texts(scenario_id, title)
    draft = ScenarioDraft(scenario_id=scenario_id, language="zh-CN", yaml_text=texts["scenario"],
                          good_script=texts["good"], bad_script=texts["bad"], author_id=user.id)
    db.session.add(draft)
    db.session.flush()
    audit.record("scenario_draft_created", user, target=f"draft:{draft.id}", scenario=scenario_id)
    db.session.commit()
    return draft


def edit_draft(user, scenario_id: str, language: str) -> ScenarioDraft:
    """The open draft of a published scenario, started from its file and scripts when there
    is none. LookupError when no such scenario exists. Commits."""
    draft = _open_draft(scenario_id, language)
    if draft is not None:
        return draft
    entry = _catalog().find("scenario", scenario_id, language)
    if entry is None:
        raise LookupError(f"no scenario {scenario_id!r} in {language!r}")
    scripts = {kind: _read(script_path(_cfg()["AGENT_SCRIPTS_DIR"], scenario_id, language, kind))
               for kind in ("good", "bad")}
    base = content.scenario_version(scenario_id, language)
    draft = ScenarioDraft(scenario_id=scenario_id, language=language, yaml_text=entry.path.read_text(encoding="utf-8"),
                          good_script=scripts["good"], bad_script=scripts["bad"], base_version_id=base.id,
                          author_id=user.id)
    db.session.add(draft)
    db.session.flush()
    audit.record("scenario_draft_created", user, target=f"draft:{draft.id}", scenario=scenario_id,
                 base_version=base.version)
    db.session.commit()
    return draft


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def _check_sizes(yaml_text: str, good: str, bad: str) -> None:
    if len(yaml_text.encode("utf-8", "surrogatepass")) > authoring.MAX_DRAFT_BYTES:
        raise AuthoringError("too_large", "the scenario text is too large", status=413,
                             limit=authoring.MAX_DRAFT_BYTES)
    if max(len(good.encode("utf-8", "surrogatepass")), len(bad.encode("utf-8", "surrogatepass"))) \
            > authoring.MAX_SCRIPT_BYTES:
        raise AuthoringError("too_large", "an agent script is too large", status=413, limit=authoring.MAX_SCRIPT_BYTES)


def save_draft(draft: ScenarioDraft, user, yaml_text: str, good: str, bad: str) -> list[Fault]:
    """Store the texts (a draft may be broken: nothing is published) and return its faults.
    Refuses a published draft (409) and texts past the size limits (413). Commits."""
    if draft.status != OPEN:
        raise AuthoringError("published", "this draft is published already; edit the scenario again", status=409)
    yaml_text, good, bad = (_normalise(t) for t in (yaml_text, good, bad))
    _check_sizes(yaml_text, good, bad)
    changed = (yaml_text, good, bad) != (draft.yaml_text, draft.good_script, draft.bad_script)
    draft.yaml_text, draft.good_script, draft.bad_script = yaml_text, good, bad
    faults = check(draft).faults
    if changed:
        draft.updated_at = utcnow()
        audit.record("scenario_draft_saved", user, target=f"draft:{draft.id}", scenario=draft.scenario_id,
                     faults=len(faults))
    db.session.commit()
    return faults


def _normalise(text: str | None) -> str:
    # Browsers send CRLF from a textarea; the file keeps LF like every other file.
    return (text or "").replace("\r\n", "\n").replace("\r", "\n")


def check(draft: ScenarioDraft, yaml_text: str | None = None, good: str | None = None,
          bad: str | None = None) -> authoring.DraftCheck:
    """The draft's faults (or those of texts typed into it, not yet saved)."""
    cfg = _cfg()
    return authoring.check_draft(
        _normalise(draft.yaml_text if yaml_text is None else yaml_text), draft.scenario_id, draft.language,
        _catalog(), cfg.get("OPERATOR"), sorted(load_operators()),
        good=_normalise(draft.good_script if good is None else good),
        bad=_normalise(draft.bad_script if bad is None else bad))


def _checked(draft: ScenarioDraft) -> authoring.DraftCheck:
    result = check(draft)
    if not result.ok:
        raise AuthoringError("faults", "the draft has faults", faults=result.faults)
    return result


def _draft_version(draft: ScenarioDraft, result: authoring.DraftCheck) -> ScenarioVersion:
    """The version row of the draft's content: the published one when the content is the
    same, else a draft row numbered below zero (never current)."""
    rows = db.session.scalars(select(ScenarioVersion).where(
        ScenarioVersion.scenario_id == draft.scenario_id, ScenarioVersion.language == draft.language)).all()
    row = next((r for r in rows if r.content_hash == result.content_hash), None)
    if row is None:
        row = ScenarioVersion(
            scenario_id=draft.scenario_id, language=draft.language,
            version=min(min((r.version for r in rows), default=0), 0) - 1,
            content_hash=result.content_hash, title=str(result.model.title)[:200],
            source_path=f"draft:{draft.id}", data=result.raw, is_current=False, is_draft=True)
        db.session.add(row)
        db.session.flush()
    return row


def start_playtest(draft: ScenarioDraft, user, persona: str | None = None) -> Drill:
    """A play-test drill of the draft's content against the scripted customer, as a trainee
    would play it (first persona unless one is named). Refuses a draft with faults. Commits."""
    if draft.status != OPEN:
        raise AuthoringError("published", "this draft is published already", status=409)
    result = _checked(draft)
    personas = [p.id for p in result.model.personas]
    persona = persona if persona in personas else personas[0]
    version = _draft_version(draft, result)
    audit.record("scenario_playtest_started", user, target=f"draft:{draft.id}", scenario=draft.scenario_id,
                 persona=persona)
    db.session.flush()
    return drills.start_drill(user, draft.scenario_id, draft.language, persona, "scripted", mode="playtest",
                              version=version)


def playtests(draft: ScenarioDraft, limit: int = 10) -> list[Drill]:
    """The newest play-test drills of the draft's scenario."""
    return list(db.session.scalars(
        select(Drill).join(ScenarioVersion, Drill.scenario_version_id == ScenarioVersion.id)
        .where(Drill.mode == "playtest", ScenarioVersion.scenario_id == draft.scenario_id,
               ScenarioVersion.language == draft.language)
        .order_by(Drill.id.desc()).limit(limit)))


def playtest_drill(user, drill_id: int) -> Drill | None:
    """The user's own play-test drill, or None (views answer 404)."""
    return db.session.scalar(select(Drill).where(Drill.id == drill_id, Drill.trainee_id == user.id,
                                                 Drill.mode == "playtest"))


def publish(draft: ScenarioDraft, user) -> ScenarioVersion:
    """Check the draft, play its scripts, write the scenario file and its scripts, and make
    it the scenario's next current version (audited). AuthoringError with the faults when
    the draft is not valid or a script goes the wrong way; nothing is written then. Commits."""
    # The row lock makes two publishes of one draft (a double click) one after the other:
    # the second sees it published.
    db.session.execute(select(ScenarioDraft.id).where(ScenarioDraft.id == draft.id).with_for_update())
    db.session.refresh(draft)
    if draft.status != OPEN:
        raise AuthoringError("published", "this draft is published already", status=409)
    result = _checked(draft)
    runs = authoring.play_scripts(result.model, lambda _lang: engine_for("scripted"), draft.good_script,
                                  draft.bad_script, _cfg().get("OPERATOR"))
    faults = authoring.script_faults(runs, draft.scenario_id, draft.language)
    if faults:
        raise AuthoringError("scripts", "the agent scripts do not play as they should", faults=faults)
    cfg = _cfg()
    sdir = Path(cfg["SCENARIOS_DIR"])
    target = sdir / f"{draft.scenario_id}.yaml"  # one file, every language
    entry = _catalog().find("scenario", draft.scenario_id, draft.language)
    if entry is not None:
        target = entry.path  # an edited scenario stays where it is
    _write(script_path(cfg["AGENT_SCRIPTS_DIR"], draft.scenario_id, draft.language, "good"), draft.good_script)
    _write(script_path(cfg["AGENT_SCRIPTS_DIR"], draft.scenario_id, draft.language, "bad"), draft.bad_script)
    _write(target, draft.yaml_text)
    version = content.scenario_version(draft.scenario_id, draft.language)
    draft.status, draft.published_version_id, draft.updated_at = "published", version.id, utcnow()
    audit.record("scenario_published", user, target=f"{draft.scenario_id}/{draft.language}",
                 version=version.version, draft=draft.id)
    db.session.commit()
    return version


def _write(path: Path, text: str) -> None:
    """Replace the file in one step: a reader (another worker's catalog) sees the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(text.encode("utf-8"))  # exactly the checked text: its hash is the version's
    os.replace(tmp, path)


def version_count(scenario_id: str, language: str) -> int:
    return db.session.scalar(select(func.count()).select_from(ScenarioVersion).where(
        ScenarioVersion.scenario_id == scenario_id, ScenarioVersion.language == language,
        ScenarioVersion.is_draft.is_(False))) or 0

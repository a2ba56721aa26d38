"""Scoring drills and imported real calls, and who may see a drill's report.

The scorer itself lives in `app/core/scoring` (no Flask); this module builds its inputs
from stored rows and stores its output. A drill is always scored against the scenario
version it ran on (`drill.scenario_version.data`), never the file as it is now, and
against the current version of the rubric. Scores are only ever added: re-scoring makes
a new `Score` row beside the old ones.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.core.datafiles import DataFileError, Fault, parse_model
from app.core.scenario import ScenarioBase
from app.core.scoring import ScoreReport, score_transcript
from app.core.transcript import Bounds, TooLarge, Transcript, make_transcript, read_transcript
from app.extensions import db
from app.models import AuditEvent, Cohort, CriterionResult, Drill, Score, ScenarioVersion, Turn, User, cohort_members
from app.models.base import utcnow
from app.services import audit, content
from app.services.engines import analyser_factory

log = logging.getLogger(__name__)

DEFAULT_RUBRIC = "standard-100"
END = "end"  # Score.origin of the score a drill gets when its call ends (or is imported)
IMPORT_ACTION = "transcript_imported"
# Column widths of the rows an import fills; longer values are faults of the file, not crashes.
PERSONA_MAX, AGENT_MAX = 64, 120

_scenarios: dict[str, ScenarioBase] = {}
_scenarios_lock = threading.Lock()


# --- building the scorer's inputs ------------------------------------------------------

def scenario_for_scoring(version: ScenarioVersion) -> ScenarioBase:
    """The scorer's view of a stored scenario version (its contract fields only).

    Parsed once per content hash. Simulation-only keys are dropped, so a later change
    of the simulator's schema cannot make an old version unscoreable.
    """
    key = f"{version.scenario_id}:{version.language}:{version.content_hash}"
    scenario = _scenarios.get(key)
    if scenario is None:
        keep = {k: v for k, v in (version.data or {}).items() if k in ScenarioBase.model_fields}
        scenario = parse_model(ScenarioBase, keep, f"<scenario version {version.id}>")
        with _scenarios_lock:
            _scenarios[key] = scenario
    return scenario


def _turn_meta(turn: Turn) -> dict | None:
    """The turn's `meta`, plus the simulator's mood and call state for customer turns.

    The simulator keeps mood and state in `Turn.state`; the scorer reads them from
    customer-turn meta (`mood_trajectory`, `end_state`), so they are copied there.
    """
    meta = dict(turn.meta or {})
    if turn.speaker == "customer" and isinstance(turn.state, dict):
        for key in ("mood", "state"):
            if key not in meta and turn.state.get(key) is not None:
                meta[key] = turn.state[key]
    return meta or None


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat()


def _turn_time(drill: Drill, turn: Turn) -> str | None:
    # An imported turn that had no `at` is stored at the call's start (the column needs a
    # value); it is exported without one rather than with a time nobody recorded.
    if drill.customer_kind == "import" and turn.created_at == drill.started_at:
        return None
    return _iso(turn.created_at)


def agent_info(drill: Drill) -> dict[str, str]:
    """The transcript's `agent` object: the trainee's login and name, or the external agent."""
    if drill.trainee is not None:
        return {"id": drill.trainee.username, "name": drill.trainee.display_name}
    return {"id": drill.external_agent or "unknown"}


def drill_transcript(drill: Drill) -> Transcript:
    """The drill as a validated transcript/1 document (turn numbers = stored positions).

    Raises DataFileError (file ``<drill N>``) for a drill without turns.
    """
    version = drill.scenario_version
    # Queried, not `drill.turns`: the relationship may be stale after other requests' turns.
    turns = db.session.scalars(select(Turn).where(Turn.drill_id == drill.id).order_by(Turn.position)).all()
    items = []
    for t in turns:
        item: dict[str, Any] = {"speaker": t.speaker, "text": t.text, "at": _turn_time(drill, t)}
        meta = _turn_meta(t)
        if meta is not None:
            item["meta"] = meta
        items.append({k: v for k, v in item.items() if v is not None})
    fields: dict[str, Any] = {"language": version.language, "agent": agent_info(drill),
                              "started_at": _iso(drill.started_at)}
    if drill.persona:
        fields["persona"] = drill.persona
    return make_transcript(version.scenario_id, items, file=f"<drill {drill.id}>", **fields)


def _analyser(language: str) -> Callable[[str], Any]:
    # Reuses the per-process intent model of the drill engines (trained once, cached on disk).
    model = analyser_factory()(language)
    return model.analyse if hasattr(model, "analyse") else model


def _current_rubric(rubric_id: str):
    """(RubricVersion row, parsed Rubric) for the rubric file as it is now."""
    row = content.rubric_version(rubric_id)
    entry = content.catalog().find("rubric", rubric_id)
    return row, entry.model


def _judge(report: ScoreReport, transcript: Transcript, scenario: ScenarioBase, rubric) -> ScoreReport:
    """The report with the optional LLM judge applied, when configured and available.

    A missing judge module, a disabled judge or any judge failure leaves the
    deterministic report standing.
    """
    if not current_app.config.get("LLM_JUDGE_ENABLED") or not current_app.config.get("OPENAI_BASE_URL"):
        return report
    from app.core.scoring.judge import apply_judge

    try:
        from app.services.engines import _llm_client

        prompts_dir = Path(current_app.config["RUBRICS_DIR"]) / "prompts"
        return apply_judge(report, transcript, scenario, rubric, _llm_client(current_app.config),
                           prompts_dir=prompts_dir)
    except Exception:  # the judge is advisory infrastructure; scoring must not fail with it
        log.exception("LLM judge failed; keeping the deterministic score")
        return report


# --- storing scores -------------------------------------------------------------------

def _store_score(drill: Drill, rubric_id: str, actor=None, origin: str | None = None) -> Score:
    """Score the drill and add the Score and CriterionResult rows (not committed)."""
    scenario = scenario_for_scoring(drill.scenario_version)
    transcript = drill_transcript(drill)
    row, rubric = _current_rubric(rubric_id)
    report = score_transcript(transcript, scenario, rubric, _analyser(scenario.language))
    report = _judge(report, transcript, scenario, rubric)
    out = report.to_output()
    score = Score(drill_id=drill.id, rubric_version_id=row.id, scorer_kind=report.scorer,
                  total=out["total"], max_total=out["max"], dimensions=out["dimensions"],
                  flags=out["flags"], report=out, judge=out.get("judge"), origin=origin)
    score.criteria = [
        CriterionResult(position=i, criterion_id=c["id"], dimension=c["dimension"], points=c["score"],
                        max_points=c["max"], evidence=c["evidence"], feedback=c["feedback"])
        for i, c in enumerate(out["criteria"])
    ]
    db.session.add(score)
    db.session.flush()
    # `turns`: how many turns the score read, so a turn stored but left out shows.
    audit.record("drill_scored", actor, f"drill:{drill.id}", score_id=score.id, total=score.total,
                 rubric=rubric_id, rubric_version=row.version, flags=[f["id"] for f in out["flags"]],
                 turns=len(transcript.turns), origin=origin)
    return score


def score_drill(drill: Drill, rubric_id: str = DEFAULT_RUBRIC, actor=None, origin: str | None = None) -> Score:
    """Score a drill and store the result as a new Score row; commits and returns it.

    Uses the drill's own scenario version and the rubric's current version. Earlier
    scores of the drill are left untouched. Raises DataFileError for a drill without
    turns and LookupError for an unknown rubric; nothing is stored then. `origin` END
    marks the drill's one end-of-call score (IntegrityError if it already has one).
    """
    try:
        score = _store_score(drill, rubric_id, actor, origin)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return score


def stage_score(drill: Drill, rubric_id: str = DEFAULT_RUBRIC, actor=None, origin: str | None = None) -> Score:
    """`score_drill` without the commit, for a caller that commits the score with rows of
    its own (a re-score job finishes its item in the same transaction). The caller rolls
    back on an exception."""
    return _store_score(drill, rubric_id, actor, origin)


def current_rubric_version_id(rubric_id: str = DEFAULT_RUBRIC) -> int:
    """The id of the rubric's current version row (new scores are made under it)."""
    return _current_rubric(rubric_id)[0].id


class ScoringPending(Exception):
    """Another request is computing the drill's end score and did not finish in time."""


# How long a request that finds another one scoring the drill waits for its score (within
# gunicorn's 30 s timeout), and how often it looks.
SCORING_WAIT_SECONDS = 20.0
_SCORING_POLL_SECONDS = 0.05


def score_on_end(drill: Drill, wait: float = SCORING_WAIT_SECONDS) -> Score:
    """The drill's end-of-call score: the stored one, or made, stored and committed now.

    However many requests ask at once (parallel "end" clicks, the timer, the report
    page), one of them runs the scorer: the one holding `locks.scoring_lock`; the others
    wait up to `wait` seconds for its score and return it. The lock dies with its holder,
    so a scorer that failed or was killed leaves the next request free to score at once.
    Commits. Raises like `score_drill` (nothing stored then), or ScoringPending when the
    wait runs out.
    """
    from app.services.locks import scoring_lock

    drill_id = drill.id
    deadline = time.monotonic() + wait
    while True:
        stored = _end_score(drill_id)
        if stored is not None:
            return stored
        with scoring_lock(drill_id) as mine:
            if mine:
                # The holder before us may have stored it between our look and our lock.
                return _end_score(drill_id) or _score_end(drill)
        if time.monotonic() >= deadline:
            raise ScoringPending(f"drill {drill_id} is being scored by another request")
        time.sleep(_SCORING_POLL_SECONDS)


def _score_end(drill: Drill) -> Score:
    try:
        return score_drill(drill, origin=END)
    except IntegrityError:
        # Stored by a request that did not take the lock (an import; a system without flock).
        won = _end_score(drill.id)
        if won is None:  # not the race this guards against
            raise
        log.info("drill %s was scored by another request at the same time", drill.id)
        return won


def _end_score(drill_id: int) -> Score | None:
    return db.session.scalar(select(Score).where(Score.drill_id == drill_id, Score.origin == END))


def latest_score(drill: Drill) -> Score | None:
    """The drill's most recent machine score, or None when it has not been scored."""
    return db.session.scalar(select(Score).where(Score.drill_id == drill.id).order_by(Score.id.desc()).limit(1))


# --- importing real calls --------------------------------------------------------------

def known_scenarios() -> set[str]:
    return {e.model.id for e in content.catalog().of_kind("scenario")}


def _version_for(transcript: Transcript) -> ScenarioVersion:
    """The current scenario version a transcript is scored against: the translation in
    its language when there is one, else the Chinese original, else any language."""
    cat = content.catalog()
    langs = [e.model.language for e in cat.of_kind("scenario") if e.model.id == transcript.scenario]
    wanted = (transcript.language or "").split("-")[0]
    lang = next((lg for lg in langs if wanted and not wanted.startswith("zh") and lg == wanted), None)
    lang = lang or ("zh-CN" if "zh-CN" in langs else sorted(langs)[0])
    return content.scenario_version(transcript.scenario, lang)


def _parse_time(value: str | None, default: datetime) -> datetime:
    if not value:
        return default
    moment = datetime.fromisoformat(value)
    # A time without zone is read as UTC: the format recommends a zone, the database needs one.
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def upload_bounds() -> Bounds:
    """The size limits of one imported file (IMPORT_MAX_BYTES, IMPORT_MAX_TURNS,
    IMPORT_MAX_TURN_CHARS): what one request can afford to parse, store and score."""
    config = current_app.config
    return Bounds(int(config.get("IMPORT_MAX_BYTES") or 0), int(config.get("IMPORT_MAX_TURNS") or 0),
                  int(config.get("IMPORT_MAX_TURN_CHARS") or 0))


def too_large_message(exc: TooLarge) -> str:
    """What a trainer reads when a file is over a limit, in the interface language."""
    limit, count = format(exc.limit, ","), format(exc.actual or 0, ",")
    if exc.what == "bytes":
        size = format(exc.limit // 1024, ",") + " KB"
        return _("The file is larger than %(size)s, the most accepted per file.", size=size)
    if exc.what == "turns":
        return _("The file has %(count)s turns; at most %(limit)s are accepted per file.", count=count, limit=limit)
    return _("Turn %(number)s has %(count)s characters; at most %(limit)s are accepted per turn.",
             number=exc.turn, count=count, limit=limit)


def read_upload(raw_bytes: bytes, filename: str) -> Transcript:
    """Validate an uploaded transcript/1 file; DataFileError names file and JSON path.

    A file over `upload_bounds` is refused before it is parsed whole (bytes) or modelled
    (turns, turn length), with a fault in the interface language naming the limit.
    """
    try:
        transcript = read_transcript(raw_bytes, known_scenarios(), name=filename, bounds=upload_bounds())
    except TooLarge as exc:
        raise DataFileError([Fault(filename, exc.field, too_large_message(exc))]) from None
    if transcript.persona and len(transcript.persona) > PERSONA_MAX:
        raise DataFileError([Fault(filename, "persona", f"longer than {PERSONA_MAX} characters")])
    return transcript


def import_transcript(raw_bytes: bytes, filename: str, uploader, trainee: User | None = None,
                      external_agent: str | None = None, rubric_id: str = DEFAULT_RUBRIC) -> Drill:
    """Store a real call's transcript as an ended `import` drill, score it, commit.

    All or nothing: an invalid file raises DataFileError (faults name the file and the
    JSON path) and any failure while storing or scoring rolls back, so nothing of the
    file is kept. Exactly one of `trainee` and `external_agent` names whose call it is.
    """
    try:
        drill, _score = stage_import(raw_bytes, filename, uploader, trainee, external_agent, rubric_id)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return drill


def stage_import(raw_bytes: bytes, filename: str, uploader, trainee: User | None = None,
                 external_agent: str | None = None, rubric_id: str = DEFAULT_RUBRIC) -> tuple[Drill, Score]:
    """`import_transcript` without the commit: the drill, its turns, the audit row and the
    score are added and flushed, for a caller that commits them with rows of its own (a
    batch job marks its item done in the same transaction). Raises like `import_transcript`;
    the caller rolls back."""
    if (trainee is None) == (not external_agent):
        raise ValueError("give either a trainee or an external agent name")
    if external_agent and len(external_agent) > AGENT_MAX:
        raise ValueError(f"the external agent name is longer than {AGENT_MAX} characters")
    transcript = read_upload(raw_bytes, filename)
    now = utcnow()
    started = _parse_time(transcript.started_at, now)
    drill = Drill(trainee_id=trainee.id if trainee else None, external_agent=external_agent or None,
                  scenario_version_id=_version_for(transcript).id, persona=transcript.persona,
                  customer_kind="import", mode="practice", status="ended", started_at=started,
                  ended_at=now)
    drill.turns = [Turn(position=i, speaker=t.speaker, text=t.text, meta=t.meta,
                        created_at=_parse_time(t.at, started)) for i, t in enumerate(transcript.turns)]
    db.session.add(drill)
    db.session.flush()
    audit.record(IMPORT_ACTION, uploader, f"drill:{drill.id}", file=filename,
                 scenario=transcript.scenario, turns=len(transcript.turns),
                 trainee=trainee.username if trainee else None, external_agent=external_agent or None)
    score = _store_score(drill, rubric_id, uploader, END)
    return drill, score


@dataclass
class ImportResult:
    """One uploaded file's outcome: the stored drill and its score, or the faults."""

    file: str
    drill: Drill | None = None
    score: Score | None = None
    faults: list[str] = field(default_factory=list)
    # The same faults as objects, for the page to say them in plain words (app/core/fault_words.py).
    fault_items: list[Fault] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.drill is not None


def import_files(files: list[tuple[str, bytes]], uploader, trainee: User | None = None,
                 external_agent: str | None = None) -> list[ImportResult]:
    """Import each (name, bytes) on its own: a bad file is reported and skipped, the
    others are stored. Each file is all or nothing (see `import_transcript`)."""
    results = []
    for name, raw in files:
        try:
            drill = import_transcript(raw, name, uploader, trainee, external_agent)
        except DataFileError as exc:
            results.append(ImportResult(name, faults=[str(f) for f in exc.faults], fault_items=list(exc.faults)))
        except Exception:  # one broken file must not lose the report on the rest of the batch
            log.exception("importing %s failed", name)
            fault = Fault(name, "", "could not be imported (internal error)")
            results.append(ImportResult(name, faults=[str(fault)], fault_items=[fault]))
        else:
            results.append(ImportResult(name, drill, latest_score(drill)))
    return results


# --- who sees what ---------------------------------------------------------------------

def drill_for_trainee(user, drill_id: int) -> Drill | None:
    """The drill if it is this trainee's own; None otherwise (views answer 404)."""
    return db.session.scalar(select(Drill).where(Drill.id == drill_id, Drill.trainee_id == user.id))


def led_member_ids(trainer):
    """A subquery of the ids of people in any cohort this trainer leads (each once,
    however many of the trainer's cohorts they are in)."""
    return (select(cohort_members.c.user_id).join(Cohort, Cohort.id == cohort_members.c.cohort_id)
            .where(Cohort.trainer_id == trainer.id))


def cohort_trainees(trainer) -> list[User]:
    """Trainees in the cohorts this trainer leads, by name, each once."""
    return list(db.session.scalars(
        select(User).where(User.id.in_(led_member_ids(trainer)), User.role == "trainee").order_by(User.username)))


def drill_for_trainer(user, drill_id: int) -> Drill | None:
    """The drill if a trainee of this trainer's cohorts did it, or if it is an imported
    call of an external agent this trainer uploaded; None otherwise (views answer 404)."""
    drill = db.session.get(Drill, drill_id)
    if drill is None:
        return None
    if drill.trainee is not None:
        return drill if any(c.trainer_id == user.id for c in drill.trainee.cohorts) else None
    uploaded = db.session.scalar(select(AuditEvent.id).where(
        AuditEvent.action == IMPORT_ACTION, AuditEvent.target == f"drill:{drill.id}",
        AuditEvent.actor_id == user.id).limit(1))
    return drill if uploaded is not None else None


def previous_attempts(drill: Drill, limit: int = 20) -> list[tuple[Drill, Score | None]]:
    """The same agent's other drills of the same scenario (any version), newest first,
    each with its latest score (None when not scored)."""
    who = (Drill.trainee_id == drill.trainee_id) if drill.trainee_id else (Drill.external_agent == drill.external_agent)
    drills = db.session.scalars(
        select(Drill).join(ScenarioVersion, Drill.scenario_version_id == ScenarioVersion.id)
        .where(who, Drill.id != drill.id, Drill.mode != "playtest",
               ScenarioVersion.scenario_id == drill.scenario_version.scenario_id)
        .order_by(Drill.started_at.desc(), Drill.id.desc()).limit(limit)).all()
    return [(d, latest_score(d)) for d in drills]


def recent_drills_for_trainer(trainer, limit: int = 30) -> list[tuple[Drill, Score | None]]:
    """Ended drills of the trainer's cohort trainees and the external calls they
    uploaded, newest first, each with its latest score."""
    trainee_ids = [u.id for u in cohort_trainees(trainer)]
    uploaded = [int(t.split(":", 1)[1]) for t in db.session.scalars(select(AuditEvent.target).where(
        AuditEvent.action == IMPORT_ACTION, AuditEvent.actor_id == trainer.id))]
    if not trainee_ids and not uploaded:
        return []
    drills = db.session.scalars(
        select(Drill).where(Drill.status == "ended", Drill.mode != "playtest", Drill.trainee_id.in_(trainee_ids)
               | (Drill.id.in_(uploaded) & Drill.trainee_id.is_(None)))
        .order_by(Drill.started_at.desc(), Drill.id.desc()).limit(limit)).all()
    return [(d, latest_score(d)) for d in drills]

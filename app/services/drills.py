"""Drills: start a call, end it, and the queries and checks its turns use (the turns
themselves, agent and customer, are in app.services.drill_turns).

Every function here commits what it promises before it returns (or before it yields the
first customer chunk), so the database alone holds a drill's progress and any worker can
serve its next turn. The agent's turn is committed before the customer's reply is
computed: a crash or an engine failure never loses what the trainee said, and the next
request answers the dangling turn instead of storing it twice.
"""
from __future__ import annotations

import logging
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import aliased, contains_eager

from app.extensions import db
from app.models import Drill, ScenarioVersion, Turn
from app.models.base import utcnow
from app.services.content import catalog, scenario_version
from app.services.engines import available_kinds, engine_for, scenario_of_version
from app.services.locks import lock_user

log = logging.getLogger(__name__)

# `playtest`: a trainer playing a draft scenario (app/services/authoring.py); such drills
# are kept out of every trainee list, statistic, certification and export
# (`Drill.mode != "playtest"` in their queries).
MODES = ("practice", "test", "playtest")
# A test drill's clock binds on the server too: the page ends the call at zero, and a turn
# sent later than this past the limit (a client that ignores the timer) ends it instead.
TIME_GRACE = timedelta(seconds=30)
SEED_MAX = 2**31 - 1


class DrillError(Exception):
    """A request the drill cannot take. `code` names the case for translated messages;
    `status` is the HTTP status a view should answer with."""

    status = 400

    def __init__(self, code: str, message: str, **params: Any):
        super().__init__(message)
        self.code, self.message, self.params = code, message, params


class DrillConflict(DrillError):
    """The drill moved on (ended, or another request sent a turn): reload and continue."""

    status = 409


class TooManyRequests(DrillError):
    """More drill starts or turns in the window than the configured limit allows."""

    status = 429


class CustomerUnavailable(DrillError):
    """The engine failed; the agent turn is stored and a later request retries the reply."""

    status = 503


@dataclass
class TurnResult:
    """The stored turns of one exchange and the drill's status after it."""

    drill: Drill
    agent: Turn | None
    customer: Turn | None

    @property
    def turns(self) -> list[Turn]:
        return [t for t in (self.agent, self.customer) if t is not None]

    @property
    def ended(self) -> bool:
        return self.drill.status == "ended"


# --- input ------------------------------------------------------------------------------

_SPACE = re.compile(r"\s+")


def clean_turn_text(text: Any, max_chars: int | None = None) -> str:
    """The agent's text with control characters removed and whitespace collapsed.

    Raises DrillError `not_text`, `empty` or `too_long` (over MAX_TURN_CHARS after cleaning).
    """
    if max_chars is None:
        max_chars = int(current_app.config.get("MAX_TURN_CHARS", 2000))
    if not isinstance(text, str):
        raise DrillError("not_text", "the turn must be a text string")
    # Line breaks and tabs become spaces (an utterance is one line); other control
    # characters (NUL, escapes, bidi overrides' C0/C1 kin) are dropped, and so are lone
    # surrogates (a JSON "\ud800"), which no database can store as UTF-8.
    text = "".join(
        " " if ch in "\r\n\t\v\f\u2028\u2029" else ch
        for ch in text
        if ch in "\r\n\t\v\f\u2028\u2029" or unicodedata.category(ch) not in ("Cc", "Cs")
    )
    text = _SPACE.sub(" ", text).strip()
    if not text:
        raise DrillError("empty", "the turn is empty")
    if len(text) > max_chars:
        raise DrillError("too_long", f"the turn is longer than {max_chars} characters", max_chars=max_chars)
    return text


# --- queries ------------------------------------------------------------------------------

def drill_for_trainee(trainee_id: int, drill_id: int) -> Drill | None:
    """The drill if it exists and belongs to this trainee; None otherwise (views answer 404)."""
    return db.session.scalar(select(Drill).where(Drill.id == drill_id, Drill.trainee_id == trainee_id))


def recent_drills(trainee_id: int, limit: int = 20) -> list[Drill]:
    """The trainee's newest drills, discarded ones left out."""
    return list(db.session.scalars(
        select(Drill).where(Drill.trainee_id == trainee_id, Drill.status != "discarded", Drill.mode != "playtest")
        .order_by(Drill.started_at.desc(), Drill.id.desc())
        .limit(limit)
    ))


def turns_of(drill: Drill) -> list[Turn]:
    """The drill's turns as stored now (not a possibly stale relationship collection)."""
    return list(db.session.scalars(select(Turn).where(Turn.drill_id == drill.id).order_by(Turn.position)))


def turn_at(drill: Drill, position: int) -> Turn | None:
    return db.session.scalar(select(Turn).where(Turn.drill_id == drill.id, Turn.position == position))


def _drill_with_last_turn():
    # The drill's row, its scenario version's key (what a reply needs) and its last turn
    # (none for a drill without turns), as one row; fresh even if the session holds them.
    return (
        select(Drill, Turn).join(Drill.scenario_version).outerjoin(Turn, Turn.drill_id == Drill.id)
        .options(contains_eager(Drill.scenario_version).load_only(
            ScenarioVersion.scenario_id, ScenarioVersion.language, ScenarioVersion.content_hash))
        .order_by(Turn.position.desc()).limit(1)
        .execution_options(populate_existing=True)
    )


# Built once with bound parameters: every turn request runs one of these, and building
# the joined, eager-loading SELECT each time was a third of its CPU (own_drill_and_last_turn
# 2.4 -> 1.5 ms CPU in a profiled run of the turn route).
_LAST_TURN = _drill_with_last_turn().where(Drill.id == bindparam("drill_id"))
_OWN_LAST_TURN = _drill_with_last_turn().where(Drill.id == bindparam("drill_id"),
                                               Drill.trainee_id == bindparam("trainee_id"))


def last_turn(drill: Drill) -> Turn:
    """The drill's last turn, read in one SELECT together with the drill's row and its
    scenario version's key, which refresh `drill` (its status as committed now)."""
    row = db.session.execute(_LAST_TURN, {"drill_id": drill.id}).first()
    return row[1] if row is not None else None


def own_drill_and_last_turn(trainee_id: int, drill_id: int) -> tuple[Drill, Turn | None] | None:
    """(drill, its last turn) if the drill belongs to this trainee, else None (views answer
    404): a turn request's ownership check and its only read, in one SELECT."""
    row = db.session.execute(_OWN_LAST_TURN, {"drill_id": drill_id, "trainee_id": trainee_id}).first()
    return (row[0], row[1]) if row is not None else None


def resume_state(drill: Drill, before: int | None = None) -> dict:
    """The simulator state after the last answered turn (before position `before`, if
    given): what the next reply starts from. Only customer turns carry a state."""
    query = select(Turn.state).where(Turn.drill_id == drill.id, Turn.state.is_not(None))
    if before is not None:
        query = query.where(Turn.position < before)
    state = db.session.scalar(query.order_by(Turn.position.desc()).limit(1))
    if state is None:
        scenario = scenario_of(drill)
        if scenario.direction == "outbound":
            return opening_state(drill, scenario)
        raise LookupError(f"drill {drill.id} has no stored simulator state")
    return state


def opening_state(drill: Drill, scenario) -> dict:
    """The simulator state an outbound call starts from, before the agent's first turn.

    An outbound drill stores no opening turn (the agent speaks first, and a transcript
    holds no empty customer line); the state is made again instead: with no customer
    line rendered it is a function of the scenario version, persona, seed and customer
    kind alone (and the LLM engine makes no call for it).
    """
    _text, state, _events = engine_for(drill.customer_kind).start_turn(scenario, drill.persona, drill.seed)
    return state


def pending_agent_turn(drill: Drill) -> Turn | None:
    """The last turn if it is an agent turn of an active drill still waiting for its reply."""
    last = last_turn(drill)
    return last if last is not None and last.speaker == "agent" and drill.status == "active" else None


def scenario_of(drill: Drill):
    """The typed scenario of the exact version the drill was started on."""
    return scenario_of_version(drill.scenario_version)


def scenarios_in(language: str) -> list:
    """The playable scenarios of a language, easiest first."""
    entries = [e.model for e in catalog().of_kind("scenario") if e.model.language == language]
    return sorted(entries, key=lambda s: (s.difficulty, s.title))


def scenario_languages(scenario_id: str) -> list[str]:
    """The languages a scenario exists in (one file each), zh-CN first."""
    langs = {e.model.language for e in catalog().of_kind("scenario") if e.model.id == scenario_id}
    return sorted(langs, key=lambda lang: (lang != "zh-CN", lang))


def drill_language(scenario_id: str, asked: str | None, centre: str) -> str | None:
    """The language a new drill of this scenario is played in: the one asked for when the
    scenario exists in it, else the centre's, else the scenario's first; None when the
    scenario does not exist. Never the interface language: a trainee reading English
    pages at a Chinese centre still gets a Chinese customer."""
    langs = scenario_languages(scenario_id)
    if not langs:
        return None
    for lang in (asked, centre):
        if lang in langs:
            return lang
    return langs[0]


def find_scenario(scenario_id: str, language: str):
    """The scenario as the file is now, or None."""
    entry = catalog().find("scenario", scenario_id, language)
    return entry.model if entry is not None else None


def reply_meta(kind: str, events: list[dict]) -> dict:
    """The customer turn's meta: all events, with the LLM call and any fallback lifted out."""
    meta = {"engine": kind, "events": events}
    llm = next((e for e in events if e.get("type") == "llm"), None)
    if llm is not None:
        meta["llm"] = {k: v for k, v in llm.items() if k != "type"}
    fallback = next((e for e in events if e.get("type") == "llm_fallback"), None)
    if fallback is not None:
        meta["fallback"] = fallback.get("reason")
    return meta


# --- start and end --------------------------------------------------------------------------

def start_drill(trainee, scenario_id: str, language: str, persona: str, customer_kind: str,
                seed: int | None = None, mode: str = "practice", *, assignment_id: int | None = None,
                report_released: bool = True, certification: tuple[int, str] | None = None,
                version: ScenarioVersion | None = None) -> Drill:
    """Create and commit a drill on the scenario version as the file is now, with the
    customer's opening line stored as turn 0 (with its simulator state); an outbound
    call stores no turn, its agent speaks first (`opening_state`).

    `assignment_id` links the drill to the assignment it is done for; `report_released`
    false holds the report back until the trainer releases it; `certification`
    (attempt id, drawn scenario id) makes it that attempt's drill on that scenario (all
    set in the same commit). `version` plays that stored version instead of the file as
    it is now (a play-test of a draft). The database takes one drill per attempt and scenario: a
    second raises IntegrityError from the commit (`certification.start_cert_drill`
    turns that into the drill that won).

    Outside certification, a start is idempotent: while the trainee has an active drill
    with the same scenario version, persona, customer, mode and assignment (and seed, if
    one is given) in which nothing has been said yet and time is left, that drill is
    returned instead of a new one. So a double click, or a start whose answer was lost
    (a killed worker), resumes the drill it made rather than leaving it orphaned.

    Raises DrillError for an unknown scenario, persona, customer kind or mode, or a bad
    seed; TooManyRequests (429) past DRILL_STARTS_PER_WINDOW new drills in
    RATE_WINDOW_SECONDS.
    """
    if mode not in MODES:
        raise DrillError("bad_mode", f"unknown mode {mode!r}")
    if customer_kind not in available_kinds():
        raise DrillError("bad_kind", f"customer kind {customer_kind!r} is not available")
    seed_given = seed is not None
    if seed is None:
        seed = secrets.randbelow(SEED_MAX)
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed <= SEED_MAX:
        raise DrillError("bad_seed", f"the seed must be a whole number from 0 to {SEED_MAX}", max=SEED_MAX)
    try:
        version = version or scenario_version(scenario_id, language)
    except LookupError:
        db.session.rollback()
        raise DrillError("unknown_scenario", f"no scenario {scenario_id!r} in {language}") from None
    scenario = scenario_of_version(version)
    if persona not in {p.id for p in scenario.personas}:
        db.session.rollback()
        raise DrillError("unknown_persona", f"scenario {scenario_id!r} has no persona {persona!r}")
    same = {"trainee_id": trainee.id, "scenario_version_id": version.id, "persona": persona,
            "customer_kind": customer_kind, "mode": mode, "assignment_id": assignment_id}
    if certification is None:
        waiting = _untouched_drill(same, seed if seed_given else None)
        if waiting is not None:
            return waiting
    try:
        text, state, events = engine_for(customer_kind).start_turn(scenario, persona, seed)
    except Exception as exc:
        db.session.rollback()
        log.exception("customer engine %s failed to open %s", customer_kind, scenario_id)
        raise CustomerUnavailable("customer_unavailable",
                                  f"the simulated customer did not answer ({type(exc).__name__})") from exc
    # From here to the commit this trainee's starts go one at a time: the checks below
    # and the insert are one step, so a burst neither makes two drills nor passes the limit.
    lock_user(trainee.id)
    if certification is None:
        waiting = _untouched_drill(same, seed if seed_given else None)
        if waiting is not None:
            db.session.rollback()
            return waiting
        refuse_if_too_many_starts(trainee.id)
    drill = Drill(
        trainee_id=trainee.id, scenario_version_id=version.id, persona=persona, customer_kind=customer_kind,
        llm_model=current_app.config.get("OPENAI_MODEL") if customer_kind == "llm" else None,
        seed=seed, mode=mode, status="active", assignment_id=assignment_id, report_released=report_released,
        certification_attempt_id=certification[0] if certification else None,
        certification_scenario=certification[1] if certification else None,
    )
    # The opening line is a customer turn like the others: its LLM call and any fallback
    # are lifted out the same way (they were once left inside `events` only).
    if text:  # an outbound call stores none: the agent speaks first (opening_state)
        drill.turns.append(Turn(position=0, speaker="customer", text=text, state=state,
                                meta=reply_meta(customer_kind, list(events or []))))
    db.session.add(drill)
    db.session.commit()
    return drill


def _untouched_drill(same: dict, seed: int | None) -> Drill | None:
    """The trainee's newest active drill matching `same` (and `seed` if given) in which the
    agent has said nothing yet (only the customer's opening line, or no turn at all in an
    outbound call) and time is left, or None."""
    query = select(Drill).where(*(getattr(Drill, k) == v if v is not None else getattr(Drill, k).is_(None)
                                  for k, v in same.items()),
                                Drill.status == "active", Drill.certification_attempt_id.is_(None),
                                ~select(Turn.id).where(Turn.drill_id == Drill.id, Turn.speaker == "agent").exists())
    if seed is not None:
        query = query.where(Drill.seed == seed)
    for drill in db.session.scalars(query.order_by(Drill.id.desc()).limit(3)):
        if time_left(drill) > timedelta(0):
            return drill
    return None


def hold_if_active(drill: Drill, turns_of: int | None = None) -> bool:
    """Lock the drill's row until this transaction ends, if the drill is still active.

    False when it has ended. What the transaction writes after a True lands before any
    end: the end's conditional UPDATE (`mark_ended`) waits for this lock, and scores
    what was committed. Called before a turn is written, in the turn's transaction.

    With `turns_of` (the trainee sending a turn), the trainee's turn limit is checked in
    the same statement (a turn is the hottest request: one round trip, not two); over
    the limit it raises TooManyRequests, as `refuse_if_too_many_turns` does.
    """
    limit, window = _limit("TURNS_PER_WINDOW")
    if turns_of is not None and limit:
        result = db.session.execute(_HOLD_WITHIN_LIMIT, {"hold_drill": drill.id, "hold_trainee": turns_of,
                                                         "hold_since": utcnow() - window, "hold_limit": limit})
    else:
        result = db.session.execute(_HOLD, {"hold_drill": drill.id})
    if result.rowcount == 1:
        return True
    if turns_of is not None and limit:
        refuse_if_too_many_turns(turns_of)  # raises if that is why; else the drill has ended
    return False


# Its own alias of drills: inside `hold_if_active`'s UPDATE of drills the subquery must
# count all the trainee's drills, not correlate to the one row being updated. Made once:
# building an alias per turn cost more than the statement it serves.
_TRAINEES_DRILLS = aliased(Drill, name="trainees_drills")


def _turns_sent(trainee_id, since):
    """The trainee's agent turns since `since` (values, or bound parameters)."""
    mine = _TRAINEES_DRILLS
    return select(func.count(Turn.id)).join(mine, mine.id == Turn.drill_id).where(
        mine.trainee_id == trainee_id, Turn.speaker == "agent", Turn.created_at > since)


# hold_if_active's two UPDATEs, built once with bound parameters (named apart from the
# drills columns, which an UPDATE reserves for its SET clause): two run on every turn,
# and building them each time (operators, coercions, the subquery) showed in its profile.
_HOLD = (update(Drill).where(Drill.id == bindparam("hold_drill"), Drill.status == "active")
         .values(status="active").execution_options(synchronize_session=False))
_HOLD_WITHIN_LIMIT = (
    update(Drill).where(
        Drill.id == bindparam("hold_drill"), Drill.status == "active",
        _turns_sent(bindparam("hold_trainee"), bindparam("hold_since")).scalar_subquery()
        < bindparam("hold_limit"))
    .values(status="active").execution_options(synchronize_session=False))


def _limit(name: str) -> tuple[int, timedelta]:
    return (int(current_app.config.get(name) or 0),
            timedelta(seconds=int(current_app.config.get("RATE_WINDOW_SECONDS") or 60)))


def refuse_if_too_many_starts(trainee_id: int) -> None:
    """TooManyRequests when the trainee started DRILL_STARTS_PER_WINDOW drills within the
    window (0 turns the limit off). Counted from the drills themselves, so every worker
    sees the same count; call it holding `lock_user` so a burst cannot pass it together."""
    limit, window = _limit("DRILL_STARTS_PER_WINDOW")
    if not limit:
        return
    started = db.session.scalar(select(func.count(Drill.id)).where(
        Drill.trainee_id == trainee_id, Drill.customer_kind != "import", Drill.started_at > utcnow() - window))
    if started >= limit:
        db.session.rollback()
        raise TooManyRequests("too_many_starts", f"at most {limit} drill starts in {window.seconds} s",
                              limit=limit, seconds=int(window.total_seconds()))


def refuse_if_too_many_turns(trainee_id: int) -> None:
    """TooManyRequests when the trainee sent TURNS_PER_WINDOW turns (in all their drills)
    within the window (0 turns the limit off)."""
    limit, window = _limit("TURNS_PER_WINDOW")
    if not limit:
        return
    sent = db.session.scalar(_turns_sent(trainee_id, utcnow() - window))
    if sent >= limit:
        db.session.rollback()
        raise TooManyRequests("too_many_turns", f"at most {limit} turns in {window.seconds} s",
                              limit=limit, seconds=int(window.total_seconds()))


def end_drill(drill: Drill, by: str = "trainee") -> Drill:
    """End an active drill as `unfinished` (the customer did not end it) and commit.

    Ending an ended drill changes nothing. `on_drill_ended` runs once per drill, after
    the commit, whoever ended it.

    An outbound call ended before the agent said a word never took place: it is set aside
    unscored (`discarded`, audited) instead, as there is no transcript to score. (A
    certification drill cannot be set aside: it ends as `unfinished`, unscored.)
    """
    # The row lock first: a first line being sent commits before it or waits for the end,
    # so "no turn" read under it stays true until the discard commits.
    if (drill.certification_attempt_id is None and scenario_of(drill).direction == "outbound"
            and hold_if_active(drill) and turn_at(drill, 0) is None):
        return discard_drill(drill, drill.trainee, why="nothing_said")
    if mark_ended(drill, "unfinished"):
        db.session.commit()
        log.info("drill %s ended by %s", drill.id, by)
        on_drill_ended(drill)
    else:
        db.session.rollback()
        ensure_scored(drill)
    db.session.refresh(drill)
    return drill


def time_left(drill: Drill) -> timedelta:
    """How long the drill has left by its scenario's time limit (negative once past it)."""
    limit = timedelta(minutes=scenario_of(drill).time_limit_minutes)
    return drill.started_at + limit - utcnow()


def refuse_if_out_of_time(drill: Drill) -> None:
    if drill.mode == "test" and time_left(drill) < -TIME_GRACE:
        end_drill(drill, by="time limit")
        raise DrillConflict("time_up", "the time limit of this test drill has passed")


def discard_drill(drill: Drill, actor, why: str | None = None) -> Drill:
    """Set an abandoned call aside, unscored: status `discarded`, so the trainee's list no
    longer offers to continue it and no report or statistic counts it. Audited
    (`drill_discarded`); commits.

    Raises DrillConflict (409): `ended` when the call has ended (a scored call stays),
    `certification` for a certification drill (its attempt needs it).
    """
    from app.services import audit

    if drill.certification_attempt_id is not None:
        raise DrillConflict("certification", "a certification drill cannot be discarded")
    # Conditional, like mark_ended: a turn or an end that wins the race keeps the call.
    result = db.session.execute(
        update(Drill).where(Drill.id == drill.id, Drill.status == "active")
        .values(status="discarded", ended_at=utcnow()).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        raise DrillConflict("ended", "the call has already ended")
    audit.record("drill_discarded", actor, f"drill:{drill.id}", **({"why": why} if why else {}))
    db.session.commit()
    db.session.refresh(drill)
    return drill


def mark_ended(drill: Drill, outcome: str) -> bool:
    # A conditional UPDATE, so two requests ending the same drill cannot both "win"
    # and the end hook runs once.
    result = db.session.execute(
        update(Drill).where(Drill.id == drill.id, Drill.status == "active")
        .values(status="ended", outcome=outcome, ended_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def ensure_scored(drill: Drill) -> None:
    """Score an ended drill that has no score yet; nothing otherwise.

    The end of a call and its score are two commits: a server killed between them leaves
    an ended, unscored drill that no later turn would ever score. The requests that come
    after the end (the end or the last turn sent again, the report page) repair it: eager,
    by scoring now; with a worker, by queueing its job again when it was lost
    (`jobs.ensure_scoring`).
    """
    from app.services import jobs

    db.session.refresh(drill)
    try:
        jobs.ensure_scoring(drill)
    except Exception:
        db.session.rollback()
        log.exception("queueing the score of drill %s failed", drill.id)


def on_drill_ended(drill: Drill) -> None:
    """Called once after a drill's end is committed: score it with the standard rubric,
    as a background job (at once in the request when jobs run eagerly, the default).

    A scoring failure is logged and recorded on the job (the report page offers a retry);
    it never fails the request that ended the call.
    """
    from app.services import jobs, scoring

    if turn_at(drill, 0) is None:
        log.info("drill %s ended before anyone spoke; nothing to score", drill.id)
        return
    try:
        jobs.start_drill_scoring(drill)
    except scoring.ScoringPending:
        # Another request is scoring it and takes longer than this one may wait: its score
        # lands when it finishes (a scorer that dies frees the drill for the next request).
        log.info("drill %s is still being scored by another request", drill.id)
    except Exception:
        db.session.rollback()
        log.exception("scoring drill %s failed; the drill stays ended and unscored", drill.id)


# --- JSON shapes for the browser ----------------------------------------------------------

def turn_json(turn: Turn) -> dict:
    return {"position": turn.position, "speaker": turn.speaker, "text": turn.text}


def drill_json(drill: Drill) -> dict:
    return {"id": drill.id, "status": drill.status, "outcome": drill.outcome}

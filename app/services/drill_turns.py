"""Drill turns: the agent's turn stored and committed first, then the customer's reply
computed, stored and committed (plain or streamed), resends and retries answered from
what is stored. Split from app.services.drills, which starts and ends drills and holds
the queries both use.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta, timezone
from typing import Any, Iterator

from flask import current_app
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from app.core.simulation.engine import Reply
from app.core.understanding import Understanding, understand
from app.extensions import db
from app.models import Drill, Turn
from app.models.base import utcnow
from app.services import drills
from app.services.drills import (CustomerUnavailable, DrillConflict, DrillError, TurnResult, mark_ended,
                                 refuse_if_out_of_time, clean_turn_text, drill_json, ensure_scored,
                                 last_turn, pending_agent_turn, reply_meta, resume_state,
                                 scenario_of, turn_at, turn_json)
from app.services.engines import engine_for, turn_analyser

log = logging.getLogger(__name__)


def post_agent_turn(drill: Drill, text: Any, after: int | None = None, *, last: Turn | None = None) -> TurnResult:
    """Store the agent's turn (committed first), then compute, store and commit the reply.

    `after` is the position of the last turn the client had seen: a resend of a turn
    that is already stored returns the stored exchange instead of adding a duplicate.
    Without it, the same text as a dangling agent turn retries that turn's reply.
    Ends the drill when the customer ends the call. Raises DrillError (400) on bad text,
    DrillConflict (409) when the drill ended or moved on, CustomerUnavailable (503) when
    the engine fails; in that case the agent turn stays stored and the drill resumable.
    `last` is the drill's last turn if the caller has just read it with the drill
    (own_drill_and_last_turn), so it is not read again.
    """
    agent, fresh = _accept_agent_turn(drill, text, after, last)
    return _answer_fresh(drill, agent, fresh) if fresh is not None else _answer(drill, agent)


def answer_pending(drill: Drill) -> TurnResult:
    """Compute and store the reply to a dangling agent turn (after a failure or restart).

    Returns an empty result when nothing is pending. Raises CustomerUnavailable if the
    engine fails again.
    """
    agent = pending_agent_turn(drill)
    return _answer(drill, agent) if agent is not None else TurnResult(drill, None, None)


def stream_agent_turn(drill: Drill, text: Any, after: int | None = None, *,
                      last: Turn | None = None) -> Iterator[dict]:
    """Like post_agent_turn, for a streamed response.

    Validation and the agent turn's commit happen before this returns, so input errors
    raise here (not mid-stream). The iterator yields ``{"type": "agent", "turn"}``, then
    ``{"type": "chunk", "text"}`` pieces of the reply as the engine produces them, then
    ``{"type": "customer", "turn", "drill"}`` once the reply is committed, or
    ``{"type": "error", "code", "message"}`` if the engine fails (the agent turn stays).
    """
    agent, fresh = _accept_agent_turn(drill, text, after, last)
    return _stream_answer(drill, agent, fresh)


def stream_pending(drill: Drill) -> Iterator[dict]:
    """answer_pending for a streamed response (same events as stream_agent_turn)."""
    agent = pending_agent_turn(drill)
    if agent is None:
        return iter([{"type": "drill", "drill": drill_json(drill)}])
    return _stream_answer(drill, agent)


@dataclass
class _Fresh:
    """What the reply to a just-inserted agent turn needs, read before its commit (which
    expires every loaded row): no second read of the drill, its scenario or its state,
    and the turn's understanding, made once for the stored acts and the customer."""

    kind: str
    scenario: Any
    state: dict
    understanding: Understanding | None = None


def _accept_agent_turn(drill: Drill, text: Any, after: int | None,
                       last: Turn | None) -> tuple[Turn, _Fresh | None]:
    """The stored agent turn this request is about: new (committed; with what its reply
    needs), or the one a resend or retry refers to (with None)."""
    text = clean_turn_text(text)
    if last is None:
        last = last_turn(drill)  # also refreshes the drill's status
    if after is not None and last is not None and after != last.position:
        sent = turn_at(drill, after + 1)
        # The same submit again (double click, network retry, the page retrying after the
        # server died before answering). Checked before the status: when the first submit's
        # reply ended the call, the resend must get that stored exchange, not "ended".
        if sent is not None and sent.speaker == "agent" and sent.text == text and (
                drill.status == "active" or turn_at(drill, sent.position + 1) is not None):
            return sent, None
    if after is None and last is not None and last.speaker == "customer":
        sent = _resent_without_after(drill, last, text)
        if sent is not None:
            return sent, None
    if drill.status != "active":
        raise DrillConflict("ended", "the call has ended")
    if last is not None:
        if after is not None and after != last.position:
            raise DrillConflict("moved_on", "the conversation has changed since this page was loaded")
        if last.speaker == "agent":
            if last.text == text:
                return last, None
            raise DrillConflict("reply_pending", "the customer has not answered the previous turn yet")
    elif after is not None and after != -1:  # -1: the page saw no turn (an outbound call's start)
        raise DrillConflict("moved_on", "the conversation has changed since this page was loaded")
    refuse_if_out_of_time(drill)
    scenario = scenario_of(drill)
    if last is None:
        # Only an outbound call has no opening turn: the agent's first line answers nothing.
        if scenario.direction != "outbound":
            raise DrillConflict("moved_on", "the drill has no turns to answer")
        state, position = drills.opening_state(drill, scenario), 0
    else:
        state, position = last.state, last.position + 1
    fresh = None
    if state is not None:
        fresh = _Fresh(drill.customer_kind, scenario, state)
        fresh.understanding = _understand(fresh, text, drill.id)
    # The acts go in with the turn (one INSERT, no later UPDATE); recognising them is
    # local and fast, and the turn is still committed before the reply is computed.
    if fresh is not None and fresh.understanding is not None:
        acts = sorted(fresh.understanding.acts)
    else:
        acts = _acts(scenario.language, text, drill.id)
    return _insert_agent_turn(drill, position, text, acts, fresh)


def _resent_without_after(drill: Drill, last: Turn, text: str) -> Turn | None:
    """The answered agent turn just before `last` if this text repeats it within
    TURN_RESEND_SECONDS: a client that sends no `after` retrying a turn whose answer it
    did not get. (Saying the same words again on purpose that soon needs `after`, which
    the drill page always sends.)"""
    if last.position < 1:  # a customer line with no agent turn before it (position 1 is outbound's first reply)
        return None
    sent = turn_at(drill, last.position - 1)
    if sent is None or sent.speaker != "agent" or sent.text != text:
        return None
    window = timedelta(seconds=int(current_app.config.get("TURN_RESEND_SECONDS", 120)))
    at = sent.created_at if sent.created_at.tzinfo else sent.created_at.replace(tzinfo=timezone.utc)
    return sent if utcnow() - at <= window else None


def _understand(fresh: _Fresh, text: str, drill_id: int) -> Understanding | None:
    """The turn understood in the call's context, or None (the engine then makes its own)."""
    try:
        return engine_for(fresh.kind).understand(text, fresh.state, fresh.scenario)
    except Exception:  # the reply must not fail for it; the engine will try again
        log.exception("understanding failed on drill %s", drill_id)
        return None


def _insert_agent_turn(drill: Drill, position: int, text: str, acts: list[str],
                       fresh: _Fresh | None) -> tuple[Turn, _Fresh | None]:
    meta: dict = {"acts": acts}
    asked = getattr(fresh.understanding, "llm_acts", None) if fresh is not None else None
    if asked is not None:
        meta["llm_understanding"] = asked.meta()  # what the model said, or why it failed
    # The turn and the check that the call is still on are one transaction: an "end"
    # racing this turn either waits for it (and scores it) or has ended the call first.
    if not drills.hold_if_active(drill, turns_of=drill.trainee_id):
        db.session.rollback()
        raise DrillConflict("ended", "the call has ended")
    turn = Turn(drill_id=drill.id, position=position, speaker="agent", text=text, meta=meta)
    db.session.add(turn)
    try:
        _commit_keeping(turn, drill)
    except IntegrityError:
        # Another request took this position first (double submit on two workers).
        db.session.rollback()
        other = turn_at(drill, position)
        if other is not None and other.speaker == "agent" and other.text == text:
            return other, None
        raise DrillConflict("moved_on", "another turn was sent at the same time") from None
    return turn, fresh


def _commit_keeping(*objects) -> None:
    """Commit, keeping `objects` loaded with the values just flushed.

    A commit expires every loaded row so that later reads see other transactions; for
    rows this transaction has just written in full, the database holds exactly what we
    hold, and reading each back (a SELECT per row, on the hottest request) buys nothing.
    """
    db.session.flush()
    kept = [(obj, {attr.key: getattr(obj, attr.key) for attr in inspect(obj).mapper.column_attrs})
            for obj in objects]
    db.session.commit()
    for obj, values in kept:
        for key, value in values.items():
            set_committed_value(obj, key, value)


def _answer_fresh(drill: Drill, agent: Turn, fresh: _Fresh) -> TurnResult:
    """The reply to an agent turn this request has just stored: nobody else can have
    answered it yet except by racing us, which the reply's unique position settles."""
    return _final(_reply_events(drill, agent, fresh))


def _answer(drill: Drill, agent: Turn) -> TurnResult:
    existing = turn_at(drill, agent.position + 1)
    if existing is not None:
        ensure_scored(drill)  # a resend of the exchange that ended the call
        return TurnResult(drill, agent, existing)
    return _final(_reply_events(drill, agent))


def _reply_events(drill: Drill, agent: Turn, fresh: _Fresh | None = None) -> Iterator[dict]:
    """The one way a reply is made, for the plain and the streamed response alike:
    ``{"type": "chunk", "text"}`` as the engine produces text, then ``{"type": "stored",
    "result": TurnResult}`` once the reply is committed, or ``{"type": "failed", "error":
    CustomerUnavailable}`` when the engine fails (the agent turn stays stored)."""
    try:
        if fresh is not None:
            engine, scenario, state = engine_for(fresh.kind), fresh.scenario, fresh.state
        else:
            engine, scenario, state = _reply_inputs(drill, agent)
        reply = None
        for piece in engine.reply_stream(agent.text, state, scenario=scenario,
                                         understanding=fresh.understanding if fresh else None):
            if isinstance(piece, Reply):
                reply = piece
            else:
                yield {"type": "chunk", "text": piece}
        if reply is None:
            raise RuntimeError("the customer engine gave no reply")
    except Exception as exc:
        yield {"type": "failed", "error": _unavailable(drill, agent, exc)}
        return
    yield {"type": "stored", "result": _store_reply(drill, agent, reply, kind=fresh.kind if fresh else None)}


def _final(events: Iterator[dict]) -> TurnResult:
    """The plain response: the stored result of `_reply_events`, or its failure raised."""
    for event in events:
        if event["type"] == "failed":
            raise event["error"]
        if event["type"] == "stored":
            return event["result"]
    raise RuntimeError("the reply ended without a result")


def _stream_answer(drill: Drill, agent: Turn, fresh: _Fresh | None = None) -> Iterator[dict]:
    # The view returns before the stream is read, and Flask tears its app context down in
    # between (Flask-SQLAlchemy closes the session): the generator must load its own rows,
    # or, for an agent turn this request has just committed, take over the rows it holds.
    if fresh is not None:
        return _stream_events(drill.id, agent.id, fresh, (drill, agent))
    return _stream_events(drill.id, agent.id)


def _stream_events(drill_id: int, agent_id: int, fresh: _Fresh | None = None,
                   rows: tuple[Drill, Turn] | None = None) -> Iterator[dict]:
    if rows is not None:
        # Just committed and kept loaded (_commit_keeping): attach them without a SELECT.
        drill, agent = (db.session.merge(row, load=False) for row in rows)
    else:
        drill, agent = db.session.get(Drill, drill_id), db.session.get(Turn, agent_id)
    yield {"type": "agent", "turn": turn_json(agent)}
    # A turn this request has just stored has no answer yet (a racing answer loses on
    # the reply's unique position in _store_reply).
    existing = None if fresh is not None else turn_at(drill, agent.position + 1)
    if existing is None:
        try:
            for event in _reply_events(drill, agent, fresh):
                if event["type"] == "chunk":
                    yield event
                elif event["type"] == "failed":
                    err = event["error"]
                    yield {"type": "error", "code": err.code, "message": err.message}
                    return
                else:
                    existing = event["result"].customer
                    if existing is None:  # the call ended before the reply was stored
                        yield {"type": "drill", "drill": drill_json(event["result"].drill)}
                        return
        except DrillError as exc:
            yield {"type": "error", "code": exc.code, "message": exc.message}
            return
        except Exception as exc:
            err = _unavailable(drill, agent, exc)
            yield {"type": "error", "code": err.code, "message": err.message}
            return
    else:
        ensure_scored(drill)  # a resend of the exchange that ended the call
        yield {"type": "chunk", "text": existing.text}
    yield {"type": "customer", "turn": turn_json(existing), "drill": drill_json(drill)}


def _reply_inputs(drill: Drill, agent: Turn):
    # The engine gets the drill's own scenario version, not whatever the file says now.
    return engine_for(drill.customer_kind), scenario_of(drill), resume_state(drill, before=agent.position)


def _unavailable(drill: Drill, agent: Turn, exc: Exception) -> CustomerUnavailable:
    db.session.rollback()
    log.exception("customer engine %s failed on drill %s turn %s", drill.customer_kind, drill.id, agent.position)
    return CustomerUnavailable("customer_unavailable", f"the simulated customer did not answer ({type(exc).__name__})")


def _store_reply(drill: Drill, agent: Turn, reply: Reply, kind: str | None = None) -> TurnResult:
    text, state, events = reply.text, reply.state, reply.events
    kind = kind or drill.customer_kind
    drill_id, position = drill.id, agent.position
    if not drills.hold_if_active(drill):
        # The call was ended while the reply was being made: the agent turn landed before
        # the end (and is scored); a reply after the end is not part of the call.
        db.session.rollback()
        db.session.refresh(drill)
        return TurnResult(drill, agent, None)
    customer = Turn(drill_id=drill_id, position=position + 1, speaker="customer", text=text,
                    state=state, meta=reply_meta(kind, list(events or [])))
    db.session.add(customer)
    if "acts" not in (agent.meta or {}):  # stored before the acts went in with the turn
        agent.meta = {**(agent.meta or {}), "acts": _acts(scenario_of(drill).language, agent.text, drill_id)}
    outcome = state.get("outcome") if isinstance(state, dict) else None
    ended = bool(outcome) and mark_ended(drill, outcome)
    try:
        if outcome:  # ended here, or by another request first: re-read the drill below
            db.session.commit()
        else:
            _commit_keeping(agent, customer, drill)
    except IntegrityError:
        # Another worker answered this turn first; its reply is the reply.
        db.session.rollback()
        stored = turn_at(drill, agent.position + 1)
        if stored is None:
            raise
        db.session.refresh(drill)
        return TurnResult(drill, agent, stored)
    if outcome:
        db.session.refresh(drill)
    if ended:
        drills.on_drill_ended(drill)  # the module's hook, whichever way the drill ended
    return TurnResult(drill, agent, customer)


def _acts(language: str, text: str, drill_id: int) -> list[str]:
    """The agent turn's recognised speech acts, kept for trainers and the scorer."""
    try:
        # The same understanding the customer and the scorer use (acts do not depend on
        # the call's context, so none is needed here).
        analysis = understand(text, turn_analyser(language), language=language)
    except Exception:  # the acts are a convenience; the reply must not fail for them
        log.exception("act recognition failed on drill %s", drill_id)
        return []
    return sorted(analysis.acts or ())

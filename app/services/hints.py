"""Hints on the drill page: the next step of the call, at a price in points.

A hint is offered only on an active practice drill, and on an assignment's drill only
when the assignment allows hints (test mode never does). The next step comes from the
simulator's state after the last customer turn: greet, verify identity, the first
required resolution item not done, the first knowledge point not stated, the optional
items, then confirm and close; each with the standard rubric's model phrasing where it
has one. Every hint raises `drill.hints_used`, is noted in the last turn's meta and in
the audit log (`hint`). The stored machine score is never changed: the report takes the
penalty off in its view (`score_report.build_report`).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from sqlalchemy import update

from app.extensions import db
from app.models import Drill
from app.services import audit, content
from app.services.drills import DrillConflict, DrillError, last_turn, resume_state, scenario_of, turns_of
from app.services.drill_score import hint_penalty_per_hint
from app.services.scoring import DEFAULT_RUBRIC


class HintRefused(DrillError):
    """Hints are not offered on this drill (test mode, or the assignment forbids them)."""

    status = 403


@dataclass(frozen=True)
class Hint:
    step: str  # greeting | verify | resolution | knowledge | optional | closing
    item: str | None  # the scenario item or rubric criterion the step is about
    text: str  # what to do
    model: str | None  # how one might say it (rubric model phrasing), if any
    hints_used: int
    penalty: float  # points one hint costs on this drill
    charged: bool = True  # False: the same click again, given back without a new charge


def hints_allowed(drill: Drill) -> bool:
    """Practice drills only; an assignment's drill only when the assignment allows them."""
    if drill.mode != "practice" or drill.certification_attempt_id is not None:
        return False
    return drill.assignment is None or bool(drill.assignment.hints_allowed)


def hint_offer(drill: Drill, default_penalty: float = 2.0) -> float | None:
    """The points a hint costs on this drill, or None when no hint is offered now."""
    if drill.status != "active" or not hints_allowed(drill):
        return None
    return hint_penalty_per_hint(drill, default_penalty)


def _models(language: str) -> dict[str, str]:
    entry = content.catalog().find("rubric", DEFAULT_RUBRIC)
    if entry is None:
        return {}
    return {c.id: (c.model or {}).get(language) or (c.model or {}).get("zh-CN")
            for c in entry.model.criteria if c.model}


def next_step(drill: Drill) -> tuple[str, str | None, str, str | None]:
    """(step, item id, what to do, model phrasing) for the drill as it stands now."""
    scenario = scenario_of(drill)
    models = _models(scenario.language)
    state = resume_state(drill)
    if not any(t.speaker == "agent" for t in turns_of(drill)):
        # The scenario's own opening line first: an outbound call opens unlike an inbound one.
        own = scenario.criterion_tip("self_id", scenario.language) or scenario.criterion_tip("greeting", scenario.language)
        model = (own.model if own else None) or models.get("self_id") or models.get("greeting")
        return "greeting", "greeting", "", model
    if not state.get("verified"):
        return "verify", "verify_before_account", "", models.get("verify_before_account")
    done, known = set(state.get("resolution") or ()), set(state.get("knowledge") or ())
    for item in scenario.resolution_items:
        if item.required and item.id not in done:
            return "resolution", item.id, item.text, None
    for point in scenario.knowledge_points:
        if point.id not in known:
            return "knowledge", point.id, point.text, None
    for item in scenario.resolution_items:
        if item.id not in done:
            return "optional", item.id, item.text, None
    return "closing", "closing", "", models.get("confirm_result") or models.get("closing")


def take_hint(drill: Drill, actor, default_penalty: float = 2.0, seen: int | None = None) -> Hint:
    """Count, note and audit one hint and return it; commits.

    `seen` is the count of hints the trainee's page showed when the button was clicked
    (None: the count read now). A hint is charged only while the drill still has that
    count, by one conditional UPDATE: the same click sent twice (a double click, a retry,
    two requests racing) charges once, and the repeat gets the hint already given back,
    uncharged (`charged` False). Raises HintRefused (403) when hints are not offered on
    this drill, DrillConflict (409) `ended` when the call has ended and `moved_on` when
    `seen` matches no hint given (the page is out of date).
    """
    db.session.refresh(drill)
    if not hints_allowed(drill):
        raise HintRefused("hints_refused", "hints are not offered on this drill")
    if drill.status != "active":
        raise DrillConflict("ended", "the call has ended")
    expected = drill.hints_used if seen is None else seen
    step, item, text, model = next_step(drill)
    charged = db.session.execute(
        update(Drill).where(Drill.id == drill.id, Drill.status == "active", Drill.hints_used == expected)
        .values(hints_used=Drill.hints_used + 1).execution_options(synchronize_session=False)).rowcount == 1
    if not charged:
        db.session.rollback()
        return _repeat(drill, expected, default_penalty)
    last = last_turn(drill)
    note = {"step": step, "item": item}
    # The hint as given is kept with the turn, so the page shows it again after a reload;
    # an outbound call has no turn before the agent's first, so that one is only counted.
    if last is not None:
        kept = {**note, "text": text, "model": model}
        last.meta = {**(last.meta or {}), "hints": [*((last.meta or {}).get("hints") or []), kept]}
    audit.record("hint", actor, f"drill:{drill.id}", position=last.position if last is not None else -1, **note)
    db.session.commit()
    db.session.refresh(drill)
    return Hint(step, item, text, model, drill.hints_used, hint_penalty_per_hint(drill, default_penalty))


def _repeat(drill: Drill, expected: int, default_penalty: float) -> Hint:
    """The hint that answered the click counted at `expected` hints, uncharged: another
    request with the same count took it first. 409 when the call ended meanwhile, or when
    no such hint was given (a count from an out-of-date page)."""
    db.session.refresh(drill)
    if drill.status != "active":
        raise DrillConflict("ended", "the call has ended")
    given = hints_given(drill)
    if not given or not 0 <= expected < drill.hints_used:
        raise DrillConflict("moved_on", "the hint count has changed; reload the page")
    # (Hints noted before their text was kept are not in `given`: then the newest one.)
    hint = given[expected] if expected < len(given) else given[-1]
    return replace(hint, hints_used=drill.hints_used, penalty=hint_penalty_per_hint(drill, default_penalty),
                   charged=False)


def hints_given(drill: Drill) -> list[Hint]:
    """The hints already given on this drill, oldest first, as `take_hint` returned them
    (hints noted before their text was kept are left out: nothing to show again)."""
    out = []
    for turn in turns_of(drill):
        for note in (turn.meta or {}).get("hints") or []:
            if isinstance(note, dict) and "text" in note:
                out.append(Hint(note.get("step", ""), note.get("item"), note["text"], note.get("model"),
                                len(out) + 1, 0.0))
    return out


def hint_json(hint: Hint) -> dict:
    return asdict(hint)

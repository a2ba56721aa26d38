"""Certification attempts: draw, exam, test-mode drills, case answers, marking, grade.

An attempt stores what it drew (seed, question/scenario/case ids, track version) in
`details`, so it can be re-marked and explained later whatever the bank becomes. The
marking itself is `app.core.certification_marking`; this module only feeds it stored
rows and stores its output. Every state change is audited and committed by the
function that makes it (said in each docstring). A trainee holds at most one open
attempt per track.
"""
from __future__ import annotations

import json
import logging
import random
import secrets
from datetime import datetime
from typing import Any, Mapping

from flask import current_app
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.core import certification_marking as marking
from app.core import certification_policy as policy
from app.core.certification import Track
from app.extensions import db
from app.models import CaseAnswer, CertificationAttempt, CertificationResult, Drill, User
from app.models.base import utcnow
from app.services import audit, content, drills, scoring
from app.services.drill_score import current_score

log = logging.getLogger(__name__)

SEED_MAX = 2**31 - 1
MAX_CASE_CHARS = 10_000


class CertificationError(Exception):
    """A request the attempt cannot take. `code` is stable (for translated messages);
    `status` is the HTTP status a view answers with."""

    status = 400

    def __init__(self, code: str, message: str, status: int | None = None, **params):
        super().__init__(message)
        self.code, self.message, self.params = code, message, params
        if status is not None:
            self.status = status


# --- tracks and lookups ----------------------------------------------------------------

def tracks() -> list[Track]:
    return sorted((e.model for e in content.catalog().of_kind("track")), key=lambda t: t.id)


def get_track(track_id: str) -> Track:
    """The track as its file is now; CertificationError 404 when there is none."""
    entry = content.catalog().find("track", track_id)
    if entry is None:
        raise CertificationError("unknown_track", f"no certification track {track_id!r}", 404)
    return entry.model


def open_attempt(user, track_id: str) -> CertificationAttempt | None:
    return db.session.scalar(select(CertificationAttempt).where(
        CertificationAttempt.user_id == user.id, CertificationAttempt.track_id == track_id,
        CertificationAttempt.status == "open").order_by(CertificationAttempt.id.desc()).limit(1))


def attempts_of(user_id: int, track_id: str | None = None) -> list[CertificationAttempt]:
    query = select(CertificationAttempt).where(CertificationAttempt.user_id == user_id)
    if track_id:
        query = query.where(CertificationAttempt.track_id == track_id)
    return list(db.session.scalars(query.order_by(CertificationAttempt.id.desc())))


def attempt_drills(attempt: CertificationAttempt) -> dict[str, Drill]:
    """Drawn scenario id -> the attempt's drill on it (the newest, should there be two)."""
    rows = db.session.scalars(select(Drill).where(Drill.certification_attempt_id == attempt.id).order_by(Drill.id))
    return {d.scenario_version.scenario_id: d for d in rows}


def case_answers(attempt: CertificationAttempt) -> dict[str, CaseAnswer]:
    rows = db.session.scalars(select(CaseAnswer).where(CaseAnswer.attempt_id == attempt.id))
    return {a.case_id: a for a in rows}


def _set_details(attempt: CertificationAttempt, **changes) -> None:
    # A new dict, so SQLAlchemy sees the JSON column change.
    attempt.details = {**(attempt.details or {}), **changes}


def _require_open(attempt: CertificationAttempt) -> None:
    if attempt.status != "open":
        raise CertificationError("attempt_closed", "this attempt is already marked", 409)


def _hold_open(attempt: CertificationAttempt) -> None:
    """Lock the attempt's row until this transaction ends if it is still open (and read
    it again), else 409: a write checked this way cannot land after the attempt is graded,
    and two gradings of one attempt cannot both run."""
    held = db.session.execute(
        update(CertificationAttempt).where(CertificationAttempt.id == attempt.id,
                                           CertificationAttempt.status == "open")
        .values(status="open").execution_options(synchronize_session=False))
    if held.rowcount != 1:
        db.session.rollback()
        raise CertificationError("attempt_closed", "this attempt is already marked", 409)
    db.session.refresh(attempt)


# --- the attempt -------------------------------------------------------------------------

def retake_refusal(user, track: Track, now=None) -> policy.Refusal | None:
    """Why `user` may not start an attempt on `track` now (the track's retake policy), or None."""
    results = {r.attempt_id: r for r in db.session.scalars(select(CertificationResult).where(
        CertificationResult.user_id == user.id, CertificationResult.track_id == track.id))}
    past = [policy.PastAttempt(a.started_at, a.finished_at, a.id in results,
                               results[a.id].valid_until if a.id in results else None)
            for a in attempts_of(user.id, track.id) if a.status != "open"]
    return policy.retake_refusal(track, past, now or utcnow())


def start_attempt(user, track_id: str, seed: int | None = None) -> CertificationAttempt:
    """Draw the exam questions, drills and cases for a new attempt and commit it
    (audited `certification_started`). CertificationError 404 for an unknown track,
    409 when the user already has an open attempt on it."""
    track = get_track(track_id)
    if seed is None:
        seed = secrets.randbelow(SEED_MAX)
    # Touch the user's row first: on PostgreSQL this locks it, on SQLite it takes the
    # write lock, so two simultaneous starts cannot both pass the "no open attempt" check.
    db.session.execute(update(User).where(User.id == user.id).values(active=User.active))
    if open_attempt(user, track.id) is not None:
        db.session.rollback()
        raise CertificationError("attempt_open", "you already have an open attempt on this track", 409)
    refusal = retake_refusal(user, track)
    if refusal is not None:
        db.session.rollback()
        raise CertificationError(refusal.code, refusal.message, 409, until=refusal.until, limit=refusal.limit)
    attempt = CertificationAttempt(user_id=user.id, track_id=track.id, status="open", details={
        "seed": seed, "track_version": track.version,
        "questions": marking.draw_exam(track, seed), "drills": marking.draw_drills(track, seed),
        "cases": marking.draw_cases(track, seed), "exam": None, "answers": None, "case_marks": {},
    })
    db.session.add(attempt)
    db.session.flush()
    audit.record("certification_started", user, f"certification_attempt:{attempt.id}",
                 track=track.id, version=track.version, seed=seed)
    db.session.commit()
    return attempt


def exam_questions(attempt: CertificationAttempt, track: Track | None = None) -> list[dict]:
    """The drawn questions as the exam form shows them (no answers, no explanations)."""
    track = track or get_track(attempt.track_id)
    seed = attempt.details["seed"]
    out = []
    for qid in attempt.details["questions"]:
        q = track.question(qid)
        out.append({"id": q.id, "kind": q.kind, "stem": q.stem,
                    "options": [(k, q.options[k]) for k in marking.option_order(track, qid, seed)]})
    return out


def exam_opened_at(attempt: CertificationAttempt) -> datetime | None:
    """When the trainee began the exam (its clock's start), None before."""
    stamp = (attempt.details or {}).get("exam_opened_at")
    return datetime.fromisoformat(stamp) if stamp else None


def exam_deadline(attempt: CertificationAttempt, track: Track | None = None):
    """When the exam submits itself (UTC), None when untimed or not opened yet."""
    return policy.exam_deadline(track or get_track(attempt.track_id), exam_opened_at(attempt))


def open_exam(attempt: CertificationAttempt, now=None) -> None:
    """Start the exam's clock when the trainee begins it (commits; later calls change
    nothing, so neither a reload nor a second press restarts the clock)."""
    if attempt.status != "open" or attempt.exam_score is not None or exam_opened_at(attempt) is not None:
        return
    when = now or utcnow()
    _set_details(attempt, exam_opened_at=when.isoformat())
    audit.record("certification_exam_opened", attempt.user_id, f"certification_attempt:{attempt.id}")
    db.session.commit()


def draft(attempt: CertificationAttempt) -> dict[str, list[str]]:
    """The answers saved so far (question id -> keys), before the exam is submitted."""
    return dict((attempt.details or {}).get("draft") or {})


def _require_exam_open(attempt: CertificationAttempt) -> None:
    _require_open(attempt)
    if attempt.exam_score is not None:
        raise CertificationError("exam_submitted", "the exam of this attempt is already submitted", 409)


def save_answers(attempt: CertificationAttempt, answers: Mapping[str, Any], now=None) -> dict[str, list[str]]:
    """Autosave: merge `answers` (question id -> keys; [] clears one) into the saved
    draft and commit; returns the whole draft. Once the time (plus a short grace) is up
    the exam is submitted with what was saved before, and CertificationError 409
    `time_up` says so. 400 for malformed answers, 409 when the exam was already submitted."""
    _require_exam_open(attempt)
    track = get_track(attempt.track_id)
    if settle_exam(attempt, now):
        raise CertificationError("time_up", "the time is up: the exam was submitted with the answers saved", 409)
    try:
        clean = marking.clean_answers(track, attempt.details["questions"], dict(answers))
    except ValueError as exc:
        raise CertificationError("bad_answers", str(exc)) from None
    saved = {**draft(attempt), **clean}
    # Conditional: a save racing the submission must not put back a details dict without the marks.
    done = db.session.execute(
        update(CertificationAttempt)
        .where(CertificationAttempt.id == attempt.id, CertificationAttempt.exam_score.is_(None),
               CertificationAttempt.status == "open")
        .values(details={**attempt.details, "draft": saved}).execution_options(synchronize_session=False))
    if done.rowcount != 1:
        db.session.rollback()
        raise CertificationError("exam_submitted", "the exam of this attempt is already submitted", 409)
    db.session.commit()
    db.session.refresh(attempt)
    return saved


def settle_exam(attempt: CertificationAttempt, now=None) -> bool:
    """Submit a timed exam whose time (plus grace) is up with the saved draft; True when
    it did. Nothing happens to an untimed, unopened or already submitted exam."""
    if attempt.status != "open" or attempt.exam_score is not None:
        return False
    deadline = exam_deadline(attempt)
    if policy.accepts_answers(deadline, now or utcnow()):
        return False
    try:
        _mark_and_store(attempt, draft(attempt), timed_out=True)
    except CertificationError as exc:
        if exc.code != "exam_submitted":  # another request submitted it first: settled all the same
            raise
    return True


def submit_exam(attempt: CertificationAttempt, answers: Mapping[str, Any], now=None) -> marking.ExamResult:
    """Mark the exam once with the saved draft overlaid by `answers` (the last page's
    form), store per-question results in `details["exam"]`, commit (audited
    `certification_exam_submitted`). Answers sent after the time limit (plus grace) are
    ignored: the draft saved in time is marked. CertificationError 400 for malformed
    answers, 409 when the exam was already submitted or the attempt is closed."""
    _require_open(attempt)
    deadline = exam_deadline(attempt)
    late = not policy.accepts_answers(deadline, now or utcnow())
    final = draft(attempt) if late else {**draft(attempt), **dict(answers)}
    return _mark_and_store(attempt, final, timed_out=late)


def _mark_and_store(attempt: CertificationAttempt, answers: Mapping[str, Any], timed_out: bool) -> marking.ExamResult:
    track = get_track(attempt.track_id)
    try:
        result = marking.mark_exam(track, attempt.details["questions"], dict(answers))
    except ValueError as exc:
        raise CertificationError("bad_answers", str(exc)) from None
    details = {**attempt.details, "exam": result.to_dict(), "answers": {k: list(v or []) for k, v in answers.items()},
               "exam_timed_out": timed_out, "exam_submitted_at": utcnow().isoformat(),
               "exam_topics": {k: list(v) for k, v in result.by_topic().items()}}
    # Conditional update: a double click cannot mark the exam twice.
    done = db.session.execute(
        update(CertificationAttempt)
        .where(CertificationAttempt.id == attempt.id, CertificationAttempt.exam_score.is_(None),
               CertificationAttempt.status == "open")
        .values(exam_score=result.total, details=details).execution_options(synchronize_session=False))
    if done.rowcount != 1:
        db.session.rollback()
        raise CertificationError("exam_submitted", "the exam of this attempt is already submitted", 409)
    audit.record("certification_exam_submitted", attempt.user_id, f"certification_attempt:{attempt.id}",
                 score=result.total, passed=result.passed, timed_out=timed_out)
    db.session.commit()
    db.session.refresh(attempt)
    return result


def exam_review(attempt: CertificationAttempt, track: Track | None = None) -> list[dict] | None:
    """After submission: each drawn question with the trainee's keys, the correct keys,
    the points and the bank's explanation, in the order they were asked; None before.
    Questions since removed from the bank show their stored marks without text."""
    marked = (attempt.details or {}).get("exam")
    if not marked:
        return None
    track = track or get_track(attempt.track_id)
    out = []
    for n, m in enumerate(marked["questions"], 1):
        try:
            q = track.question(m["id"])
        except KeyError:
            q = None
        order = marking.option_order(track, q.id, attempt.details["seed"]) if q else []
        out.append({"n": n, "id": m["id"], "kind": m["kind"], "right": m["right"], "points": m["points"],
                    "max": m["max"], "given": list(m["given"]), "correct": list(m["correct"]),
                    "stem": q.stem if q else None, "explanation": q.explanation if q else None,
                    "options": [(k, q.options[k], k in m["given"], k in m["correct"]) for k in order]})
    return out


def start_cert_drill(attempt: CertificationAttempt, scenario_id: str, language: str = "zh-CN") -> Drill:
    """Start (or resume, if still active) the attempt's test-mode drill on a drawn
    scenario. The drill's report stays held back until the attempt is marked. Commits
    (audited `certification_drill_started`). Starts at once make one drill: the
    database keeps one per attempt and scenario, and the start that loses the race
    returns the winner's drill. CertificationError 400 for a scenario that was not
    drawn, 409 when that drill already ended or the attempt is closed."""
    _require_open(attempt)
    if scenario_id not in attempt.details["drills"]:
        raise CertificationError("not_drawn", f"scenario {scenario_id!r} is not one of this attempt's drills")
    existing = attempt_drills(attempt).get(scenario_id)
    if existing is not None:
        return _resumed(existing)
    scenario = drills.find_scenario(scenario_id, language) or drills.find_scenario(scenario_id, "zh-CN")
    if scenario is None:
        raise CertificationError("unknown_scenario", f"no scenario {scenario_id!r}", 404)
    # Persona from the attempt's seed: reproducible, and not the trainee's choice in a test.
    rng = random.Random(f"{attempt.details['seed']}:{scenario_id}")
    persona = rng.choice(sorted(p.id for p in scenario.personas))
    user = db.session.get(User, attempt.user_id)
    attempt_id = attempt.id
    try:
        drill = drills.start_drill(user, scenario.id, scenario.language, persona, "scripted",
                                   seed=rng.randrange(SEED_MAX), mode="test", report_released=False,
                                   certification=(attempt_id, scenario_id))
    except IntegrityError:
        db.session.rollback()
        winner = db.session.scalar(select(Drill).where(Drill.certification_attempt_id == attempt_id,
                                                       Drill.certification_scenario == scenario_id))
        if winner is None:  # not the race this guards against
            raise
        return _resumed(winner)
    audit.record("certification_drill_started", user, f"drill:{drill.id}", attempt=attempt_id, scenario=scenario_id)
    db.session.commit()
    return drill


def _resumed(drill: Drill) -> Drill:
    if drill.status == "active":
        return drill
    raise CertificationError("drill_done", "this drill is finished; drawn drills are not replayed", 409)


def submit_case(attempt: CertificationAttempt, case_id: str, answer: str) -> CaseAnswer:
    """Store the written answer to a drawn case, once; commits (audited
    `certification_case_submitted`). Sending the same answer again (a double click, even
    two requests racing) returns the stored row. CertificationError 400 for an undrawn
    case or an empty/over-long answer, 409 when a different answer was already submitted."""
    _require_open(attempt)
    if case_id not in attempt.details["cases"]:
        raise CertificationError("not_drawn", f"case {case_id!r} is not one of this attempt's cases")
    text = (answer or "").strip() if isinstance(answer, str) else ""
    if not text:
        raise CertificationError("empty", "the answer is empty")
    if len(text) > MAX_CASE_CHARS:
        raise CertificationError("too_long", f"the answer is longer than {MAX_CASE_CHARS} characters")
    if (stored := case_answers(attempt).get(case_id)) is not None:
        return _resent(stored, text)
    row = CaseAnswer(attempt_id=attempt.id, case_id=case_id, answer=text, submitted_at=utcnow())
    db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError:
        # The other request of a double click stored its answer after the check above.
        db.session.rollback()
        return _resent(case_answers(attempt)[case_id], text)
    audit.record("certification_case_submitted", attempt.user_id, f"case_answer:{row.id}",
                 attempt=attempt.id, case=case_id, chars=len(text))
    db.session.commit()
    return row


def _resent(stored: CaseAnswer, text: str) -> CaseAnswer:
    if stored.answer != text:
        raise CertificationError("case_submitted", "this case is already answered", 409)
    return stored


# --- marking cases ------------------------------------------------------------------------

def may_mark(trainer, case_answer: CaseAnswer) -> bool:
    """Only the trainer leading the candidate's cohort marks their cases."""
    owner = case_answer.attempt.user
    return (getattr(trainer, "role", None) == "trainer" and owner is not None
            and any(c.trainer_id == trainer.id for c in owner.cohorts))


def marking_queue(trainer, include_marked: bool = False) -> list[CaseAnswer]:
    """Case answers of open attempts by trainees of this trainer's cohorts, oldest first."""
    query = (select(CaseAnswer).join(CertificationAttempt, CaseAnswer.attempt_id == CertificationAttempt.id)
             .where(CertificationAttempt.user_id.in_(scoring.led_member_ids(trainer)), CertificationAttempt.status == "open"))
    if not include_marked:
        query = query.where(CaseAnswer.mark.is_(None))
    return list(db.session.scalars(query.order_by(CaseAnswer.submitted_at, CaseAnswer.id)))


def mark_case(case_answer: CaseAnswer, trainer, marks_per_key_point: Mapping[str, float],
              feedback: str = "") -> CaseAnswer:
    """Store a trainer's marks (per key point, bounds from the track) and commit
    (audited `case_marked`, with any previous mark); then finalise the attempt if it is
    complete. CertificationError 403 for a trainer of another cohort, 400 for bad marks,
    409 when the attempt is already marked."""
    if not may_mark(trainer, case_answer):
        raise CertificationError("not_your_trainee", "only the trainer of the candidate's cohort marks this case", 403)
    attempt = case_answer.attempt
    _require_open(attempt)
    track = get_track(attempt.track_id)
    try:
        total = marking.case_total(track, case_answer.case_id, dict(marks_per_key_point))
    except ValueError as exc:
        raise CertificationError("bad_marks", str(exc)) from None
    _hold_open(attempt)
    db.session.refresh(case_answer)
    previous = case_answer.mark
    case_answer.mark, case_answer.marked_by_id, case_answer.marked_at = total, trainer.id, utcnow()
    case_answer.feedback = (feedback or "").strip()[:MAX_CASE_CHARS] or None
    _set_details(attempt, case_marks={**attempt.details.get("case_marks", {}),
                                      case_answer.case_id: {k: float(v) for k, v in marks_per_key_point.items()}})
    audit.record("case_marked", trainer, f"case_answer:{case_answer.id}", attempt=attempt.id,
                 case=case_answer.case_id, mark=total, previous=previous, marks=dict(marks_per_key_point))
    db.session.commit()
    if not missing(attempt):
        try:
            finalise_attempt(attempt, actor=trainer)
        except CertificationError as exc:
            if exc.code != "attempt_closed":
                raise
            # The same mark sent twice at once: the other request graded the attempt.
    return case_answer


class _Suggestion(BaseModel):
    model_config = ConfigDict(extra="ignore")
    marks: dict[str, float] = Field(description="key point id -> suggested points")
    rationale: str = Field("", max_length=4000)


def _llm_client():
    config = current_app.config
    if not config.get("OPENAI_BASE_URL"):
        return None
    from app.core.llm import LLMClient

    return LLMClient(config["OPENAI_BASE_URL"], config.get("OPENAI_API_KEY"), config["OPENAI_MODEL"],
                     timeout=float(config.get("OPENAI_TIMEOUT") or 20))


def suggest_case_mark(case_answer: CaseAnswer, client=None) -> dict | None:
    """Ask the LLM for an advisory mark per key point and store it in
    `case_answer.suggestion` (commits, audited `case_mark_suggested`). Returns None,
    storing nothing, when no LLM is configured or the reply fails or breaks the schema
    or the track's bounds: a suggestion is optional and never an error."""
    client = client or _llm_client()
    if client is None:
        return None
    track = get_track(case_answer.attempt.track_id)
    case = track.case(case_answer.case_id)
    result = client.chat("case_mark_suggestion", marking.suggestion_messages(case, case_answer.answer),
                         temperature=0.0, seed=0, json_mode=True)
    if not result.ok:
        log.warning("case mark suggestion failed: %s", result.error)
        return None
    try:
        parsed = _Suggestion.model_validate(json.loads(result.text))
        total = marking.case_total(track, case.id, parsed.marks)
    except (ValueError, ValidationError) as exc:  # JSONDecodeError is a ValueError
        log.warning("case mark suggestion rejected: %s", str(exc)[:300])
        return None
    suggestion = {"marks": parsed.marks, "total": total, "rationale": parsed.rationale,
                  "model": result.model, "latency_ms": result.latency_ms}
    case_answer.suggestion = suggestion
    audit.record("case_mark_suggested", None, f"case_answer:{case_answer.id}", total=total, model=result.model)
    db.session.commit()
    return suggestion


# --- finishing ------------------------------------------------------------------------------

def _drill_score(drill: Drill | None):
    """(score, flagged) of an ended drill, scoring it now if the end hook has not; None otherwise."""
    if drill is None or drill.status != "ended":
        return None
    score = scoring.latest_score(drill)
    if score is None:
        try:
            score = scoring.score_on_end(drill)
        except Exception:  # noqa: BLE001 - an unscoreable drill leaves the attempt incomplete, not broken
            log.exception("could not score certification drill %s", drill.id)
            return None
    return score


def missing(attempt: CertificationAttempt) -> list[str]:
    """What the attempt still lacks before it can be graded (empty when complete)."""
    out = [] if attempt.exam_score is not None else ["exam"]
    by_scenario = attempt_drills(attempt)
    for sid in attempt.details["drills"]:
        if _drill_score(by_scenario.get(sid)) is None:
            out.append(f"drill:{sid}")
    answers = case_answers(attempt)
    for cid in attempt.details["cases"]:
        if cid not in answers or answers[cid].mark is None:
            out.append(f"case:{cid}")
    return out


def attempts_in_progress(limit: int = 500) -> list[tuple[CertificationAttempt, list[str]]]:
    """Attempts not graded yet (open or submitted), oldest first, each with what it still
    lacks (`missing`): what HR follows while a certification runs."""
    rows = db.session.scalars(select(CertificationAttempt).where(CertificationAttempt.status.in_(("open", "submitted")))
                              .order_by(CertificationAttempt.started_at, CertificationAttempt.id).limit(limit)).all()
    return [(a, missing(a)) for a in rows]


def finalise_attempt(attempt: CertificationAttempt, actor=None) -> marking.Outcome:
    """Grade a complete attempt: store section points, total, grade and the outcome
    (with reasons) in `details`, release its drill reports, add a CertificationResult
    when certified; commits (audited `certification_finalised`). CertificationError
    409 when the attempt is closed or still incomplete (the message lists what is missing)."""
    _require_open(attempt)
    lacking = missing(attempt)
    if lacking:
        raise CertificationError("incomplete", "the attempt is not complete: " + ", ".join(lacking), 409)
    track = get_track(attempt.track_id)
    by_scenario = attempt_drills(attempt)
    drill_scores, drill_ids = [], {}
    for sid in attempt.details["drills"]:
        drill = by_scenario[sid]
        score = _drill_score(drill)
        drill_ids[sid] = drill.id
        cur = current_score(drill, score)  # the trainer's review and any hints count, as everywhere
        drill_scores.append(marking.DrillScore(sid, cur.total, cur.max_total, cur.flagged))
    # Two finishes at once (a double click, the trainer's last mark racing the trainee's
    # "finish") both passed the check above: the conditional UPDATE lets one grade the
    # attempt and holds its row until the commit; the other waits, finds it marked, 409.
    # (After the drill scores, whose commits would release the lock.)
    _hold_open(attempt)
    cases = {cid: attempt.details["case_marks"].get(cid, {}) for cid in attempt.details["cases"]}
    outcome = marking.grade(track, attempt.exam_score, drill_scores, cases)
    attempt.drill_score, attempt.case_score = outcome.drill_points, outcome.case_points
    attempt.total, attempt.grade = outcome.total, outcome.grade
    attempt.status, attempt.finished_at = "marked", utcnow()
    _set_details(attempt, outcome=outcome.to_dict(), drill_ids=drill_ids, graded_with_version=track.version)
    for drill in by_scenario.values():
        drill.report_released = True
    if outcome.certified:
        db.session.add(CertificationResult(user_id=attempt.user_id, attempt_id=attempt.id, track_id=track.id,
                                           grade=outcome.grade, total=outcome.total, awarded_at=attempt.finished_at,
                                           verification_code=policy.new_code(),
                                           valid_until=policy.valid_until(track, attempt.finished_at)))
    audit.record("certification_finalised", actor, f"certification_attempt:{attempt.id}",
                 total=outcome.total, grade=outcome.grade, passed_exam=outcome.passed_exam)
    db.session.commit()
    return outcome


# --- verification ---------------------------------------------------------------------------

def verify(code_text: str) -> CertificationResult | None:
    """The certificate a typed verification code names, or None (also for text that
    cannot be a code, which is not looked up)."""
    code = policy.normalise_code(code_text)
    if code is None:
        return None
    return db.session.scalar(select(CertificationResult).where(CertificationResult.verification_code == code))


def certificate_facts(result: CertificationResult, now=None) -> dict:
    """What a certificate states, for the PDF and the public verification page: holder,
    track and grade titles per language, total to at most one decimal, award date,
    validity, the organisation and signatory from configuration, and the code."""
    entry = content.catalog().find("track", result.track_id)
    track = entry.model if entry else None
    band = next((b for b in track.grades if b.grade == result.grade), None) if track else None
    now = now or utcnow()
    config = current_app.config
    return {
        "holder": result.user.display_name if result.user else "—",
        "track_title": track.title if track else {"zh-CN": result.track_id, "en": result.track_id},
        "grade_title": band.title if band else {"zh-CN": result.grade, "en": result.grade},
        "total": policy.one_decimal(result.total),
        "track_total": policy.one_decimal(track.total) if track else None,
        "awarded_at": result.awarded_at,
        "valid_until": result.valid_until,
        "valid": result.valid_until is None or now < result.valid_until,
        "code": policy.show_code(result.verification_code) if result.verification_code else None,
        "organisation": config.get("CERT_ORGANISATION") or "",
        "signatory": config.get("CERT_SIGNATORY") or "",
        "signatory_title": config.get("CERT_SIGNATORY_TITLE") or "",
        "seal_text": config.get("CERT_SEAL_TEXT") or config.get("CERT_ORGANISATION") or "",
    }

"""The trainer's review of machine scores: the queue, adjustments, reviewed marks, report release.

A machine `Score` is never overwritten. A trainer's change to one criterion or one
dimension is a `ScoreAdjustment` row; `adjusted_view` replays them in order (the latest
change of a target wins) to give the adjusted points beside the machine ones. Two
trainers adjusting the same score are kept apart by `Score.revision`: `adjust` bumps it
with `UPDATE ... WHERE revision = expected`, so the second writer from a stale page gets
`ReviewConflict` instead of silently overwriting the first.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Iterable

from flask_babel import gettext
from sqlalchemy import func, select, update

from app.core.dates import after_day, day_start
from app.extensions import db
from app.i18n import centre_zone
from app.models import AuditEvent, Drill, ReviewComment, ScenarioVersion, Score, ScoreAdjustment, User
from app.models.base import utcnow
from app.services import audit, notifications
from app.services.scoring import IMPORT_ACTION, cohort_trainees

TARGET_KINDS = ("criterion", "dimension")
REASON_MAX = 2000
COMMENT_MAX = 2000


def N_(msgid: str) -> str:
    """Marks a message for extraction; it is translated when shown (`translated()`)."""
    return msgid


class ShownError(ValueError):
    """Bad input whose message is shown to the user. `str()` is the English text (logs,
    CLI, tests); `translated()` is the reader's language, inside a request."""

    def __init__(self, msgid: str, **params):
        super().__init__(msgid % params if params else msgid)
        self.msgid, self.params = msgid, params

    def translated(self) -> str:
        return gettext(self.msgid, **self.params)


class ReviewError(ShownError):
    """Bad input to a review action."""


class ReviewConflict(RuntimeError):
    """The score changed since the trainer loaded it (another review was saved first)."""

    def __init__(self, score_id: int, expected: int, current: int | None):
        super().__init__(f"score {score_id} is at revision {current}, not {expected}: "
                         "someone else saved a review first; reload and try again")
        self.score_id, self.expected, self.current = score_id, expected, current


# --- the queue ------------------------------------------------------------------------

@dataclass
class QueueFilters:
    """The queue's filters; None means "any". Dates are inclusive calendar days (UTC)."""

    trainee_id: int | None = None
    scenario_id: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    score_min: float | None = None
    score_max: float | None = None
    flagged: bool | None = None  # True: only red-line flagged; False: only unflagged
    unreviewed: bool = False


def _visible_drills(trainer):
    """A WHERE clause for drills of the trainer's cohort trainees and the external
    calls they uploaded (the same reach as `scoring.drill_for_trainer`)."""
    trainee_ids = [u.id for u in cohort_trainees(trainer)]
    uploaded = select(func.substr(AuditEvent.target, 7)).where(  # "drill:<id>"
        AuditEvent.action == IMPORT_ACTION, AuditEvent.actor_id == trainer.id)
    uploaded_ids = [int(t) for t in db.session.scalars(uploaded) if t.isdigit()]
    return Drill.trainee_id.in_(trainee_ids) | (Drill.id.in_(uploaded_ids) & Drill.trainee_id.is_(None))


def review_queue(trainer, filters: QueueFilters | None = None, limit: int = 200) -> list[tuple[Drill, Score | None]]:
    """Ended drills the trainer may review, newest first, each with its latest score
    (None when unscored). Score, flag and reviewed filters drop unscored drills. The
    score range applies to the drill's current score (`drill_score`: after review and
    hints) and the red-line filter to the flags that stand (not overturned), both in Python
    after the SQL filters."""
    from app.services.drill_score import current_score  # it builds on this module

    f = filters or QueueFilters()
    latest = (select(Score.drill_id, func.max(Score.id).label("score_id"))
              .group_by(Score.drill_id).subquery())
    q = (select(Drill, Score)
         .join(ScenarioVersion, Drill.scenario_version_id == ScenarioVersion.id)
         .outerjoin(latest, latest.c.drill_id == Drill.id)
         .outerjoin(Score, Score.id == latest.c.score_id)
         .where(Drill.status == "ended", Drill.mode != "playtest", _visible_drills(trainer)))
    if f.trainee_id is not None:
        q = q.where(Drill.trainee_id == f.trainee_id)
    if f.scenario_id:
        q = q.where(ScenarioVersion.scenario_id == f.scenario_id)
    if f.date_from:
        q = q.where(Drill.started_at >= day_start(f.date_from, centre_zone()))
    if f.date_to and (end := after_day(f.date_to, centre_zone())):
        q = q.where(Drill.started_at < end)
    in_python = f.flagged is not None or f.score_min is not None or f.score_max is not None
    if f.unreviewed:
        q = q.where(Score.id.is_not(None), Score.reviewed_at.is_(None))
    if in_python:
        q = q.where(Score.id.is_not(None))
    q = q.order_by(Drill.started_at.desc(), Drill.id.desc())
    if not in_python:  # otherwise the limit applies after the filters below
        q = q.limit(limit)
    out = []
    for d, s in db.session.execute(q).all():
        # Flags a trainer overturned do not count (`flag_review`): the current score's do.
        if f.flagged is not None and (bool(s.flags) and current_score(d, s).flagged) != f.flagged:
            continue
        if f.score_min is not None or f.score_max is not None:
            total = current_score(d, s).total
            if (f.score_min is not None and total < f.score_min) or (f.score_max is not None and total > f.score_max):
                continue
        out.append((d, s))
        if len(out) >= limit:
            break
    return out


def score_for_trainer(trainer, score_id: int) -> Score | None:
    """The score if its drill is one the trainer may see (see `drill_for_trainer`), else None."""
    from app.services.scoring import drill_for_trainer

    score = db.session.get(Score, score_id)
    if score is None or drill_for_trainer(trainer, score.drill_id) is None:
        return None
    return score


# --- machine and adjusted points --------------------------------------------------------

def _machine(score: Score) -> tuple[dict, dict]:
    """({criterion id: {dimension, score, max}}, {dimension id: {score, max}}) of the machine score."""
    report = score.report or {}
    crits = {c["id"]: {"dimension": c["dimension"], "score": float(c["score"]), "max": float(c["max"])}
             for c in report.get("criteria", [])}
    dims = {k: {"score": float(v["score"]), "max": float(v["max"])}
            for k, v in (score.dimensions or report.get("dimensions") or {}).items()}
    return crits, dims


def _clamp(value: float, top: float) -> float:
    return round(max(0.0, min(top, value)), 2)


def _replay(crits: dict, dims: dict, adjustments: Iterable[ScoreAdjustment]) -> tuple[dict, dict, dict]:
    """Adjusted points per criterion and dimension after the adjustments, in order.

    A dimension change sets that dimension's points; a criterion change moves its
    dimension by the same difference (clamped to 0..max), so whichever came later wins.
    Returns (criterion points, dimension points, latest adjustment per (kind, id)).
    """
    c_pts = {k: v["score"] for k, v in crits.items()}
    d_pts = {k: v["score"] for k, v in dims.items()}
    last: dict = {}
    for adj in sorted(adjustments, key=lambda a: a.id):
        if adj.target_kind == "criterion" and adj.target_id in c_pts:
            dim = crits[adj.target_id]["dimension"]
            delta = adj.adjusted_points - c_pts[adj.target_id]
            c_pts[adj.target_id] = adj.adjusted_points
            if dim in d_pts:
                d_pts[dim] = _clamp(d_pts[dim] + delta, dims[dim]["max"])
        elif adj.target_kind == "dimension" and adj.target_id in d_pts:
            d_pts[adj.target_id] = adj.adjusted_points
        last[(adj.target_kind, adj.target_id)] = adj
    return c_pts, d_pts, last


def _adjustments(score: Score) -> list[ScoreAdjustment]:
    # Queried, not `score.adjustments`: another request may have added rows since the load.
    return list(db.session.scalars(select(ScoreAdjustment).where(ScoreAdjustment.score_id == score.id)
                                   .order_by(ScoreAdjustment.id)))


def adjusted_view(score: Score) -> dict:
    """The score as reviewed, machine points always beside the adjusted ones::

        {"score_id", "revision", "reviewed_by_id", "reviewed_at", "adjusted": bool, "veto_lifted": bool,
         "machine_total", "total", "max_total",
         "dimensions": {dim: {"machine", "adjusted", "max", "adjustment": ScoreAdjustment|None}},
         "criteria": {crit: {"dimension", "machine", "adjusted", "max", "adjustment": ...|None}},
         "history": [ScoreAdjustment, ... oldest first]}

    The adjusted total is the machine total moved by each dimension's difference, so
    anything else in the machine total (such as a hint penalty) is kept. A QA-form
    score vetoed by red lines (total 0, `veto` in the report) counts its dimensions
    again once a trainer has overturned every one of its flags (`veto_lifted`).
    """
    from app.services.flag_review import split_flags  # it builds on this module

    crits, dims = _machine(score)
    history = _adjustments(score)
    c_pts, d_pts, last = _replay(crits, dims, history)
    veto_lifted = bool((score.report or {}).get("veto")) and not split_flags(score)[0]
    base = sum(v["score"] for v in dims.values()) if veto_lifted else score.total
    total = base + sum(d_pts[k] - dims[k]["score"] for k in dims)
    return {
        "score_id": score.id, "revision": score.revision, "reviewed_by_id": score.reviewed_by_id,
        "reviewed_at": score.reviewed_at, "adjusted": bool(history), "veto_lifted": veto_lifted,
        "machine_total": score.total, "total": round(_clamp(total, score.max_total), 1), "max_total": score.max_total,
        "dimensions": {k: {"machine": v["score"], "adjusted": d_pts[k], "max": v["max"],
                           "adjustment": last.get(("dimension", k))} for k, v in dims.items()},
        "criteria": {k: {"dimension": v["dimension"], "machine": v["score"], "adjusted": c_pts[k], "max": v["max"],
                         "adjustment": last.get(("criterion", k))} for k, v in crits.items()},
        "history": history,
    }


# --- changing the review -------------------------------------------------------------------

def _bump_revision(score: Score, reviewer, expected_revision: int) -> None:
    """Take the score's next revision or raise ReviewConflict (rolled back).

    The conditional UPDATE is the lock: on PostgreSQL a concurrent writer blocks on the
    row, then finds the revision moved and updates nothing.
    """
    result = db.session.execute(
        update(Score).where(Score.id == score.id, Score.revision == expected_revision)
        .values(revision=Score.revision + 1, reviewed_by_id=reviewer.id, reviewed_at=utcnow())
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        current = db.session.scalar(select(Score.revision).where(Score.id == score.id))
        raise ReviewConflict(score.id, expected_revision, current)


def _check_changes(score: Score, changes, reason: str) -> list[tuple[str, str, float]]:
    """The point changes checked; an empty list when there are none (no reason needed then)."""
    reason = (reason or "").strip()
    if changes and not reason:
        raise ReviewError(N_("Give a reason for the change."))
    if len(reason) > REASON_MAX:
        raise ReviewError(N_("The reason is longer than %(n)d characters."), n=REASON_MAX)
    crits, dims = _machine(score)
    checked, seen = [], set()
    for kind, target, points in changes:
        table = {"criterion": crits, "dimension": dims}.get(kind)
        if table is None:
            raise ReviewError(N_("Unknown target kind %(kind)s: use criterion or dimension."), kind=repr(kind))
        if target not in table:
            raise ReviewError(N_("This score has no %(kind)s %(target)s."), kind=kind, target=repr(target))
        if (kind, target) in seen:
            raise ReviewError(N_("The %(kind)s %(target)s is changed twice."), kind=kind, target=repr(target))
        seen.add((kind, target))
        try:
            value = float(points)
        except (TypeError, ValueError):
            raise ReviewError(N_("Points for %(target)s must be a number."), target=repr(target)) from None
        top = table[target]["max"]
        if not 0 <= value <= top:  # also refuses NaN
            raise ReviewError(N_("Points for %(target)s must be from 0 to %(top)s."),
                              target=repr(target), top=f"{top:g}")
        checked.append((kind, target, round(value, 2)))
    return checked


def comments(score: Score) -> dict[str, ReviewComment]:
    """The comment in force per criterion id: the latest row of each, cleared ones left out."""
    rows = db.session.scalars(select(ReviewComment).where(ReviewComment.score_id == score.id)
                              .order_by(ReviewComment.id))
    latest = {row.target_id: row for row in rows}
    return {k: row for k, row in latest.items() if row.text}


def _check_comments(score: Score, submitted: dict[str, str] | None) -> list[tuple[str, str]]:
    """(criterion id, text) for each submitted comment that differs from the one in force."""
    if not submitted:
        return []
    crits, _dims = _machine(score)
    current = {k: row.text for k, row in comments(score).items()}
    out = []
    for target, text in submitted.items():
        if target not in crits:
            raise ReviewError(N_("This score has no %(kind)s %(target)s."), kind="criterion", target=repr(target))
        text = (text or "").strip()
        if len(text) > COMMENT_MAX:
            raise ReviewError(N_("A comment is longer than %(n)d characters."), n=COMMENT_MAX)
        if text != current.get(target, ""):
            out.append((target, text))
    return out


def adjust(score: Score, reviewer, changes, reason: str, expected_revision: int,
           comments: dict[str, str] | None = None) -> Score:
    """Record the trainer's changes `[(target_kind, target_id, new_points), ...]` and
    comments `{criterion id: text}` (an empty text clears one); commits.

    One ScoreAdjustment and one `score_adjusted` audit entry per point change, one
    ReviewComment and one `review_commented` entry per comment that differs from the one
    in force, all in one transaction with the revision bump, which also marks the score
    reviewed by `reviewer`. The machine score (total, dimensions, report, criterion rows)
    is not touched. Raises ReviewError (nothing stored) for a point change without a
    reason, an unknown target, points outside 0..max, a comment too long, or nothing
    changed; ReviewConflict when the score is no longer at `expected_revision`.
    """
    checked = _check_changes(score, changes, reason)
    noted = _check_comments(score, comments)
    if not checked and not noted:
        raise ReviewError(N_("Nothing was changed: no points and no comments."))
    crits, dims = _machine(score)
    _bump_revision(score, reviewer, expected_revision)
    try:
        for kind, target, value in checked:
            machine = (crits if kind == "criterion" else dims)[target]["score"]
            adj = ScoreAdjustment(score_id=score.id, reviewer_id=reviewer.id, target_kind=kind, target_id=target,
                                  machine_points=machine, adjusted_points=value, reason=reason.strip())
            db.session.add(adj)
            db.session.flush()
            audit.record("score_adjusted", reviewer, f"score:{score.id}", drill_id=score.drill_id,
                         adjustment_id=adj.id, kind=kind, target_id=target, machine=machine, adjusted=value,
                         reason=reason.strip(), revision=expected_revision + 1)
        for target, text in noted:
            db.session.add(ReviewComment(score_id=score.id, reviewer_id=reviewer.id, target_id=target, text=text))
            audit.record("review_commented", reviewer, f"score:{score.id}", drill_id=score.drill_id,
                         target_id=target, comment=text, revision=expected_revision + 1)
        notifications.review_done(score, expected_revision + 1)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    notifications.deliver_email()
    db.session.refresh(score)
    return score


def mark_reviewed(score: Score, reviewer, expected_revision: int | None = None) -> Score:
    """Mark the score reviewed without changing points (bumps the revision); commits.

    With `expected_revision` it raises ReviewConflict like `adjust`; without it the
    mark goes on whatever revision is current.
    """
    if expected_revision is None:
        expected_revision = db.session.scalar(select(Score.revision).where(Score.id == score.id))
    _bump_revision(score, reviewer, expected_revision)
    audit.record("score_reviewed", reviewer, f"score:{score.id}", drill_id=score.drill_id,
                 revision=expected_revision + 1)
    notifications.review_done(score, expected_revision + 1)
    db.session.commit()
    notifications.deliver_email()
    db.session.refresh(score)
    return score


def release_report(drill: Drill, trainer) -> bool:
    """Let the trainee see a held-back report; commits. Returns False (nothing recorded)
    when it was already released. Raises ReviewError for an unfinished drill."""
    if drill.status != "ended":
        raise ReviewError(N_("The drill has not ended yet."))
    result = db.session.execute(
        update(Drill).where(Drill.id == drill.id, Drill.report_released.is_(False))
        .values(report_released=True).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        return False
    audit.record("report_released", trainer, f"drill:{drill.id}", trainee_id=drill.trainee_id)
    notifications.report_released(drill)
    db.session.commit()
    notifications.deliver_email()
    db.session.refresh(drill)
    return True


def reviewer_name(score: Score) -> str | None:
    if score.reviewed_by_id is None:
        return None
    user = db.session.get(User, score.reviewed_by_id)
    return user.display_name if user else None

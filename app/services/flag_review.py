"""A trainer overturning a false red-line flag, and undoing that.

The machine score keeps its flags as scored. `overturn` and `restore` add a
`FlagOverturn` row and an audit entry under the same revision lock as an adjustment
(`review._bump_revision`), so two trainers acting from one page are kept apart and the
score counts as reviewed. `split_flags(score)` says which flags stand and which a
trainer overturned (with the reason); `drill_score.current_score` reads it, so an
overturned flag is absent wherever the drill's score is used: lists, exports,
analytics, certification (a flagged drill counts 0) and the QA form's 一票否决 (a veto
whose flags were all overturned no longer zeroes the total, see `review.adjusted_view`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.models import FlagOverturn, Score
from app.services import audit
from app.services.review import N_, REASON_MAX, ReviewError, _bump_revision

OVERTURN, RESTORE = "overturn", "restore"


@dataclass(frozen=True)
class Overturned:
    """A flag of the machine score that a trainer overturned, and why."""

    flag: dict  # the report's flag: {id, turns, reason, evidence}
    reason: str
    by: str | None  # the trainer's display name
    at: datetime | None

    @property
    def id(self) -> str:
        return self.flag.get("id", "")


def _latest(score: Score) -> dict[str, FlagOverturn]:
    """The latest overturn/restore row per flag id. Queried, not cached on the score:
    another request may have added rows since it was loaded."""
    rows = db.session.scalars(select(FlagOverturn).where(FlagOverturn.score_id == score.id)
                              .order_by(FlagOverturn.id))
    return {r.flag_id: r for r in rows}


def history(score: Score) -> list[FlagOverturn]:
    """Every overturn and undo of the score's flags, oldest first."""
    return list(db.session.scalars(select(FlagOverturn).where(FlagOverturn.score_id == score.id)
                                   .order_by(FlagOverturn.id)))


def split_flags(score: Score) -> tuple[list[dict], list[Overturned]]:
    """(flags that stand, flags a trainer overturned), both in the report's order."""
    flags = list(score.flags or ())
    latest = _latest(score) if flags else {}
    standing, overturned = [], []
    for f in flags:
        row = latest.get(f.get("id"))
        if row is not None and row.action == OVERTURN:
            overturned.append(Overturned(f, row.reason, row.reviewer.display_name if row.reviewer else None,
                                         row.created_at))
        else:
            standing.append(f)
    return standing, overturned


def _flag_ids(score: Score) -> list[str]:
    return [f.get("id") for f in score.flags or ()]


def _record(score: Score, reviewer, flag_id: str, action: str, reason: str, expected_revision: int) -> Score:
    """Take the revision, then check the flag's state under that lock (a stale page gets
    ReviewConflict first; two trainers cannot both overturn), then store and audit."""
    _bump_revision(score, reviewer, expected_revision)
    try:
        row = _latest(score).get(flag_id)
        overturned = row is not None and row.action == OVERTURN
        if action == OVERTURN and overturned:
            raise ReviewError(N_("This flag is already overturned."))
        if action == RESTORE and not overturned:
            raise ReviewError(N_("This flag is not overturned: there is nothing to undo."))
        row = FlagOverturn(score_id=score.id, flag_id=flag_id, reviewer_id=reviewer.id, action=action, reason=reason)
        db.session.add(row)
        db.session.flush()
        audit.record("flag_overturned" if action == OVERTURN else "flag_overturn_undone", reviewer,
                     f"score:{score.id}", drill_id=score.drill_id, flag_id=flag_id, overturn_id=row.id,
                     reason=reason, revision=expected_revision + 1)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    db.session.refresh(score)
    return score


def overturn(score: Score, reviewer, flag_id: str, reason: str, expected_revision: int) -> Score:
    """Overturn the score's red-line flag `flag_id` as false; commits (one FlagOverturn
    row, one `flag_overturned` audit entry, the revision bump that marks the score
    reviewed). Raises ReviewError (nothing stored) for an empty or too long reason, a
    flag the score does not have or one already overturned; ReviewConflict when the
    score is no longer at `expected_revision`."""
    reason = (reason or "").strip()
    if flag_id not in _flag_ids(score):
        raise ReviewError(N_("This score has no red-line flag %(flag)s."), flag=repr(flag_id))
    if not reason:
        raise ReviewError(N_("Give a reason for overturning the flag."))
    if len(reason) > REASON_MAX:
        raise ReviewError(N_("The reason is longer than %(n)d characters."), n=REASON_MAX)
    return _record(score, reviewer, flag_id, OVERTURN, reason, expected_revision)


def restore(score: Score, reviewer, flag_id: str, reason: str, expected_revision: int) -> Score:
    """Undo the overturn of `flag_id`: the flag stands again; commits (a `restore` row and
    a `flag_overturn_undone` audit entry). The reason may be empty. Raises ReviewError for
    a flag that is not overturned, ReviewConflict like `overturn`."""
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise ReviewError(N_("The reason is longer than %(n)d characters."), n=REASON_MAX)
    if flag_id not in _flag_ids(score):
        raise ReviewError(N_("This score has no red-line flag %(flag)s."), flag=repr(flag_id))
    return _record(score, reviewer, flag_id, RESTORE, reason, expected_revision)

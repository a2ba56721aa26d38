"""The opt-in cohort leaderboard: trainees of one cohort who chose to appear, ranked by
their average score over the last `WINDOW_DAYS` days.

Only released reports count, each by its current score (`drill_score`: after review and
hints), the same figure the trainee's own pages show. A trainee who has not opted in is
never listed, and sees the board only after opting in (no looking without showing).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Drill, User, cohort_members
from app.models.base import utcnow
from app.services.drill_score import current_score

WINDOW_DAYS = 30
MIN_DRILLS = 1


@dataclass
class Row:
    rank: int
    user: User
    drills: int
    average: float
    best: float


def cohort_board(user, now=None) -> list[Row]:
    """The board of `user`'s cohort: opted-in trainees with a scored drill in the window,
    best average first (ties: more drills, then name). Empty for a trainee without a
    cohort or who has not opted in. A trainee in several cohorts sees all of them as one board."""
    cohort_ids = [c.id for c in user.cohorts]
    if not cohort_ids or not user.leaderboard_opt_in:
        return []
    since = (now or utcnow()) - timedelta(days=WINDOW_DAYS)
    # A trainee in several cohorts sees their classmates from all of them, each once.
    classmates = select(cohort_members.c.user_id).where(cohort_members.c.cohort_id.in_(cohort_ids))
    members = db.session.scalars(select(User).where(
        User.id.in_(classmates), User.role == "trainee", User.active.is_(True),
        User.leaderboard_opt_in.is_(True))).all()
    scored = []
    for m in members:
        totals = []
        for drill in db.session.scalars(select(Drill).where(
                Drill.trainee_id == m.id, Drill.status == "ended", Drill.report_released.is_(True), Drill.mode != "playtest",
                Drill.started_at >= since)):
            current = current_score(drill)
            if current is not None:
                totals.append(current.total)
        if len(totals) >= MIN_DRILLS:
            scored.append((m, len(totals), round(sum(totals) / len(totals), 1), max(totals)))
    scored.sort(key=lambda r: (-r[2], -r[1], r[0].display_name))
    return [Row(i + 1, m, n, avg, best) for i, (m, n, avg, best) in enumerate(scored)]


def set_opt_in(user, chosen: bool) -> None:
    """The trainee's choice to appear on the board; commits."""
    user.leaderboard_opt_in = bool(chosen)
    db.session.commit()

"""The trainer's page on one trainee: history, trend, weakest criteria, the trainers'
adjustments with their reasons, assignments and their state.

A trainer reaches only the trainees of the cohorts they lead (`scoring.cohort_trainees`,
the rule every trainer page uses); anyone else is None, which the view answers 404.
Held-back reports count here: the trainer sees what the trainee does not yet.
Reads only.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import Drill, Score, ScoreAdjustment, User
from app.services.drill_score import CurrentScore, with_current
from app.services.progress import Progress, trainee_progress
from app.services.scoring import cohort_trainees, latest_score

HISTORY = 50  # drills listed


@dataclass
class AdjustmentView:
    drill: Drill
    at: datetime
    reviewer: str
    item: str  # the criterion's or dimension's title in the reader's language
    machine: float
    adjusted: float
    reason: str


@dataclass
class TraineePage:
    trainee: User
    progress: Progress
    history: list[tuple[Drill, CurrentScore | None]] = field(default_factory=list)  # newest first
    adjustments: list[AdjustmentView] = field(default_factory=list)  # newest first


def visible_trainee(trainer, user_id: int) -> User | None:
    """The trainee if they are in a cohort this trainer leads, else None."""
    return next((u for u in cohort_trainees(trainer) if u.id == user_id), None)


def _title(texts: Any, language: str, fallback: str) -> str:
    if isinstance(texts, dict):
        return texts.get(language) or texts.get("zh-CN") or next(iter(texts.values()), fallback)
    return str(texts or fallback)


def _adjustments(trainee: User, language: str) -> list[AdjustmentView]:
    rows = db.session.execute(
        select(ScoreAdjustment, Score, Drill).join(Score, ScoreAdjustment.score_id == Score.id)
        .join(Drill, Score.drill_id == Drill.id).where(Drill.trainee_id == trainee.id, Drill.mode != "playtest")
        .order_by(ScoreAdjustment.created_at.desc(), ScoreAdjustment.id.desc())).all()
    out = []
    for adj, score, drill in rows:
        rubric = (score.rubric_version.data if score.rubric_version else None) or {}
        key = "dimensions" if adj.target_kind == "dimension" else "criteria"
        base = adj.target_id.split(".")[0]
        titles = {x["id"]: x.get("title") for x in rubric.get(key, [])}
        title = _title(titles.get(base), language, base)
        if "." in adj.target_id:  # an expanded item: name the scenario's item too
            item = adj.target_id.split(".", 1)[1]
            data = drill.scenario_version.data or {}
            texts = {p.get("id"): p.get("text")
                     for k in ("knowledge_points", "resolution_items") for p in data.get(k, [])}
            title = f"{title}: {texts.get(item) or item}"
        reviewer = db.session.get(User, adj.reviewer_id)
        out.append(AdjustmentView(drill, adj.created_at, reviewer.display_name if reviewer else "—", title,
                                  adj.machine_points, adj.adjusted_points, adj.reason))
    return out


def trainee_page(trainee: User, language: str) -> TraineePage:
    """Everything the trainer's page on `trainee` shows (see the module docstring)."""
    drills = db.session.scalars(select(Drill).where(Drill.trainee_id == trainee.id, Drill.mode != "playtest")
                                .order_by(Drill.started_at.desc(), Drill.id.desc()).limit(HISTORY)).all()
    return TraineePage(trainee=trainee, progress=trainee_progress(trainee, language, released_only=False),
                       history=with_current([(d, latest_score(d)) for d in drills]),
                       adjustments=_adjustments(trainee, language))

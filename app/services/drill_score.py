"""A drill's current score: the one figure every page, download, list, export, chart
and certification grade shows for a drill.

It is built in one order, always the same: the latest machine `Score`, then the
trainer's adjustments to it (replayed by `review`, the latest change of a target
wins) and the red-line flags the trainer overturned (`flag_review`: an overturned flag
is absent, and a QA-form veto whose flags were all overturned lifts), then the hint penalty (hints used x the drill's price per hint). The machine
figures stay beside the result, so a page can say what changed and why. Nothing else
in the app adds, subtracts or rescales a drill's total: it reads `CurrentScore.total`.

Whether the trainee may see it is part of the answer (`released`): a report the
trainer holds back shows nowhere on the trainee's side until it is released.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app, has_app_context

from app.models import Drill, Score
from app.services import review
from app.services.flag_review import Overturned, split_flags
from app.services.scoring import latest_score

DEFAULT_HINT_PENALTY = 2.0


@dataclass(frozen=True)
class Change:
    """One target the trainer changed (its latest change), machine points beside the new ones."""

    kind: str  # criterion | dimension
    target: str
    machine: float
    adjusted: float
    reason: str
    at: datetime | None


@dataclass(frozen=True)
class CurrentScore:
    score: Score  # the machine score row it starts from (id, report, scorer, reviewed_at)
    machine_total: float
    max_total: float
    reviewed_total: float  # after the trainer's adjustments, before hints
    hints_used: int
    hint_penalty: float  # points off in all for hints
    total: float  # what the drill counts as, everywhere
    changes: tuple[Change, ...] = ()
    dimensions: dict[str, dict] = field(default_factory=dict)  # id -> {"machine", "points", "max"}
    criteria: dict[str, float] = field(default_factory=dict)  # criterion id -> points after review
    flags: tuple[dict, ...] = ()  # the red-line flags that stand (a trainer's overturn removes one)
    overturned: tuple[Overturned, ...] = ()  # flags a trainer overturned as false, with the reason
    released: bool = True  # the trainee may see it

    @property
    def adjusted(self) -> bool:
        return bool(self.changes)

    @property
    def reason(self) -> str | None:
        """The trainer's reason for the latest change, None when nothing was changed."""
        if not self.changes:
            return None
        return max(self.changes, key=lambda c: (c.at is not None, c.at or datetime.min)).reason

    @property
    def reasons(self) -> list[str]:
        """Each distinct reason the trainer gave, in the order given."""
        out: list[str] = []
        for c in self.changes:
            if c.reason not in out:
                out.append(c.reason)
        return out

    @property
    def flagged(self) -> bool:
        return bool(self.flags)

    @property
    def reviewed_at(self) -> datetime | None:
        return self.score.reviewed_at

    @property
    def percent(self) -> float | None:
        return 100.0 * self.total / self.max_total if self.max_total else None


def hint_penalty_per_hint(drill: Drill, default: float | None = None) -> float:
    """Points one hint costs on this drill: its assignment's figure, else `default`,
    else the app's HINT_PENALTY setting (2 outside an app)."""
    if drill.assignment is not None and drill.assignment.hint_penalty is not None:
        return float(drill.assignment.hint_penalty)
    if default is not None:
        return float(default)
    if has_app_context():
        return float(current_app.config.get("HINT_PENALTY", DEFAULT_HINT_PENALTY))
    return DEFAULT_HINT_PENALTY


def combine(reviewed_total: float, max_total: float, hints_used: int, per_hint: float) -> tuple[float, float]:
    """(hint penalty, final total) from the reviewed total: the penalty comes off last,
    the total never below 0 nor above the maximum."""
    penalty = round(max(0, hints_used) * max(0.0, per_hint), 1)
    return penalty, round(max(0.0, min(max_total, reviewed_total - penalty)), 1)


def current_score(drill: Drill, score: Score | None = None) -> CurrentScore | None:
    """The drill's current score, or None while it has no machine score.

    `score` may pass the drill's latest score when the caller already has it; it must be
    that drill's latest (a stale row would give a stale total).
    """
    if score is None:
        score = latest_score(drill)
    if score is None:
        return None
    view = review.adjusted_view(score)
    changes = []
    for kind, table in (("dimension", view["dimensions"]), ("criterion", view["criteria"])):
        for target, row in table.items():
            adj = row["adjustment"]
            if adj is not None:
                changes.append(Change(kind, target, float(row["machine"]), float(row["adjusted"]), adj.reason,
                                      adj.created_at))
    changes.sort(key=lambda c: (c.at is not None, c.at or datetime.min))
    standing, overturned = split_flags(score)
    hints = drill.hints_used or 0
    penalty, total = combine(view["total"], score.max_total, hints, hint_penalty_per_hint(drill) if hints else 0.0)
    return CurrentScore(
        score=score, machine_total=score.total, max_total=score.max_total, reviewed_total=view["total"],
        hints_used=hints, hint_penalty=penalty, total=total, changes=tuple(changes),
        dimensions={k: {"machine": v["machine"], "points": v["adjusted"], "max": v["max"]}
                    for k, v in view["dimensions"].items()},
        criteria={k: v["adjusted"] for k, v in view["criteria"].items()},
        flags=tuple(standing), overturned=tuple(overturned), released=bool(drill.report_released))


def with_current(rows) -> list[tuple[Drill, CurrentScore | None]]:
    """[(drill, latest Score or None)] -> [(drill, CurrentScore or None)], for lists."""
    return [(d, current_score(d, s) if s is not None else None) for d, s in rows]

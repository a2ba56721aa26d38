"""Drills, their turns, machine scores, trainer adjustments and overturned red-line flags."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class Drill(db.Model):
    """One role-play call (or an imported real call) by one agent against one scenario version."""

    __tablename__ = "drills"
    # One drill per drawn scenario of a certification attempt, however many starts race
    # (NULLs are distinct, so drills outside certification are not constrained).
    __table_args__ = (UniqueConstraint("certification_attempt_id", "certification_scenario",
                                       name="uq_drills_attempt_scenario"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trainee_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id"), index=True)
    # Imported real calls may belong to an agent who has no account.
    external_agent: Mapped[Optional[str]] = mapped_column(String(120))
    scenario_version_id: Mapped[int] = mapped_column(ForeignKey("scenario_versions.id"), index=True)
    persona: Mapped[Optional[str]] = mapped_column(String(64))
    customer_kind: Mapped[str] = mapped_column(String(16), default="scripted")  # scripted | llm | import
    llm_model: Mapped[Optional[str]] = mapped_column(String(120))
    seed: Mapped[int] = mapped_column(Integer, default=0)
    mode: Mapped[str] = mapped_column(String(16), default="practice")  # practice | test
    status: Mapped[str] = mapped_column(String(16), default="active", index=True)  # active | ended
    outcome: Mapped[Optional[str]] = mapped_column(String(16))  # resolved | escalated | hung_up | unfinished
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    ended_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    assignment_id: Mapped[Optional[int]] = mapped_column(ForeignKey("assignments.id", ondelete="SET NULL"), index=True)
    certification_attempt_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("certification_attempts.id", ondelete="SET NULL"), index=True
    )
    # The drawn scenario id this drill plays for its certification attempt (None outside one).
    certification_scenario: Mapped[Optional[str]] = mapped_column(String(64))
    hints_used: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Test-mode drills may hold the report back until the trainer releases it.
    report_released: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa_true())

    trainee = relationship("User", foreign_keys=[trainee_id])
    assignment = relationship("Assignment")
    scenario_version = relationship("ScenarioVersion")
    turns: Mapped[list["Turn"]] = relationship(
        back_populates="drill", order_by="Turn.position", cascade="all, delete-orphan"
    )
    scores: Mapped[list["Score"]] = relationship(
        back_populates="drill", order_by="Score.id", cascade="all, delete-orphan"
    )


class Turn(db.Model):
    __tablename__ = "turns"
    __table_args__ = (UniqueConstraint("drill_id", "position", name="uq_turns_drill_position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    drill_id: Mapped[int] = mapped_column(ForeignKey("drills.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    speaker: Mapped[str] = mapped_column(String(16))  # agent | customer
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Simulator state after this turn: a drill resumes from the last turn's state on any worker.
    state: Mapped[Optional[dict]] = mapped_column(JSON)
    # Events, recognised acts, LLM model/latency/tokens, fallback reasons, hint flags.
    meta: Mapped[Optional[dict]] = mapped_column(JSON)

    drill: Mapped[Drill] = relationship(back_populates="turns")


class Score(db.Model):
    """A machine score of a drill under one rubric version. Never overwritten: re-scoring adds a row."""

    __tablename__ = "scores"
    # One end-of-call score per drill, however many requests race to make it (NULLs are
    # distinct, so re-scores are not constrained).
    __table_args__ = (UniqueConstraint("drill_id", "origin", name="uq_scores_drill_origin"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    drill_id: Mapped[int] = mapped_column(ForeignKey("drills.id", ondelete="CASCADE"), index=True)
    rubric_version_id: Mapped[int] = mapped_column(ForeignKey("rubric_versions.id"))
    scorer_kind: Mapped[str] = mapped_column(String(32))  # rules | rules+judge
    total: Mapped[float] = mapped_column(Float)
    max_total: Mapped[float] = mapped_column(Float)
    dimensions: Mapped[dict] = mapped_column(JSON)  # {"knowledge": {"score": 24.0, "max": 30}, ...}
    flags: Mapped[list] = mapped_column(JSON, default=list)
    report: Mapped[dict] = mapped_column(JSON)  # the full score output
    judge: Mapped[Optional[dict]] = mapped_column(JSON)  # LLM judge result, kept beside the rules
    # "end" for the score the drill got when its call ended (or was imported); None for re-scores.
    origin: Mapped[Optional[str]] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Optimistic lock for concurrent trainer adjustments.
    revision: Mapped[int] = mapped_column(Integer, default=0)
    reviewed_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    drill: Mapped[Drill] = relationship(back_populates="scores")
    rubric_version = relationship("RubricVersion")
    criteria: Mapped[list["CriterionResult"]] = relationship(
        back_populates="score", order_by="CriterionResult.position", cascade="all, delete-orphan"
    )
    adjustments: Mapped[list["ScoreAdjustment"]] = relationship(
        back_populates="score", order_by="ScoreAdjustment.id", cascade="all, delete-orphan"
    )


class CriterionResult(db.Model):
    __tablename__ = "criterion_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    score_id: Mapped[int] = mapped_column(ForeignKey("scores.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    criterion_id: Mapped[str] = mapped_column(String(64))
    dimension: Mapped[str] = mapped_column(String(32))
    points: Mapped[float] = mapped_column(Float)
    max_points: Mapped[float] = mapped_column(Float)
    evidence: Mapped[list] = mapped_column(JSON, default=list)
    feedback: Mapped[str] = mapped_column(Text, default="")

    score: Mapped[Score] = relationship(back_populates="criteria")


class ScoreAdjustment(db.Model):
    """A trainer's change to one criterion or dimension; the machine score stays as it was."""

    __tablename__ = "score_adjustments"

    id: Mapped[int] = mapped_column(primary_key=True)
    score_id: Mapped[int] = mapped_column(ForeignKey("scores.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    target_kind: Mapped[str] = mapped_column(String(16))  # criterion | dimension
    target_id: Mapped[str] = mapped_column(String(64))
    machine_points: Mapped[float] = mapped_column(Float)
    adjusted_points: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    score: Mapped[Score] = relationship(back_populates="adjustments")
    reviewer = relationship("User")


class FlagOverturn(db.Model):
    """A trainer overturning a red-line flag of a machine score as false (`action`
    "overturn"), or undoing that (`action` "restore"). Rows are only added: the latest
    row of a (score, flag) says whether the flag stands; the machine score keeps it."""

    __tablename__ = "flag_overturns"

    id: Mapped[int] = mapped_column(primary_key=True)
    score_id: Mapped[int] = mapped_column(ForeignKey("scores.id", ondelete="CASCADE"), index=True)
    flag_id: Mapped[str] = mapped_column(String(64))  # the red-line id, one flag per id in a report
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(16))  # overturn | restore
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    score: Mapped[Score] = relationship()
    reviewer = relationship("User")

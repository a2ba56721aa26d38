"""Drill assignments: what a trainer asks a cohort or chosen trainees to practise, by when."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class Assignment(db.Model):
    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    scenario_ids: Mapped[list] = mapped_column(JSON)  # one or more scenario ids
    language: Mapped[str] = mapped_column(String(8), default="zh-CN")
    persona: Mapped[Optional[str]] = mapped_column(String(64))  # None: trainee chooses
    mode: Mapped[str] = mapped_column(String(16), default="practice")  # practice | test
    due_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    min_attempts: Mapped[int] = mapped_column(Integer, default=1)
    pass_mark: Mapped[float] = mapped_column(Float, default=80.0)
    hints_allowed: Mapped[bool] = mapped_column(Boolean, default=True)
    hint_penalty: Mapped[float] = mapped_column(Float, default=2.0)  # points off the total per hint
    # "immediate": the report shows when the call ends; "trainer": after the trainer releases it.
    report_release: Mapped[str] = mapped_column(String(16), default="immediate")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    created_by = relationship("User")
    targets: Mapped[list["AssignmentTarget"]] = relationship(
        back_populates="assignment", cascade="all, delete-orphan"
    )


class AssignmentTarget(db.Model):
    """One cohort or one trainee an assignment is given to."""

    __tablename__ = "assignment_targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"), index=True)
    cohort_id: Mapped[Optional[int]] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)

    assignment: Mapped[Assignment] = relationship(back_populates="targets")
    cohort = relationship("Cohort")
    user = relationship("User")

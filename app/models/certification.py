"""Certification attempts (exam, drills, cases) and the grades they earn."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import JSON, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class CertificationAttempt(db.Model):
    __tablename__ = "certification_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    track_id: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | submitted | marked
    exam_score: Mapped[Optional[float]] = mapped_column(Float)
    drill_score: Mapped[Optional[float]] = mapped_column(Float)
    case_score: Mapped[Optional[float]] = mapped_column(Float)
    total: Mapped[Optional[float]] = mapped_column(Float)
    grade: Mapped[Optional[str]] = mapped_column(String(16))  # excellent | good | pass | retake
    details: Mapped[dict] = mapped_column(JSON, default=dict)  # drawn questions, answers, drill ids, cases
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    user = relationship("User")


class CertificationResult(db.Model):
    """A grade held: who holds which grade of which track, since when."""

    __tablename__ = "certification_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("certification_attempts.id"))
    track_id: Mapped[str] = mapped_column(String(64), index=True)
    grade: Mapped[str] = mapped_column(String(16), index=True)
    total: Mapped[float] = mapped_column(Float)
    awarded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # Random, unguessable (app.core.certification_policy.new_code): what /verify/<code> looks up.
    verification_code: Mapped[Optional[str]] = mapped_column(String(32), unique=True)
    valid_until: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)  # None: never expires

    user = relationship("User")
    attempt = relationship("CertificationAttempt")


class CaseAnswer(db.Model):
    """A written answer to one case analysis of an attempt, and the trainer's mark."""

    __tablename__ = "case_answers"
    __table_args__ = (UniqueConstraint("attempt_id", "case_id", name="uq_case_answers_attempt_case"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("certification_attempts.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[str] = mapped_column(String(64))
    answer: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    mark: Mapped[Optional[float]] = mapped_column(Float)
    marked_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    marked_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    feedback: Mapped[Optional[str]] = mapped_column(Text)
    # An LLM's suggested mark with its reasons; advisory only, the trainer's mark counts.
    suggestion: Mapped[Optional[dict]] = mapped_column(JSON)

    attempt = relationship("CertificationAttempt")

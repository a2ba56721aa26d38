"""The audit log of sensitive actions, the login-attempt record, and the throttling counters."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64), index=True)  # login, login_failed, score_adjusted, export, ...
    target: Mapped[Optional[str]] = mapped_column(String(200))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    ip: Mapped[Optional[str]] = mapped_column(String(64))
    # Anonymous failed and throttled logins are one row per address per window with the
    # number of attempts here, so a flood of them cannot bury the events that matter.
    count: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    actor: Mapped[Optional["User"]] = relationship(lazy="joined")  # noqa: F821 (app.models.people)


class LoginAttempt(db.Model):
    """Every login attempt, for the record (and to know the addresses a user logs in from)."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    ip: Mapped[Optional[str]] = mapped_column(String(64))
    success: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class LoginThrottle(db.Model):
    """Failed-login counter of one account ("account:<name>") or one client address
    ("address:<ip>"), in the database so it holds across workers. Rows change only by a
    compare-and-set on `version` (app/services/login_throttle.py): parallel attempts each
    claim their own guess, so a burst gets no more guesses than the policy allows."""

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    blocked_until: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    version: Mapped[int] = mapped_column(Integer, default=0)

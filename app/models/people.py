"""Users, roles and cohorts."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Optional

from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models.base import UTCDateTime, utcnow


def password_hash_method() -> str:
    """The app's PASSWORD_HASH_METHOD (config.py): werkzeug's scrypt defaults, cheaper only
    in the testing config; "scrypt" outside an app."""
    return current_app.config.get("PASSWORD_HASH_METHOD", "scrypt") if has_app_context() else "scrypt"


class Role(str, enum.Enum):
    TRAINEE = "trainee"
    TRAINER = "trainer"
    HR = "hr"
    ADMIN = "admin"

    @classmethod
    def values(cls) -> list[str]:
        return [r.value for r in cls]


class Cohort(db.Model):
    """A trainer's training class; trainees belong to at most one."""

    __tablename__ = "cohorts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    trainer_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL", use_alter=True))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    trainer: Mapped[Optional["User"]] = relationship(foreign_keys=[trainer_id])
    members: Mapped[list["User"]] = relationship(
        back_populates="cohort", foreign_keys="User.cohort_id", order_by="User.username"
    )


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16), index=True)
    cohort_id: Mapped[Optional[int]] = mapped_column(ForeignKey("cohorts.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[Optional[str]] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Part of every session's user id (get_id): raising it ends all the user's sessions at
    # once, wherever a copy of the cookie lives (logout, password, role or status change).
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    cohort: Mapped[Optional[Cohort]] = relationship(back_populates="members", foreign_keys=[cohort_id])

    def set_password(self, password: str) -> None:
        # scrypt (werkzeug's default: memory-hard, salted) at the app's PASSWORD_HASH_METHOD.
        self.password_hash = generate_password_hash(password, method=password_hash_method())
        self.end_sessions()  # a new password is worthless if the old sessions live on

    def end_sessions(self) -> None:
        """Invalidate every session cookie issued to this user so far (not committed)."""
        self.session_version = (self.session_version or 0) + 1

    def get_id(self) -> str:
        # Flask-Login stores this in the session cookie; the loader accepts it only while
        # the version still matches (app/auth/loader.py).
        return f"{self.id}:{self.session_version or 0}"

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return bool(self.active)

    def has_role(self, *roles: str | Role) -> bool:
        return self.role in {r.value if isinstance(r, Role) else r for r in roles}

"""Users, roles and cohorts."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Optional

from flask import current_app, has_app_context
from flask_login import UserMixin
from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, Table, false as sa_false
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


# Who is in which cohort: a person may be in several (a new-hire class and a product
# refresher at once), each cohort led by its trainer.
cohort_members = Table(
    "cohort_members", db.metadata,
    Column("cohort_id", ForeignKey("cohorts.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Cohort(db.Model):
    """A trainer's training class; a person may belong to several (`cohort_members`)."""

    __tablename__ = "cohorts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    trainer_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL", use_alter=True))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    trainer: Mapped[Optional["User"]] = relationship(foreign_keys=[trainer_id])
    members: Mapped[list["User"]] = relationship(
        secondary=cohort_members, back_populates="cohorts", order_by="User.username"
    )


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[Optional[str]] = mapped_column(String(8))
    email: Mapped[Optional[str]] = mapped_column(String(254))  # notices are e-mailed here when SMTP is set up
    # Shown on the cohort leaderboard only when the trainee chose so (off by default).
    leaderboard_opt_in: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Part of every session's user id (get_id): raising it ends all the user's sessions at
    # once, wherever a copy of the cookie lives (logout, password, role or status change).
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    cohorts: Mapped[list[Cohort]] = relationship(
        secondary=cohort_members, back_populates="members", order_by="Cohort.name"
    )

    @property
    def cohort_names(self) -> str:
        """The names of the person's cohorts, for lists ("" when none)."""
        return ", ".join(c.name for c in self.cohorts)

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

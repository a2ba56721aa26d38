"""Accounts: authentication with throttling, creating users, demo accounts."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from app.extensions import db
from app.models import Cohort, LoginAttempt, Role, User
from app.services import audit


class AccountError(ValueError):
    """A user-facing problem with account data (duplicate name, unknown role, ...)."""


@dataclass
class LoginOutcome:
    user: User | None
    locked: bool = False
    retry_after: int = 0  # seconds until a locked account may try again


def _locked_for(username: str, max_failures: int, window_seconds: int) -> int:
    """Seconds until the account has fewer than `max_failures` failures in the window
    (the lock lifts when the max_failures-th most recent one leaves it); 0 when not locked."""
    now = datetime.now(timezone.utc)
    stmt = (select(LoginAttempt.at).where(
        LoginAttempt.username == username,
        LoginAttempt.success.is_(False),
        LoginAttempt.at >= now - timedelta(seconds=window_seconds),
    ).order_by(LoginAttempt.at.desc()).offset(max_failures - 1).limit(1))
    oldest_that_counts = db.session.scalar(stmt)
    if oldest_that_counts is None:
        return 0
    return max(1, math.ceil((oldest_that_counts + timedelta(seconds=window_seconds) - now).total_seconds()))


def authenticate(username: str, password: str, ip: str | None, max_failures: int, window_seconds: int) -> LoginOutcome:
    """Check a login; record the attempt and audit it. Commits.

    After `max_failures` failures within the window the account is refused even with
    the right password until the window has passed, so guessing is throttled per
    account across all workers.
    """
    username = username.strip()
    retry_after = _locked_for(username, max_failures, window_seconds)
    if retry_after:
        audit.record("login_throttled", target=username, retry_after=retry_after)
        db.session.commit()
        return LoginOutcome(None, locked=True, retry_after=retry_after)
    user = db.session.scalar(select(User).where(User.username == username))
    ok = user is not None and user.active and user.check_password(password)
    db.session.add(LoginAttempt(username=username, ip=ip, success=ok))
    audit.record("login" if ok else "login_failed", actor=user if ok else None, target=username)
    db.session.commit()
    return LoginOutcome(user if ok else None)


def create_user(username: str, password: str, role: str, display_name: str | None = None,
                cohort: Cohort | None = None) -> User:
    """Add a user (not committed). Raises AccountError on a taken name, bad role or short password."""
    username = username.strip()
    if role not in Role.values():
        raise AccountError(f"unknown role {role!r}; choose one of {', '.join(Role.values())}")
    if not username or len(username) > 64:
        raise AccountError("username must be 1-64 characters")
    if len(password) < 8:
        raise AccountError("password must have at least 8 characters")
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccountError(f"username {username!r} is taken")
    user = User(username=username, display_name=display_name or username, role=role, cohort=cohort)
    user.set_password(password)
    db.session.add(user)
    return user


# Demo accounts for the local default; printed by `flask seed demo` and listed in the README.
DEMO_COHORT = "演示班组 Demo cohort"
DEMO_USERS = [
    ("trainee", "trainee-demo", Role.TRAINEE, "演示学员 Demo trainee"),
    ("trainee2", "trainee-demo", Role.TRAINEE, "演示学员二 Demo trainee 2"),
    ("trainer", "trainer-demo", Role.TRAINER, "演示培训师 Demo trainer"),
    ("hr", "hr-demo-pass", Role.HR, "演示人力 Demo HR"),
    ("admin", "admin-demo", Role.ADMIN, "演示管理员 Demo admin"),
]


def ensure_demo_accounts() -> list[tuple[str, str, str, bool]]:
    """Create the demo cohort and accounts that do not exist yet. Idempotent; commits.

    Returns (username, password, role, created) for each demo account.
    """
    cohort = db.session.scalar(select(Cohort).where(Cohort.name == DEMO_COHORT))
    if cohort is None:
        cohort = Cohort(name=DEMO_COHORT)
        db.session.add(cohort)
    out = []
    for username, password, role, name in DEMO_USERS:
        user = db.session.scalar(select(User).where(User.username == username))
        created = user is None
        if created:
            user = create_user(username, password, role.value, name,
                               cohort=cohort if role is Role.TRAINEE else None)
        if role is Role.TRAINER and cohort.trainer_id is None:
            db.session.flush()
            cohort.trainer_id = user.id
        out.append((username, password, role.value, created))
    db.session.commit()
    return out

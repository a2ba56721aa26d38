"""Accounts: authentication with throttling, creating users, demo accounts."""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from app.core.throttle import Backoff
from app.extensions import db
from app.models import Cohort, LoginAttempt, Role, User
from app.models.base import utcnow
from app.models.people import password_hash_method
from app.services import audit, login_throttle


class AccountError(ValueError):
    """A user-facing problem with account data (duplicate name, unknown role, ...)."""


@dataclass
class LoginOutcome:
    user: User | None
    locked: bool = False
    retry_after: int = 0  # seconds until this client may try again


@dataclass(frozen=True)
class LoginPolicy:
    """The two backoffs every login passes (config: LOGIN_* in config.py)."""

    address: Backoff
    account: Backoff
    audit_window: float  # seconds one aggregated audit row of anonymous failures spans

    @classmethod
    def from_config(cls, config) -> "LoginPolicy":
        window = float(config["LOGIN_WINDOW_SECONDS"])
        return cls(
            address=Backoff(int(config["LOGIN_ADDRESS_FREE"]), float(config["LOGIN_BACKOFF_BASE"]),
                            float(config["LOGIN_ADDRESS_MAX_WAIT"]), window),
            account=Backoff(int(config["LOGIN_MAX_FAILURES"]), float(config["LOGIN_BACKOFF_BASE"]),
                            float(config["LOGIN_ACCOUNT_MAX_WAIT"]), window),
            audit_window=window)


_dummy_hashes: dict[str, str] = {}


def _dummy_password_hash() -> str:
    """A hash of a random password with the same scrypt cost as real ones (the app's
    PASSWORD_HASH_METHOD): checking it takes as long as checking a real user's, so timing
    does not tell which names exist."""
    method = password_hash_method()
    if method not in _dummy_hashes:
        _dummy_hashes[method] = generate_password_hash(secrets.token_hex(16), method=method)
    return _dummy_hashes[method]


def _known_address(username: str, ip: str | None) -> bool:
    """Has this account logged in successfully from this address before? (On a
    connection of its own, like the claims: the request's session holds none yet.)"""
    if ip is None:
        return False
    with db.engine.connect() as conn:
        return conn.execute(select(LoginAttempt.id).where(
            LoginAttempt.username == username, LoginAttempt.ip == ip,
            LoginAttempt.success.is_(True)).limit(1)).first() is not None


def authenticate(username: str, password: str, ip: str | None, policy: LoginPolicy) -> LoginOutcome:
    """Check a login; record the attempt and audit it. Commits.

    Throttled twice, never locked (docs/security.md, "Login throttling"):
    - per client address: after `policy.address.free` failures from one address it waits,
      doubling per further failure up to a cap; this stops one client guessing many names;
    - per account: after `policy.account.free` failures the account's next guess waits,
      doubling up to a short cap, from any address *except* one this account has logged
      in from before, so someone guessing from elsewhere cannot keep the owner out (and
      from a new address the owner waits at most the cap).
    Each guess at an account is claimed atomically before the password is checked, so
    parallel attempts get no more guesses than the policy allows; the address is checked
    before and counted after, so a class behind one address can log in at once. Unknown names are checked
    against a dummy hash: the same work, the same answers, the same throttling.
    """
    username = username.strip()
    now = utcnow()
    address = login_throttle.address_key(ip)
    wait = login_throttle.blocked(address, policy.address, now)
    if wait is not None:
        return _throttled(username, wait, policy)
    by_account = None
    if not _known_address(username, ip):
        by_account = login_throttle.claim(login_throttle.account_key(username), policy.account, now)
        if isinstance(by_account, int):
            return _throttled(username, by_account, policy)
    user = db.session.scalar(select(User).where(User.username == username))
    # Always one scrypt check, also for unknown and inactive users (same time for all).
    matches = check_password_hash(user.password_hash if user is not None else _dummy_password_hash(), password)
    ok = matches and user is not None and user.active
    db.session.add(LoginAttempt(username=username, ip=ip, success=ok))
    if ok:
        audit.record("login", actor=user, target=username)
    else:
        audit.record_anonymous("login_failed", username, policy.audit_window)
    db.session.commit()  # before the give-backs: a request holds one connection at a time
    if ok:
        # A right password is not a failure: the account's claim goes back. It does not
        # wipe the account's other failures, or each login of the owner would hand a
        # guesser elsewhere a fresh set of free guesses; they lapse with the window.
        if by_account is not None:
            login_throttle.give_back(by_account)
    else:
        # The address is counted after the fact: a class behind one address logging in
        # at once never waits on it (a parallel spray may overshoot its free failures by
        # the requests in flight; each account's own guesses stay exact).
        login_throttle.count_failure(address, policy.address, now)
    return LoginOutcome(user if ok else None)


def _throttled(username: str, retry_after: int, policy: LoginPolicy) -> LoginOutcome:
    audit.record_anonymous("login_throttled", username, policy.audit_window)
    db.session.commit()
    return LoginOutcome(None, locked=True, retry_after=retry_after)


def change_password(user: User, current: str, new: str, policy: LoginPolicy) -> LoginOutcome:
    """Set `user`'s password to `new` if `current` is right; commits (audited
    `password_changed`). Every session of the user ends (User.set_password): the caller
    logs the current one in again. A wrong `current` changes nothing (outcome without a
    user) and counts against the account like a failed login, so a stolen session cannot
    guess the password here faster than at the login form (locked: wait first)."""
    if len(new) < 8:
        raise AccountError("password must have at least 8 characters")
    now = utcnow()
    claim = login_throttle.claim(login_throttle.account_key(user.username), policy.account, now)
    if isinstance(claim, int):
        return LoginOutcome(None, locked=True, retry_after=claim)
    if not user.check_password(current):
        return LoginOutcome(None)
    user.set_password(new)
    audit.record("password_changed", actor=user, target=user.username)
    db.session.commit()
    login_throttle.give_back(claim)
    return LoginOutcome(user)


def create_user(username: str, password: str, role: str, display_name: str | None = None,
                cohort: Cohort | list[Cohort] | None = None) -> User:
    """Add a user (not committed), in `cohort` (one or a list; a person may be in several).
    Raises AccountError on a taken name, bad role or short password."""
    username = username.strip()
    if role not in Role.values():
        raise AccountError(f"unknown role {role!r}; choose one of {', '.join(Role.values())}")
    if not username or len(username) > 64:
        raise AccountError("username must be 1-64 characters")
    if len(password) < 8:
        raise AccountError("password must have at least 8 characters")
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccountError(f"username {username!r} is taken")
    cohorts = [] if cohort is None else list(cohort) if isinstance(cohort, (list, tuple)) else [cohort]
    user = User(username=username, display_name=display_name or username, role=role, cohorts=cohorts)
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

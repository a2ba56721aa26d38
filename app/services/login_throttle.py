"""The failed-login counters in the database: claiming a guess, giving it back.

An attempt claims its guess *before* the password is checked: a compare-and-set on the
counter row's `version` (one UPDATE ... WHERE version = :seen, or one INSERT of a new
row), each in its own short transaction outside the request's session. Both SQLite and
PostgreSQL apply such a statement atomically, so of parallel attempts exactly as many
succeed as the policy has guesses left; the losers read the row again and are refused
once it is blocked. A correct password gives its claims back.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from app.core.throttle import Backoff
from app.extensions import db
from app.models import LoginThrottle

T = LoginThrottle.__table__
ROUNDS = 50  # compare-and-set retries under contention before an attempt is refused


@dataclass(frozen=True)
class Claim:
    key: str
    version: int     # the row's version after this claim, to give it back exactly
    failures: int    # the count including this claim
    previous_block: datetime | None = None  # the row's block before this claim


def account_key(username: str) -> str:
    return f"account:{username}"[:80]


def address_key(ip: str | None) -> str:
    return f"address:{ip or 'unknown'}"[:80]


def claim(key: str, policy: Backoff, now: datetime) -> Claim | int:
    """Count one guess against `key`: the Claim, or the seconds to wait (>= 1) when the
    counter is blocked (nothing counted then)."""
    for _ in range(ROUNDS):
        with db.engine.connect() as conn:
            row = conn.execute(select(T.c.failures, T.c.blocked_until, T.c.updated_at, T.c.version)
                               .where(T.c.key == key)).one_or_none()
        if row is None:
            try:
                with db.engine.begin() as conn:
                    _forget_lapsed(conn, policy, now)
                    conn.execute(insert(T).values(key=key, failures=1, blocked_until=policy.blocked_until(1, now),
                                                  updated_at=now, version=1))
            except IntegrityError:
                continue  # a parallel attempt created it first: read it and try again
            return Claim(key, 1, 1)
        blocked_until = _aware(row.blocked_until)
        counted = policy.current(row.failures, _aware(row.updated_at), now)
        if counted and blocked_until is not None and blocked_until > now:  # a lapsed window blocks nothing
            return max(1, math.ceil((blocked_until - now).total_seconds()))
        failures = counted + 1
        with db.engine.begin() as conn:
            done = conn.execute(update(T).where(T.c.key == key, T.c.version == row.version).values(
                failures=failures, blocked_until=policy.blocked_until(failures, now), updated_at=now,
                version=row.version + 1)).rowcount
        if done == 1:
            return Claim(key, row.version + 1, failures, blocked_until if counted else None)
    return 1  # still contended after ROUNDS tries: refuse; the client may try again in a second


def blocked(key: str, policy: Backoff, now: datetime) -> int | None:
    """Seconds to wait (>= 1) while `key` is blocked, else None. Reads only."""
    with db.engine.connect() as conn:
        row = conn.execute(select(T.c.failures, T.c.blocked_until, T.c.updated_at)
                           .where(T.c.key == key)).one_or_none()
    if row is None:
        return None
    until = _aware(row.blocked_until)
    if policy.current(row.failures, _aware(row.updated_at), now) and until is not None and until > now:
        return max(1, math.ceil((until - now).total_seconds()))
    return None


def count_failure(key: str, policy: Backoff, now: datetime) -> None:
    """Count one failed guess against `key` after the fact (the address counter: a class
    behind one address logging in at once must not queue on one row's compare-and-set,
    so the address is checked before and counted after; the account counter keeps the
    exact claims above)."""
    for _ in range(5):
        with db.engine.connect() as conn:
            row = conn.execute(select(T.c.failures, T.c.updated_at, T.c.version).where(T.c.key == key)).one_or_none()
        if row is None:
            try:
                with db.engine.begin() as conn:
                    _forget_lapsed(conn, policy, now)
                    conn.execute(insert(T).values(key=key, failures=1, blocked_until=policy.blocked_until(1, now),
                                                  updated_at=now, version=1))
                return
            except IntegrityError:
                continue
        failures = policy.current(row.failures, _aware(row.updated_at), now) + 1
        with db.engine.begin() as conn:
            if conn.execute(update(T).where(T.c.key == key, T.c.version == row.version).values(
                    failures=failures, blocked_until=policy.blocked_until(failures, now), updated_at=now,
                    version=row.version + 1)).rowcount == 1:
                return
    with db.engine.begin() as conn:  # still contended: count it without the exact backoff
        conn.execute(update(T).where(T.c.key == key).values(failures=T.c.failures + 1, updated_at=now,
                                                             version=T.c.version + 1))


def give_back(c: Claim) -> None:
    """Un-count the guess of `c` (it was not a wrong password). When nobody has claimed
    since, the row is as before the claim (a block the claim set goes too); otherwise
    only the count drops."""
    with db.engine.begin() as conn:
        done = conn.execute(update(T).where(T.c.key == c.key, T.c.version == c.version).values(
            failures=c.failures - 1, blocked_until=c.previous_block, version=c.version + 1)).rowcount
        if not done:
            conn.execute(update(T).where(T.c.key == c.key, T.c.failures > 0).values(
                failures=T.c.failures - 1, version=T.c.version + 1))


def _forget_lapsed(conn, policy: Backoff, now: datetime) -> None:
    """Delete counters whose failures have lapsed and which block nothing: the table holds
    only live counters, however many names or addresses a flood has tried. (Done when a
    counter is created, the only time the table grows; an index covers `updated_at`.)"""
    conn.execute(delete(T).where(T.c.updated_at < now - timedelta(seconds=policy.window),
                                 or_(T.c.blocked_until.is_(None), T.c.blocked_until < now)))


def _aware(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; they are stored as UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value

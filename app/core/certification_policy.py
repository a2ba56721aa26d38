"""The rules around an attempt that are not marking: who may retake, the exam's clock and
pages, certificate validity and verification codes. Pure functions over plain values
(the caller passes `now`), so they are tested without a clock or a database.
"""
from __future__ import annotations

import calendar
import re
import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Sequence

from app.core.certification import Track

# Crockford-style alphabet: no I, L, O, U, so a code read aloud or typed from paper is
# not misread. 20 symbols × 5 bits = 100 random bits: not guessable, not enumerable.
CODE_ALPHABET = string.digits + "".join(c for c in string.ascii_uppercase if c not in "ILOU")
CODE_LENGTH = 20
_CODE_RE = re.compile(rf"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")
# The last autosave may arrive a little after the clock shows 0 (network, a slow page).
GRACE_SECONDS = 30


# ---------------------------------------------------------------- retakes

@dataclass(frozen=True)
class PastAttempt:
    """One earlier attempt on the track, as the retake rules see it."""
    started_at: datetime
    finished_at: datetime | None
    certified: bool
    valid_until: datetime | None = None  # the certificate's end, when certified and it expires


@dataclass(frozen=True)
class Refusal:
    code: str  # stable: passed, max_attempts, wait (a UI translates by code)
    message: str
    until: datetime | None = None  # when the refusal ends, if it does
    limit: int | None = None


def retake_refusal(track: Track, past: Sequence[PastAttempt], now: datetime) -> Refusal | None:
    """Why a new attempt on `track` may not start now, or None when it may.

    - a certified grade blocks further attempts unless `retake.after_pass` is `always`,
      or `when_expired` and the certificate has expired (a renewal);
    - `retake.max_attempts` counts the attempts since the last certified one (a renewal
      starts a new allowance);
    - `retake.wait_hours` runs from the end of the latest attempt (its start, if it
      never ended)."""
    policy = track.retake
    ordered = sorted(past, key=lambda a: a.started_at)
    certified = [a for a in ordered if a.certified]
    if certified:
        last = certified[-1]
        if policy.after_pass == "never":
            return Refusal("passed", "you already hold this certificate; this track allows no retake after a pass")
        if policy.after_pass == "when_expired" and (last.valid_until is None or now < last.valid_until):
            return Refusal("passed", "you already hold a valid certificate; retake once it has expired",
                           until=last.valid_until)
    cycle = [a for a in ordered if not certified or a.started_at > certified[-1].started_at]
    if policy.max_attempts is not None and len(cycle) >= policy.max_attempts:
        return Refusal("max_attempts", f"all {policy.max_attempts} attempts allowed on this track are used",
                       limit=policy.max_attempts)
    if ordered and policy.wait_hours > 0:
        latest = ordered[-1]
        until = (latest.finished_at or latest.started_at) + timedelta(hours=policy.wait_hours)
        if now < until:
            return Refusal("wait", f"the next attempt may start at {until:%Y-%m-%d %H:%M} UTC", until=until)
    return None


# ---------------------------------------------------------------- the exam's clock and pages

def exam_deadline(track: Track, opened_at: datetime | None) -> datetime | None:
    """When the exam is submitted by itself: opening time + `exam.time_limit_minutes`;
    None for an untimed exam or one not opened yet."""
    if opened_at is None or track.exam.time_limit_minutes is None:
        return None
    return opened_at + timedelta(minutes=track.exam.time_limit_minutes)


def seconds_left(deadline: datetime | None, now: datetime) -> int | None:
    """Whole seconds until `deadline` (0 once past); None without a deadline."""
    if deadline is None:
        return None
    return max(0, int((deadline - now).total_seconds()))


def accepts_answers(deadline: datetime | None, now: datetime) -> bool:
    """Whether answers sent at `now` still count (the deadline plus a short grace)."""
    return deadline is None or now <= deadline + timedelta(seconds=GRACE_SECONDS)


def page_count(n_questions: int, page_size: int) -> int:
    return max(1, -(-n_questions // page_size))


def page_of(question_ids: Sequence[str], page: int, page_size: int) -> list[str]:
    """The ids on 1-based `page` (clamped into 1..page_count)."""
    page = min(max(1, page), page_count(len(question_ids), page_size))
    return list(question_ids[(page - 1) * page_size: page * page_size])


# ---------------------------------------------------------------- certificates

def add_months(when: datetime, months: int) -> datetime:
    """`when` plus whole calendar months; the day is clamped to the month's end (31 Jan + 1 = 28/29 Feb)."""
    index = when.month - 1 + months
    year, month = when.year + index // 12, index % 12 + 1
    return when.replace(year=year, month=month, day=min(when.day, calendar.monthrange(year, month)[1]))


def valid_until(track: Track, awarded_at: datetime) -> datetime | None:
    return None if track.valid_months is None else add_months(awarded_at, track.valid_months)


def one_decimal(x: float) -> str:
    """A total as a certificate shows it: half-up to one decimal, no trailing .0 (183.55 -> 183.6, 184.0 -> 184)."""
    d = Decimal(repr(float(x))).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{d:f}".removesuffix(".0")


def new_code() -> str:
    """20 symbols from 100 bits of `secrets` (one call: demo seeding makes 100,000)."""
    n = secrets.randbits(5 * CODE_LENGTH)
    return "".join(CODE_ALPHABET[(n >> (5 * i)) & 31] for i in range(CODE_LENGTH))


def normalise_code(text: str) -> str | None:
    """The stored form of a typed code (upper case, no spaces or dashes, O->0, I/L->1),
    or None when it cannot be a code (so a lookup is not even tried)."""
    if not isinstance(text, str) or len(text) > 64:
        return None
    s = re.sub(r"[\s-]", "", text).upper().translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))
    return s if _CODE_RE.match(s) else None


def show_code(code: str) -> str:
    """Grouped by four for reading: ABCD-EFGH-..."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))

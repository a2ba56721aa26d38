"""Calendar days as bounds on UTC instants, for filters whose days are inclusive."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone


def day_start(day: date) -> datetime:
    """The first UTC instant of `day`: the inclusive lower bound of a filter from it."""
    return datetime.combine(day, time.min, timezone.utc)


def after_day(day: date) -> datetime | None:
    """The first UTC instant after `day`: the exclusive upper bound of a filter up to and
    including it. None for the calendar's last day (9999-12-31), after which no instant
    exists, so such a filter has no upper bound (`day + 1` would overflow)."""
    if day >= date.max:
        return None
    return day_start(day + timedelta(days=1))

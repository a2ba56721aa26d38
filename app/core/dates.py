"""Calendar days (the centre's) as bounds on UTC instants, for filters whose days are
inclusive; stored UTC instants as the centre's local time for people to read."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@lru_cache(maxsize=8)
def zone(name: str) -> ZoneInfo:
    """The IANA time zone `name` (e.g. Asia/Shanghai); ValueError naming it if unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"CENTRE_TIMEZONE: {name!r} is not a known time zone (e.g. Asia/Shanghai)") from None


def local(moment: datetime, zone_name: str) -> datetime:
    """A stored instant in the zone `zone_name`; a naive value is taken as UTC (how the
    database hands back a UTC column on SQLite)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(zone(zone_name))


def day_start(day: date, zone_name: str = "UTC") -> datetime:
    """The first instant of `day` in the zone `zone_name` (the centre's: a trainer in
    Shanghai filtering "12-07" means from 00:00 there), as UTC: the inclusive lower bound
    of a filter from that day. The calendar's first day in a zone east of UTC starts
    before the first UTC instant there is; that bound is the first one."""
    try:
        return datetime.combine(day, time.min, zone(zone_name)).astimezone(timezone.utc)
    except OverflowError:
        return datetime.min.replace(tzinfo=timezone.utc)


def after_day(day: date, zone_name: str = "UTC") -> datetime | None:
    """The first instant after `day` in the zone `zone_name`, as UTC: the exclusive upper
    bound of a filter up to and including that day. None for the calendar's last day
    (9999-12-31), after which no instant exists, so such a filter has no upper bound
    (`day + 1` would overflow)."""
    if day >= date.max:
        return None
    return day_start(day + timedelta(days=1), zone_name)

"""Calendar days as bounds of inclusive date filters, up to the calendar's last day."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from app.core.dates import after_day, day_start


def test_a_day_spans_from_its_start_to_the_next_days_start():
    assert day_start(date(2024, 2, 28)) == datetime(2024, 2, 28, tzinfo=timezone.utc)
    assert after_day(date(2024, 2, 28)) == datetime(2024, 2, 29, tzinfo=timezone.utc)
    assert after_day(date(2023, 12, 31)) == datetime(2024, 1, 1, tzinfo=timezone.utc)


def test_the_calendars_edges():
    assert after_day(date.max) is None  # no instant after it: no upper bound
    assert after_day(date(9999, 12, 30)) == datetime(9999, 12, 31, tzinfo=timezone.utc)
    assert day_start(date.min) == datetime(1, 1, 1, tzinfo=timezone.utc)


def test_a_day_is_the_centres_day():
    # Shanghai is UTC+8 all year: its 12-07 runs from 16:00 UTC on 12-06.
    assert day_start(date(2026, 12, 7), "Asia/Shanghai") == datetime(2026, 12, 6, 16, tzinfo=timezone.utc)
    assert after_day(date(2026, 12, 7), "Asia/Shanghai") == datetime(2026, 12, 7, 16, tzinfo=timezone.utc)
    # A zone west of UTC, across a daylight-saving change (New York, 2026-03-08 has 23 hours).
    assert after_day(date(2026, 3, 8), "America/New_York") - day_start(date(2026, 3, 8), "America/New_York") \
        == timedelta(hours=23)


def test_the_calendars_edges_in_the_centres_zone():
    # The first day in a zone east of UTC starts before the first UTC instant: bound there.
    assert day_start(date.min, "Asia/Shanghai") == datetime.min.replace(tzinfo=timezone.utc)
    assert after_day(date.max, "Asia/Shanghai") is None
    assert after_day(date(9999, 12, 30), "Asia/Shanghai") == datetime(9999, 12, 30, 16, tzinfo=timezone.utc)

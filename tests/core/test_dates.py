"""Calendar days as bounds of inclusive date filters, up to the calendar's last day."""
from __future__ import annotations

from datetime import date, datetime, timezone

from app.core.dates import after_day, day_start


def test_a_day_spans_from_its_start_to_the_next_days_start():
    assert day_start(date(2024, 2, 28)) == datetime(2024, 2, 28, tzinfo=timezone.utc)
    assert after_day(date(2024, 2, 28)) == datetime(2024, 2, 29, tzinfo=timezone.utc)
    assert after_day(date(2023, 12, 31)) == datetime(2024, 1, 1, tzinfo=timezone.utc)


def test_the_calendars_edges():
    assert after_day(date.max) is None  # no instant after it: no upper bound
    assert after_day(date(9999, 12, 30)) == datetime(9999, 12, 31, tzinfo=timezone.utc)
    assert day_start(date.min) == datetime(1, 1, 1, tzinfo=timezone.utc)

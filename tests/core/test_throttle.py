"""The login backoff policy: free failures, doubling waits, a cap, a window that forgets."""
from datetime import datetime, timedelta, timezone

import pytest

from app.core.throttle import Backoff

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)


def test_waits_double_after_the_free_failures_and_stop_at_the_cap():
    b = Backoff(free=5, base=15, cap=300, window=900)
    assert [b.wait(n) for n in range(4, 12)] == [0, 15, 30, 60, 120, 240, 300, 300]
    assert b.wait(10**9) == 300  # no huge power, no overflow: every wait is bounded
    assert b.blocked_until(4, NOW) is None and b.blocked_until(5, NOW) == NOW + timedelta(seconds=15)


def test_failures_are_forgotten_a_window_after_the_last_one():
    b = Backoff(free=5, base=15, cap=300, window=900)
    assert b.current(7, NOW - timedelta(seconds=899), NOW) == 7
    assert b.current(7, NOW - timedelta(seconds=900), NOW) == 0
    assert b.current(7, None, NOW) == 0


@pytest.mark.parametrize("args", [(0, 15, 300, 900), (5, 0, 300, 900), (5, 15, 10, 900), (5, 15, 300, 0)])
def test_an_unusable_policy_is_refused(args):
    with pytest.raises(ValueError):
        Backoff(*args)

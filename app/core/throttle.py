"""Login backoff policy (no Flask, no database): how long a counter of failed logins
makes the next attempt wait.

Two counters stand behind every login (app/services/login_throttle.py): one per client
address and one per account. Each allows `free` failures, then makes the next attempt
wait `base` seconds, doubling with each further failure up to `cap`. A counter forgets
its failures `window` seconds after the last one. There is no hard lock: every wait is
bounded by `cap`, and attempts refused while waiting do not count, so hammering a
blocked counter does not prolong the wait.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Backoff:
    free: int        # failures allowed before any wait
    base: float      # seconds of the first wait
    cap: float       # the longest wait, in seconds
    window: float    # seconds after the last failure when the counter starts again from 0

    def __post_init__(self):
        if self.free < 1 or self.base <= 0 or self.cap < self.base or self.window <= 0:
            raise ValueError(f"unusable login backoff {self}")

    def wait(self, failures: int) -> float:
        """Seconds the attempt after `failures` counted failures must wait (0 below `free`)."""
        if failures < self.free:
            return 0.0
        # min() on the exponent first: 2 ** 10_000 would be a huge int for nothing
        return min(self.cap, self.base * 2 ** min(failures - self.free, 64))

    def blocked_until(self, failures: int, now: datetime) -> datetime | None:
        wait = self.wait(failures)
        return now + timedelta(seconds=wait) if wait else None

    def current(self, failures: int, updated_at: datetime | None, now: datetime) -> int:
        """The failures that still count at `now` (0 once the window has passed)."""
        if updated_at is None or now - updated_at >= timedelta(seconds=self.window):
            return 0
        return failures

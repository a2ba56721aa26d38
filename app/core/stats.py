"""Small descriptive statistics for the trainer's analytics, in plain Python.

Every function takes plain sequences of numbers and answers None (or an empty result)
where a statistic is undefined, so callers can show "not enough data" instead of
dividing by zero. No numpy: the cohorts are small and the results must not depend on
which optional packages happen to be installed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence


def mean(values: Sequence[float]) -> float | None:
    """Arithmetic mean; None for no values."""
    return sum(values) / len(values) if values else None


def stdev(values: Sequence[float], sample: bool = True) -> float | None:
    """Standard deviation (sample, n - 1, by default; population with sample=False).

    None when undefined: no values, or a single value for the sample form.
    """
    n = len(values)
    if n == 0 or (sample and n < 2):
        return None
    m = sum(values) / n
    ss = sum((v - m) ** 2 for v in values)
    return math.sqrt(ss / (n - 1 if sample else n))


def quantile(values: Sequence[float], q: float) -> float | None:
    """The q-quantile (0 ≤ q ≤ 1) by linear interpolation between order statistics
    (numpy's default, "type 7"); None for no values."""
    if not 0 <= q <= 1:
        raise ValueError("q must lie in [0, 1]")
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


@dataclass(frozen=True)
class Bin:
    lo: float
    hi: float
    count: int

    @property
    def label(self) -> str:
        return f"{self.lo:g}–{self.hi:g}"


def histogram(values: Sequence[float], lo: float, hi: float, bins: int) -> list[Bin]:
    """`bins` equal-width bins over [lo, hi]; every bin is [a, b) except the last, which
    also holds `hi`. Values outside [lo, hi] are clamped into the end bins, so counts
    always add up to len(values)."""
    if bins < 1 or hi <= lo:
        raise ValueError("need bins >= 1 and hi > lo")
    width = (hi - lo) / bins
    counts = [0] * bins
    for v in values:
        i = int((v - lo) // width)
        counts[min(max(i, 0), bins - 1)] += 1
    return [Bin(lo + i * width, lo + (i + 1) * width, c) for i, c in enumerate(counts)]


def mean_abs_diff(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Mean of |a_i - b_i| over paired values; None for no pairs."""
    if len(a) != len(b):
        raise ValueError("paired sequences differ in length")
    return sum(abs(x - y) for x, y in zip(a, b)) / len(a) if a else None


def ranks(values: Sequence[float]) -> list[float]:
    """1-based ranks; tied values share the average of the ranks they span."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        avg = (i + j) / 2 + 1
        for k in range(i, j + 1):
            out[order[k]] = avg
        i = j + 1
    return out


def pearson(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Pearson's r; None for fewer than 2 pairs or when either side has no variance."""
    if len(a) != len(b):
        raise ValueError("paired sequences differ in length")
    if len(a) < 2:
        return None
    ma, mb = sum(a) / len(a), sum(b) / len(b)
    sab = sum((x - ma) * (y - mb) for x, y in zip(a, b))
    saa = sum((x - ma) ** 2 for x in a)
    sbb = sum((y - mb) ** 2 for y in b)
    if saa == 0 or sbb == 0:
        return None
    # Clamp rounding noise so a perfect agreement reads exactly ±1.
    return max(-1.0, min(1.0, sab / math.sqrt(saa * sbb)))


def spearman(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Spearman's rho: Pearson's r of the average ranks (the tie-correct form).

    None with fewer than 3 pairs (a rank order of two says nothing) or when either side
    is constant.
    """
    if len(a) != len(b):
        raise ValueError("paired sequences differ in length")
    if len(a) < 3:
        return None
    return pearson(ranks(a), ranks(b))

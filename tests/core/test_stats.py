"""app.core.stats against hand-computed values, cross-checked with scipy where installed."""
import math
import random

import pytest

from app.core import stats


def test_mean_and_stdev():
    xs = [2, 4, 4, 4, 5, 5, 7, 9]
    assert stats.mean(xs) == 5
    assert stats.stdev(xs, sample=False) == 2
    assert stats.stdev(xs) == pytest.approx(math.sqrt(32 / 7))
    assert stats.mean([]) is None and stats.stdev([]) is None and stats.stdev([3]) is None
    assert stats.stdev([3], sample=False) == 0


def test_quantiles_interpolate_like_numpy_default():
    xs = [1, 2, 3, 4]
    assert stats.quantile(xs, 0.5) == 2.5
    assert stats.quantile(xs, 0.25) == 1.75
    assert stats.quantile(xs, 0) == 1 and stats.quantile(xs, 1) == 4
    assert stats.quantile([7], 0.9) == 7 and stats.quantile([], 0.5) is None
    with pytest.raises(ValueError):
        stats.quantile(xs, 1.5)


def test_histogram_counts_every_value_once():
    bins = stats.histogram([0, 9.99, 10, 55, 100, 120, -5], 0, 100, 10)
    assert [b.count for b in bins] == [3, 1, 0, 0, 0, 1, 0, 0, 0, 2]
    assert bins[0].label == "0–10" and bins[-1].hi == 100
    assert sum(b.count for b in stats.histogram([], 0, 100, 5)) == 0
    with pytest.raises(ValueError):
        stats.histogram([1], 5, 5, 3)


def test_mean_abs_diff():
    assert stats.mean_abs_diff([10, 20, 30], [12, 20, 25]) == pytest.approx(7 / 3)
    assert stats.mean_abs_diff([], []) is None
    with pytest.raises(ValueError):
        stats.mean_abs_diff([1], [1, 2])


def test_ranks_average_ties():
    assert stats.ranks([10, 20, 20, 30]) == [1, 2.5, 2.5, 4]
    assert stats.ranks([3, 1, 3, 3]) == [3, 1, 3, 3]


def test_spearman_known_values():
    assert stats.spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) == pytest.approx(0.8207826816681233)
    assert stats.spearman([1, 2, 3], [3, 2, 1]) == -1
    assert stats.spearman([1, 2, 3], [10, 20, 30]) == 1
    # Undefined: fewer than 3 pairs, or a constant side.
    assert stats.spearman([1, 2], [1, 2]) is None
    assert stats.spearman([1, 2, 3], [4, 4, 4]) is None


def test_spearman_agrees_with_scipy():
    scipy_stats = pytest.importorskip("scipy.stats")
    rng = random.Random(5)
    for _ in range(30):
        n = rng.randint(3, 25)
        a = [rng.choice(range(6)) for _ in range(n)]  # many ties
        b = [rng.choice(range(6)) for _ in range(n)]
        ours = stats.spearman(a, b)
        if ours is None:
            assert len(set(a)) == 1 or len(set(b)) == 1
        else:
            assert ours == pytest.approx(scipy_stats.spearmanr(a, b).statistic)

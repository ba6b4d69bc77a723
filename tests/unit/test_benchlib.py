"""bench/benchlib's statistics: the median's confidence interval and the ratio verdict."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import benchlib as bl  # noqa: E402


@pytest.mark.parametrize(
    ("n", "k", "coverage"),
    [
        # k and coverage from the binomial tables: 1 - 2 P(B <= k - 1), B ~ Bin(n, 1/2)
        (9, 2, 1 - 2 * 10 / 512),
        (15, 4, 1 - 2 * 576 / 32768),
        (5, 1, 1 - 2 / 32),  # too few for 95%: min..max
    ],
)
def test_median_interval_picks_the_order_statistics(n: int, k: int, coverage: float) -> None:
    values = [float(v) for v in random.Random(n).sample(range(1000), n)]
    low, high, got = bl.median_interval(values)
    ordered = sorted(values)
    assert (low, high) == (ordered[k - 1], ordered[n - k])
    assert got == pytest.approx(coverage)


def test_median_interval_covers_the_median_as_often_as_it_claims() -> None:
    rnd = random.Random(7)
    trials, hits = 4000, 0
    for _ in range(trials):
        low, high, _ = bl.median_interval([rnd.expovariate(1.0) for _ in range(9)])
        hits += low <= 0.6931471805599453 <= high  # ln 2, the median of Exp(1)
    assert 0.95 <= hits / trials <= 0.975  # claimed 0.961


class _Run:
    def __init__(self, rate: float) -> None:
        self.rate = rate


@pytest.mark.parametrize(
    ("ratios", "verdict"),
    [
        ([0.85, 0.9, 0.95, 0.88, 0.92, 0.86, 0.91, 0.89, 0.93], "yes"),
        ([0.7, 0.75, 0.72, 0.78, 0.74, 0.71, 0.76, 0.73, 0.77], "NO"),
        ([0.72, 0.9, 0.78, 0.83, 0.8, 0.76, 0.85, 0.81, 0.79], "line"),
    ],
)
def test_paired_ratio_verdict(ratios: list[float], verdict: str) -> None:
    result = bl.paired_ratio([_Run(100 * r) for r in ratios], [_Run(100)] * len(ratios), 0.8)
    assert result["verdict"] == verdict
    assert result["meetsTarget"] is (verdict == "yes")  # the JSON agrees with the table
    assert result["ci95"][0] <= result["median"] <= result["ci95"][1]


def test_paired_ratio_gives_no_verdict_on_too_few_rounds() -> None:
    result = bl.paired_ratio([_Run(95), _Run(90)], [_Run(100), _Run(100)], 0.8)
    assert result["verdict"] == "too few rounds"

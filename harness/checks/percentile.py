"""Whether a sample of latencies shows a percentile over its bound.

A sample's own p99 is a poor judge of a service's p99 when the sample is small: of 150 orders it is the
second slowest, so a service whose p99 sits exactly at the SLO shows a sample p99 over it 44% of the
time, and one stall of a busy box (three orders at once) decides the verdict. So the check counts the
orders over the bound and fails only when a service within its SLO would give that many or more less
often than `SIGNIFICANCE`: the one-sided binomial test of "at most 1% of orders are over the bound".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

SIGNIFICANCE = 0.05


def nearest_rank(values: Sequence[float], q: float) -> float:
    """The nearest-rank q-quantile: at least a fraction q of the values are at or below it."""
    ordered = sorted(values)
    return ordered[max(math.ceil(q * len(ordered)), 1) - 1]


def tail_probability(n: int, k: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p): how often n independent draws give k or more over the bound.
    Summed over the tail itself, in logs, so that a small tail is not lost to rounding and a large n
    does not overflow."""
    if k <= 0:
        return 1.0
    log_p, log_q = math.log(p), math.log1p(-p)
    terms = (
        math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * log_p + (n - i) * log_q
        for i in range(k, n + 1)
    )
    return min(1.0, sum(math.exp(t) for t in terms))


@dataclass(frozen=True)
class PercentileTest:
    n: int
    over: int  # values strictly over the bound
    observed: float  # the sample's nearest-rank quantile
    p_value: float  # how often a service within the bound gives `over` or more of `n`

    @property
    def breached(self) -> bool:
        return self.p_value < SIGNIFICANCE


def judge_percentile(values: Sequence[float], bound: float, q: float = 0.99) -> PercentileTest:
    if not values:
        raise ValueError("no values to judge a percentile by")
    n, over = len(values), sum(1 for v in values if v > bound)
    return PercentileTest(n, over, nearest_rank(values, q), tail_probability(n, over, 1 - q))

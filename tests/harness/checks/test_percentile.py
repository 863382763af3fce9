"""The binomial test behind a p99 verdict: what a small sample can and cannot show."""

from __future__ import annotations

import math
import random

import pytest

from harness.checks.percentile import SIGNIFICANCE, judge_percentile, nearest_rank, tail_probability


def test_the_nearest_rank_p99_of_150_is_the_second_slowest() -> None:
    values = [float(v) for v in range(1, 151)]
    assert nearest_rank(values, 0.99) == 149.0
    assert nearest_rank([7.0], 0.99) == 7.0 and nearest_rank([3.0, 1.0, 2.0], 0.5) == 2.0


def test_the_tail_matches_the_binomial_sum_and_its_edges() -> None:
    n, p = 150, 0.01
    exact = sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(3, n + 1))
    assert tail_probability(n, 3, p) == pytest.approx(exact, rel=1e-9)
    assert tail_probability(n, 0, p) == 1.0
    assert tail_probability(n, 1, p) == pytest.approx(1 - 0.99**150)
    assert tail_probability(n, n + 1, p) == 0.0


def test_three_slow_orders_of_150_do_not_show_a_breach_five_do() -> None:
    fast = [20.0] * 150
    three = judge_percentile([900.0] * 3 + fast[3:], 500.0)
    assert (three.over, three.observed) == (3, 900.0)  # the sample's p99 is over: the test is not
    assert not three.breached and three.p_value == pytest.approx(0.1905, abs=1e-4)
    five = judge_percentile([900.0] * 5 + fast[5:], 500.0)
    assert five.breached and five.p_value == pytest.approx(0.018, abs=1e-3)
    assert not judge_percentile(fast, 500.0).breached and judge_percentile(fast, 500.0).p_value == 1.0


def test_a_service_whose_p99_is_at_the_bound_is_rarely_failed_and_a_slow_one_always() -> None:
    """Simulated services: 1% of orders over the bound fails at most at the significance level (the
    sample p99 alone would fail it nearly half the time); 10% over fails every time."""
    rng = random.Random(5)

    def sample(share_over: float) -> list[float]:
        return [900.0 if rng.random() < share_over else 20.0 for _ in range(150)]

    at_bound = [judge_percentile(sample(0.01), 500.0) for _ in range(2000)]
    assert sum(t.breached for t in at_bound) / 2000 <= SIGNIFICANCE
    assert sum(t.observed > 500.0 for t in at_bound) / 2000 > 0.35
    assert all(judge_percentile(sample(0.10), 500.0).breached for _ in range(200))


def test_no_values_is_an_error_not_a_pass() -> None:
    with pytest.raises(ValueError, match="no values"):
        judge_percentile([], 500.0)


def test_a_large_sample_neither_overflows_nor_rounds_its_tail_away() -> None:
    assert tail_probability(100_000, 2_000, 0.01) < 1e-100
    assert 0.4 < tail_probability(100_000, 1_000, 0.01) < 0.6

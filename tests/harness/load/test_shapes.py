from __future__ import annotations

import pytest

from harness.load.shapes import PROFILES, profile


def test_market_open_ramps_to_n_in_a_minute_then_bursts() -> None:
    p = profile("market-open", 5000, 180)
    assert (
        p.users_at(0) == 1 and p.users_at(30) == 2500 and p.users_at(60) == 5000 and p.users_at(179) == 5000
    )
    assert p.rate_multiplier(65) == 5.0 and p.rate_multiplier(120) == 1.0


def test_news_spike_is_ten_times_for_thirty_seconds_in_the_middle() -> None:
    p = profile("news-spike", 100, 300)
    spiked = [t for t in range(300) if p.rate_multiplier(t) == 10.0]
    assert spiked[0] == 135 and len(spiked) == 30


def test_overnight_is_thin_and_slow() -> None:
    p = profile("overnight-thin", 1000, 600)
    assert p.users_at(600) == 100 and p.rate_multiplier(300) == 0.25


def test_steady_ramps_quickly_then_holds() -> None:
    p = profile("steady", 50, 30)
    assert p.users_at(5) == 50 and p.users_at(29) == 50 and p.spawn_rate() >= 10


@pytest.mark.parametrize(
    ("args", "message"),
    [(("flat", 1, 1), "unknown profile"), (("steady", 0, 1), "--traders"), (("steady", 1, 0), "--duration")],
)
def test_bad_options_are_named(args: tuple[str, int, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        profile(*args)
    assert "steady" in PROFILES

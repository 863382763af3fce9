"""Served quotes on a hand-made venue price path: a live quote must be one the venue showed lately,
and one read on a feed silent past the target's bound must be flagged."""

from __future__ import annotations

from typing import Any

import pytest

from harness.checks import CHECKERS, Verdict

from .conftest import MakeCtx
from .test_risk import T0

# the venue's ESZ6: a step a second to T0+3, then silent until T0+10
PATH = [
    (0.0, 5000.00, 5000.25),
    (1.0, 5000.25, 5000.50),
    (2.0, 5000.50, 5000.75),
    (3.0, 5001.00, 5001.25),
    (10.0, 5002.00, 5002.25),
]
MARKET = {
    "ESZ6": {
        "tick_size": 0.25,
        "point_value": 50.0,
        "fee_per_contract": 2.25,
        "steps": [
            {"ts": T0 + t, "seq": i + 1, "bid": bid, "ask": ask, "last": bid, "regime": ""}
            for i, (t, bid, ask) in enumerate(PATH)
        ],
    }
}
# lag 0.25 + 0.5 = 0.75 s; a quote must be flagged stale past 3 + 0.75 = 3.75 s of silence


def sample(
    sent: float,
    bid: float | None,
    ask: float | None,
    *,
    source: str = "api",
    stale: bool | None = False,
    refused: int | None = None,
    symbol: str = "ESZ6",
) -> dict[str, Any]:
    """A quote requested at T0 + sent, answered 50 ms later (a stream sample arrives when sent)."""
    at = sent if source == "stream" else sent + 0.05
    return {
        "source": source,
        "symbol": symbol,
        "bid": bid,
        "ask": ask,
        "stale": stale,
        "refused": refused,
        "sent": T0 + sent,
        "at": T0 + at,
    }


def run(make_ctx: MakeCtx, check: str, *samples: dict[str, Any], market: Any = None) -> Verdict:
    quotes = {"conflation_s": 0.25, "delay_s": 0.5, "stale_bound_s": 3.0, "samples": list(samples)}
    extras = {"market": MARKET if market is None else market, "quotes": quotes}
    return CHECKERS[check](make_ctx(extras=extras))


def match(make_ctx: MakeCtx, *samples: dict[str, Any], market: Any = None) -> Verdict:
    return run(make_ctx, "quotes_match_venue", *samples, market=market)


def flagged(make_ctx: MakeCtx, *samples: dict[str, Any]) -> Verdict:
    return run(make_ctx, "stale_quotes_flagged", *samples)


def test_quotes_the_venue_showed_pass_and_are_counted_per_source(make_ctx: MakeCtx) -> None:
    verdict = match(
        make_ctx,
        sample(2.1, 5000.50, 5000.75),  # the step at T0+2
        sample(1.5, 5000.25, 5000.50, source="stream"),  # the quote in force since T0+1
        sample(2.2, 5000.60, 5000.75),  # 0.10 off: within half a tick
        sample(2.3, 5000.625, None),  # half a tick exactly, and the ask not shown
        sample(1.98, 5000.50, 5000.75),  # the venue stepped after the request left, before the answer
    )
    assert verdict.status == "passed", verdict
    assert "5 quote(s) served as live (4 api, 1 stream)" in verdict.summary


def test_a_quote_within_conflation_and_transport_is_accepted_and_older_is_not(make_ctx: MakeCtx) -> None:
    # T0+1's quote, changed at T0+2: still acceptable 0.6 s later (window opens at T0+1.85) ...
    assert match(make_ctx, sample(2.6, 5000.25, 5000.50)).status == "passed"
    # ... but not 0.8 s later (window opens at T0+2.05: the quote in force then is T0+2's)
    late = match(make_ctx, sample(2.8, 5000.25, 5000.50))
    assert late.status == "failed" and late.category == "price mismatch"
    [entry] = late.evidence
    assert entry["window"] == pytest.approx([T0 + 2.05, T0 + 2.85])
    assert [c["ts"] for c in entry["candidates"]] == [T0 + 2.0]
    assert entry["last_shown"]["ts"] == T0 + 1.0 and "after it had changed" in entry["explanation"]


def test_bid_and_ask_swapped_fails(make_ctx: MakeCtx) -> None:
    verdict = match(make_ctx, sample(2.1, 5000.75, 5000.50))
    assert verdict.status == "failed"
    [entry] = verdict.evidence
    assert "swapped" in entry["explanation"] and entry["sample"]["bid"] == 5000.75


def test_a_quote_a_tick_off_fails_with_the_candidates_and_the_nearest_step(make_ctx: MakeCtx) -> None:
    verdict = match(make_ctx, sample(2.1, 5000.50, 5000.75), sample(2.4, 5000.75, 5001.00))
    assert verdict.status == "failed" and verdict.summary.startswith("1 of 2 quote(s)")
    [entry] = verdict.evidence
    assert entry["tick_size"] == 0.25 and entry["candidates_total"] == 2  # in force at T0+1.65, then T0+2
    assert [c["bid"] for c in entry["candidates"]] == [5000.25, 5000.50]
    assert entry["nearest_step"]["ts"] == T0 + 2.0
    assert entry["explanation"] == "the venue never showed this quote before it was read"


def test_flagged_refused_and_unpriced_quotes_are_not_compared(make_ctx: MakeCtx) -> None:
    wrong = 4000.0  # would fail if compared
    verdict = match(
        make_ctx,
        sample(2.1, wrong, wrong, stale=True),
        sample(2.1, None, None, refused=503),
        sample(2.1, wrong, wrong, symbol="NQZ6"),  # no price path for it
        sample(-5.0, wrong, wrong),  # before the venue showed anything
    )
    assert verdict.status == "no_evidence"
    assert "2 flagged stale or refused, 2 not comparable" in verdict.summary
    assert match(make_ctx).status == "no_evidence"
    assert match(make_ctx, sample(2.1, 5000.5, 5000.75), market={}).status == "no_evidence"


def test_quotes_flagged_on_a_silent_feed_pass(make_ctx: MakeCtx) -> None:
    verdict = flagged(
        make_ctx,
        sample(2.1, 5000.50, 5000.75),
        sample(2.2, 5000.50, 5000.75, stale=True),  # flagged early: allowed, reported
        sample(8.0, 5001.00, 5001.25, stale=True),  # 5 s silent
        sample(9.0, None, None, stale=None, refused=503),
    )
    assert verdict.status == "passed", verdict
    assert "2 quote(s) read while the venue's feed was silent past 3.75 s" in verdict.summary
    assert "(1 stale, 1 refused)" in verdict.summary
    assert "2 quote(s) read on a live feed, 1 of them flagged stale" in verdict.summary


def test_a_stale_quote_served_as_live_fails_with_the_silence(make_ctx: MakeCtx) -> None:
    verdict = flagged(make_ctx, sample(8.0, 5001.00, 5001.25), sample(9.0, 5001.00, 5001.25, stale=True))
    assert verdict.status == "failed" and verdict.category == "price mismatch"
    [entry] = verdict.evidence
    assert entry["silent_s"] == pytest.approx(5.0) and entry["bound_s"] == pytest.approx(3.75)
    assert entry["last_venue_step"]["ts"] == T0 + 3.0 and "as live" in entry["explanation"]


def test_silence_within_the_bound_plus_conflation_and_transport_is_not_judged(make_ctx: MakeCtx) -> None:
    # 3.7 s silent: past the declared 3 s, inside 3 + 0.75
    verdict = flagged(make_ctx, sample(6.7, 5001.00, 5001.25), sample(10.5, 5002.0, 5002.25))
    assert verdict.status == "no_evidence"
    assert "no quote was read while the venue's feed was silent" in verdict.summary


def test_a_missing_stale_flag_on_a_silent_feed(make_ctx: MakeCtx) -> None:
    # the target never reports a flag: the check cannot run
    silent = sample(8.0, 5001.00, 5001.25, stale=None)
    skipped = flagged(make_ctx, sample(2.1, 5000.5, 5000.75, stale=None), silent)
    assert skipped.status == "skipped" and skipped.summary == "the target's quotes carry no stale flag"
    # it reports one elsewhere: a quote without it on a silent feed was served as live
    bad = flagged(make_ctx, sample(2.1, 5000.5, 5000.75, stale=False), silent)
    assert bad.status == "failed" and "no stale flag" in bad.evidence[0]["explanation"]


def test_no_quote_or_no_price_path_is_no_evidence(make_ctx: MakeCtx) -> None:
    assert flagged(make_ctx).status == "no_evidence"
    unknown = flagged(make_ctx, sample(8.0, 1.0, 1.25, symbol="NQZ6"), sample(-1.0, 1.0, 1.25))
    assert unknown.status == "no_evidence"

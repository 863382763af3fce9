"""Prices, cancels and stale-feed orders on hand-made ledgers: the middleware's word against the venue's."""

from __future__ import annotations

from typing import Any

import pytest

from harness.adapters import OrderView
from harness.checks import CHECKERS, Verdict

from .conftest import MakeCtx, Recorder, fail, ok
from .test_risk import ES, T0, ledger, place, vfill, vorder


def prices(make_ctx: MakeCtx, book: dict[str, Any], orders: dict[str, OrderView], **risk: Any) -> Verdict:
    rec = Recorder()
    place(rec, "c1")
    extras = {"risk": {"instruments": {"ESZ6": ES}, **risk}}
    return CHECKERS["fill_prices_match"](make_ctx(rec, ledger=book, orders=orders, extras=extras))


TWO_FILLS = ledger(
    [vorder("c1", qty=2, at=1.0)],
    [
        vfill("c1", "BUY", 1, 5000.0, at=1.1),
        vfill("c1", "BUY", 1, 5000.25, at=1.2),
        vfill("c1", "BUY", 1, 4900.0, at=1.3, dup="F-c1-1.1"),  # a resent fill: never counts
    ],
)


def test_an_average_price_rounded_to_the_tick_passes(make_ctx: MakeCtx) -> None:
    # the venue's average is 5000.125: half a tick from 5000.25 and from 5000.0
    for reported in (5000.25, 5000.0, 5000.125):
        verdict = prices(make_ctx, TWO_FILLS, {"c1": OrderView("filled", 2, avg_price=reported)})
        assert verdict.status == "passed", verdict


def test_an_average_price_a_tick_off_fails_with_the_fills(make_ctx: MakeCtx) -> None:
    book = ledger([vorder("c1", at=1.0)], [vfill("c1", "BUY", 1, 5000.0, at=1.1)])
    verdict = prices(make_ctx, book, {"c1": OrderView("filled", 1, avg_price=5000.25)})
    assert verdict.status == "failed" and verdict.category == "price mismatch"
    [entry] = verdict.evidence
    assert entry["venue_avg_price"] == 5000.0 and entry["middleware_avg_price"] == 5000.25
    assert entry["tick_size"] == 0.25 and [f["fill_id"] for f in entry["fills"]] == ["F-c1-1.1"]
    # two fills averaging 5000.125, reported 5000.375: 0.25 off
    two = prices(make_ctx, TWO_FILLS, {"c1": OrderView("filled", 2, avg_price=5000.375)})
    assert (
        two.status == "failed"
        and two.evidence[0]["arithmetic"] == "(1 x 5000.0 + 1 x 5000.25) / 2 = 5000.125"
    )


def test_an_undeclared_instrument_is_held_to_a_micro_point(make_ctx: MakeCtx) -> None:
    book = ledger([vorder("c1", at=1.0)], [vfill("c1", "BUY", 1, 5000.0, at=1.1)])
    off = prices(make_ctx, book, {"c1": OrderView("filled", 1, avg_price=5000.001)}, instruments={})
    assert off.status == "failed" and off.evidence[0]["tick_size"] == 1e-6


def test_prices_are_skipped_when_the_api_reports_none_and_no_evidence_without_fills(
    make_ctx: MakeCtx,
) -> None:
    silent = prices(make_ctx, TWO_FILLS, {"c1": OrderView("filled", 2)})
    assert silent.status == "skipped" and "does not report" in silent.summary
    unfilled = prices(make_ctx, ledger([vorder("c1", at=1.0, status="open")]), {"c1": OrderView("working")})
    assert unfilled.status == "no_evidence"


def cancels(
    make_ctx: MakeCtx, book: dict[str, Any], orders: dict[str, OrderView], cancel: Any = None
) -> Verdict:
    rec = Recorder()
    place(rec, "c1", order_type="LIMIT")
    if cancel is not None:
        rec.op("t1", "cancel_order", {"client_order_id": "c1", "account": "A1"}, 2.0, cancel)
    return CHECKERS["cancels_consistent"](make_ctx(rec, ledger=book, orders=orders))


CANCELLED = ledger([vorder("c1", at=1.0, status="cancelled", closed=2.1)])
FILLED = ledger([vorder("c1", at=1.0, status="filled", closed=1.9)])
PARTLY = ledger([vorder("c1", qty=3, at=1.0, status="cancelled", filled=1, closed=2.1)])
OPEN = ledger([vorder("c1", at=1.0, status="open")])
NOWHERE = ledger([])


@pytest.mark.parametrize(
    ("book", "view"),
    [
        (CANCELLED, OrderView("cancelled")),
        (FILLED, OrderView("filled", 1)),  # the fill won the race
        (PARTLY, OrderView("cancelled", 1)),
        (NOWHERE, OrderView("cancelled")),  # cancelled before it reached the venue
    ],
)
def test_a_cancel_the_venue_agrees_with_passes(
    make_ctx: MakeCtx, book: dict[str, Any], view: OrderView
) -> None:
    verdict = cancels(make_ctx, book, {"c1": view}, ok())
    assert verdict.status == "passed", verdict


@pytest.mark.parametrize(
    ("book", "view", "problem"),
    [
        (FILLED, OrderView("cancelled"), "the venue filled it with 1 filled"),
        (CANCELLED, OrderView("filled", 1), "the venue cancelled it with 0 filled"),
        (PARTLY, OrderView("cancelled", 0), "the venue cancelled it with 1 filled"),
        (OPEN, OrderView("working"), "the cancel was accepted but the order is still open at the venue"),
        (NOWHERE, OrderView("working"), "the venue never received it"),
    ],
)
def test_each_disagreement_with_the_venue_fails(
    make_ctx: MakeCtx, book: dict[str, Any], view: OrderView, problem: str
) -> None:
    verdict = cancels(make_ctx, book, {"c1": view}, ok())
    assert verdict.status == "failed" and verdict.category == "data loss"
    [entry] = verdict.evidence
    assert entry["problem"].startswith(problem) and entry["worst_case"] is False


def test_cancelled_in_the_middleware_but_open_at_the_venue_is_the_worst_case(make_ctx: MakeCtx) -> None:
    """No cancel was even sent: the middleware's own word is checked all the same."""
    verdict = cancels(make_ctx, OPEN, {"c1": OrderView("cancelled")})
    assert verdict.status == "failed" and "still open at the venue" in verdict.summary
    assert verdict.evidence[0]["worst_case"] is True and "it can still fill" in verdict.evidence[0]["problem"]


def test_no_accepted_cancel_is_no_evidence(make_ctx: MakeCtx) -> None:
    assert cancels(make_ctx, OPEN, {"c1": OrderView("working")}).status == "no_evidence"
    refused = cancels(make_ctx, OPEN, {"c1": OrderView("working")}, fail(404))
    assert refused.status == "no_evidence" and "1 sent" in refused.summary


WINDOW = {"bound_s": 1.0, "windows": [[T0 + 10.0, T0 + 20.0]]}


def stale(
    make_ctx: MakeCtx, at: float, order_type: str = "MARKET", window: Any = WINDOW, in_flight_s: float = 0.0
) -> Verdict:
    rec = Recorder()
    place(rec, "c1", order_type=order_type, at=at - 0.05)  # sent 50 ms before the venue got it
    risk = {"epoch0": T0, "in_flight_s": in_flight_s} | ({"stale": window} if window else {})
    book = ledger([vorder("c1", at=at, order_type=order_type)])
    return CHECKERS["stale_orders_refused"](make_ctx(rec, ledger=book, extras={"risk": risk}))


def test_a_market_order_on_a_frozen_feed_fails_after_the_bound(make_ctx: MakeCtx) -> None:
    verdict = stale(make_ctx, 12.0)
    assert verdict.status == "failed" and verdict.category == "risk breach"
    [entry] = verdict.evidence
    assert entry["outcome"] == "violation" and entry["client_order_id"] == "c1"
    assert entry["stale_for_s"] == pytest.approx(2.0) and entry["window"] == [T0 + 10.0, T0 + 20.0]


def test_a_limit_order_may_go_and_a_market_order_within_the_bound_is_tolerated(make_ctx: MakeCtx) -> None:
    limit = stale(make_ctx, 12.0, "LIMIT")
    assert limit.status == "passed" and "1 limit order(s) let through" in limit.summary
    early = stale(make_ctx, 10.5)
    assert early.status == "passed" and early.evidence[0]["outcome"] == "tolerated"


def test_the_in_flight_tolerance_extends_the_stale_bound(make_ctx: MakeCtx) -> None:
    # 1.3 s into the window: past the 1 s bound, inside the bound plus 0.5 s in flight
    assert stale(make_ctx, 11.3, in_flight_s=0.5).status == "passed"
    assert stale(make_ctx, 11.3).status == "failed"
    assert stale(make_ctx, 11.6, in_flight_s=0.5).status == "failed"


def test_stale_needs_a_window_and_orders_in_it(make_ctx: MakeCtx) -> None:
    assert stale(make_ctx, 12.0, window=None).status == "skipped"
    assert CHECKERS["stale_orders_refused"](make_ctx()).status == "skipped"
    outside = stale(make_ctx, 25.0)
    assert (
        outside.status == "no_evidence"
        and "no order was sent during the 1 stale window(s)" in outside.summary
    )

"""The risk checker on hand-made ledgers: each breach convicted with the venue's arithmetic, and only
what the declared tolerances and the reduce-only exemption allow let through."""

from __future__ import annotations

from typing import Any

import pytest

from harness.adapters import OrderView
from harness.checks import CHECKERS
from harness.checks.ledger import NO_PLAN, AvgCost, Limits, RiskPlan, VenueFill, VenueOrder, ledger_fills
from harness.checks.risk import replay
from mocks.rithmic.market import Instrument
from mocks.rithmic.pnl import Position

from .conftest import MakeCtx, Recorder, fail, ok

T0 = 1_800_000_000.0  # the epoch of run-clock 0
ES = {"point_value": 50.0, "fee_per_contract": 2.25, "tick_size": 0.25}


def place(
    rec: Recorder,
    coid: str,
    side: str = "BUY",
    qty: int = 1,
    *,
    at: float = 1.0,
    account: str = "A1",
    order_type: str = "MARKET",
    outcome: Any = None,
) -> None:
    value = {
        "account": account,
        "symbol": "ESZ6",
        "side": side,
        "qty": qty,
        "order_type": order_type,
        "client_order_id": coid,
    }
    rec.op("t1", "place_order", value, at, outcome or ok())


def vorder(
    coid: str,
    side: str = "BUY",
    qty: int = 1,
    *,
    at: float,
    status: str = "filled",
    filled: int | None = None,
    closed: float | None = None,
    order_type: str = "MARKET",
) -> dict[str, Any]:
    """A venue order received at T0 + at; a closed one closes 0.1 s later unless told."""
    done = filled if filled is not None else (qty if status == "filled" else 0)
    closing = closed if closed is not None else (at + 0.1 if status != "open" else None)
    return {
        "order_id": f"V-{coid}",
        "client_tag": coid,
        "account": "VENUE-1",
        "symbol": "ESZ6",
        "exchange": "CME",
        "side": side,
        "qty": qty,
        "order_type": order_type,
        "price": None,
        "status": status,
        "filled_qty": done,
        "received_at": T0 + at,
        "closed_at": None if closing is None else T0 + closing,
    }


def vfill(
    coid: str, side: str, qty: int, price: float, *, at: float, fee: float = 0.0, dup: str | None = None
) -> dict[str, Any]:
    return {
        "fill_id": f"F-{coid}-{at}" + ("-dup" if dup else ""),
        "order_id": f"V-{coid}",
        "client_tag": coid,
        "account": "VENUE-1",
        "symbol": "ESZ6",
        "exchange": "CME",
        "side": side,
        "qty": qty,
        "price": price,
        "sent_at": T0 + at,
        "duplicate_of": dup,
        "fee": fee,
    }


def plan(**limits: float) -> dict[str, Any]:
    return {"limits": {"A1": limits}, "in_flight_s": 0.5, "instruments": {"ESZ6": ES}}


def ledger(orders: list[dict[str, Any]], fills: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"orders": orders, "fills": fills or []}


def check(
    make_ctx: MakeCtx, rec: Recorder, book: dict[str, Any], risk: dict[str, Any] | None, **kw: Any
) -> Any:
    extras = {"risk": risk} if risk is not None else {}
    return CHECKERS["risk_limits_hold"](make_ctx(rec, ledger=book, extras=extras, **kw))


def test_skipped_without_a_risk_plan(make_ctx: MakeCtx) -> None:
    rec = Recorder()
    place(rec, "c1", qty=9)
    verdict = check(make_ctx, rec, ledger([vorder("c1", qty=9, at=1.0)]), None)
    assert verdict.status == "skipped" and verdict.summary == NO_PLAN


def test_no_evidence_when_no_order_of_ours_reached_the_venue(make_ctx: MakeCtx) -> None:
    rec = Recorder()
    place(rec, "c1")
    someone_else = ledger([vorder("not-ours", qty=99, at=1.0)])
    verdict = check(make_ctx, rec, someone_else, plan(max_order_qty=2))
    assert verdict.status == "no_evidence" and "no order of ours reached the venue" in verdict.summary


def test_a_limit_nobody_approached_is_no_evidence_until_the_middleware_refuses_one(make_ctx: MakeCtx) -> None:
    rec = Recorder()
    place(rec, "c1")
    book = ledger([vorder("c1", at=1.0)], [vfill("c1", "BUY", 1, 5000.0, at=1.1)])
    risk = plan(max_order_qty=10, max_position=10, daily_loss_limit=1000.0)
    quiet = check(make_ctx, rec, book, risk)
    assert quiet.status == "no_evidence" and "proves nothing" in quiet.summary
    place(rec, "big", qty=20, at=2.0, outcome=fail(422))  # refused by the middleware, never at the venue
    refused = check(make_ctx, rec, book, risk, orders={"big": OrderView("rejected")})
    assert refused.status == "passed", refused
    assert "1 refused by the middleware" in refused.summary
    assert refused.evidence == [
        {
            "outcome": "refused",
            "client_order_id": "big",
            "account": "A1",
            "status": 422,
            "symbol": "ESZ6",
            "side": "BUY",
            "qty": 20,
            "at": 2.0,
        }
    ]
    # a refusal the venue saw anyway is no refusal
    at_venue = ledger([*book["orders"], vorder("big", qty=20, at=2.1, status="rejected")], book["fills"])
    seen = check(make_ctx, rec, at_venue, risk, orders={"big": OrderView("rejected")})
    assert seen.status == "failed" and "refused" not in [e["outcome"] for e in seen.evidence]


def test_order_size_breach_and_an_order_at_the_limit(make_ctx: MakeCtx) -> None:
    rec = Recorder()
    place(rec, "c1", qty=2)
    place(rec, "c2", qty=3, at=2.0)
    at_limit = check(make_ctx, rec, ledger([vorder("c1", qty=2, at=1.0)]), plan(max_order_qty=2))
    assert at_limit.status == "passed" and "1 came within one order of a limit" in at_limit.summary
    book = ledger([vorder("c1", qty=2, at=1.0), vorder("c2", qty=3, at=2.0)])
    verdict = check(make_ctx, rec, book, plan(max_order_qty=2))
    assert verdict.status == "failed" and verdict.category == "risk breach"
    [breach] = verdict.evidence
    assert breach["outcome"] == "violation" and breach["limit_kind"] == "order_size"
    assert breach["client_order_id"] == "c2" and breach["limit"] == {"max_order_qty": 2}
    assert breach["arithmetic"] == "qty 3 > max_order_qty 2"


def test_position_breach_sums_fills_and_working_orders(make_ctx: MakeCtx) -> None:
    rec = Recorder()
    place(rec, "c1", qty=2)
    place(rec, "c2", order_type="LIMIT", at=2.0)
    place(rec, "c3", at=3.0)
    orders = [
        vorder("c1", qty=2, at=1.0, closed=1.1),
        vorder("c2", at=2.0, status="open", order_type="LIMIT"),  # resting: working exposure
        vorder("c3", at=3.0),
    ]
    fills = [vfill("c1", "BUY", 2, 5000.0, at=1.1)]
    verdict = check(make_ctx, rec, ledger(orders, fills), plan(max_position=3))
    assert verdict.status == "failed"
    [breach] = verdict.evidence
    assert breach["limit_kind"] == "position" and breach["client_order_id"] == "c3"
    assert breach["arithmetic"] == (
        "net 2 (sum of 1 fill(s)) + working buys 1 + this order 1 = 4 > max_position 3"
    )
    assert breach["net"] == 2 and breach["working_qty"] == 1 and breach["projected"] == 4
    assert [f["fill_id"] for f in breach["fills"]] == ["F-c1-1.1"]
    assert [(w["client_order_id"], w["remaining"]) for w in breach["working"]] == [("c2", 1)]
    # had the resting order been cancelled first, the account was exactly at its limit
    orders[1] = vorder("c2", at=2.0, status="cancelled", closed=2.5, order_type="LIMIT")
    assert check(make_ctx, rec, ledger(orders, fills), plan(max_position=3)).status == "passed"


def test_position_breach_on_the_short_side(make_ctx: MakeCtx) -> None:
    rec = Recorder()
    place(rec, "s1", "SELL", 2)
    verdict = check(make_ctx, rec, ledger([vorder("s1", "SELL", 2, at=1.0)]), plan(max_position=1))
    assert verdict.status == "failed"
    assert verdict.evidence[0]["arithmetic"] == (
        "net 0 (sum of 0 fill(s)) - working sells 0 - this order 2 = -2 < -max_position 1"
    )


def test_duplicate_fills_never_count(make_ctx: MakeCtx) -> None:
    rec = Recorder()
    place(rec, "c1", qty=2)
    place(rec, "c2", at=2.0)
    orders = [vorder("c1", qty=2, at=1.0), vorder("c2", at=2.0)]
    real = vfill("c1", "BUY", 2, 5000.0, at=1.1)
    resent = vfill("c1", "BUY", 2, 5000.0, at=1.2, dup=str(real["fill_id"]))
    verdict = check(make_ctx, rec, ledger(orders, [real, resent]), plan(max_position=3))
    assert verdict.status == "passed", verdict  # net 2 + 1 = 3: at the limit, not past it
    counted = ledger(orders, [real, {**resent, "duplicate_of": None}])
    assert check(make_ctx, rec, counted, plan(max_position=3)).status == "failed"


def _losing_round_trip(fee: float) -> dict[str, Any]:
    """Bought 1 at 5000, sold 1 at 4998: -2 points x 50 = -100 USD, plus a fee on each fill."""
    orders = [vorder("b1", at=1.0), vorder("s1", "SELL", at=2.0), vorder("b2", at=10.0)]
    fills = [
        vfill("b1", "BUY", 1, 5000.0, at=1.1, fee=fee),
        vfill("s1", "SELL", 1, 4998.0, at=2.1, fee=fee),
        vfill("b2", "BUY", 1, 4998.0, at=10.1, fee=fee),
    ]
    return ledger(orders, fills)


def _round_trip_history() -> Recorder:
    rec = Recorder()
    place(rec, "b1")
    place(rec, "s1", "SELL", at=2.0)
    place(rec, "b2", at=10.0)
    return rec


def test_fees_take_an_account_past_its_loss_limit(make_ctx: MakeCtx) -> None:
    risk = plan(daily_loss_limit=104.0)
    without = check(make_ctx, _round_trip_history(), _losing_round_trip(fee=0.0), risk)
    assert without.status == "no_evidence", without  # -100 > -104: never near the limit
    verdict = check(make_ctx, _round_trip_history(), _losing_round_trip(fee=2.25), risk)
    assert verdict.status == "failed"
    breach, locked = verdict.evidence
    assert breach["limit_kind"] == "daily_loss" and breach["client_order_id"] == "b2"
    assert locked == {
        "outcome": "locked",
        "account": locked["account"],
        "daily_loss_limit": 104.0,
        "realised": -106.75,  # b2's fill, after the breach, paid a fee too
        "fees": 6.75,
        "crossed_at": T0 + 2.1,
        "crossing_fill": "F-s1-2.1",
    }
    assert "1 account(s) locked at the daily loss limit" in verdict.summary
    assert breach["arithmetic"] == "realised -100.00 - fees 4.50 = -104.50 <= -daily_loss_limit -104.00"
    assert breach["crossing_fill"] == "F-s1-2.1" and breach["crossed_at"] == T0 + 2.1
    assert [(f["fill_id"], f["realised"], f["fee"]) for f in breach["fills"]] == [
        ("F-b1-1.1", 0.0, 2.25),
        ("F-s1-2.1", -100.0, 2.25),
    ]


def test_an_order_that_only_reduces_the_position_may_pass_the_loss_limit(make_ctx: MakeCtx) -> None:
    rec = Recorder()
    place(rec, "b1", qty=2)
    place(rec, "s1", "SELL", at=2.0)
    place(rec, "s2", "SELL", at=10.0)
    place(rec, "s3", "SELL", at=11.0)
    orders = [vorder("b1", qty=2, at=1.0), vorder("s1", "SELL", at=2.0), vorder("s2", "SELL", at=10.0)]
    fills = [vfill("b1", "BUY", 2, 5000.0, at=1.1), vfill("s1", "SELL", 1, 4990.0, at=2.1)]
    risk = plan(daily_loss_limit=100.0)  # -500 realised, long 1 left
    flatten = check(make_ctx, rec, ledger(orders, fills), risk)
    assert flatten.status == "passed", flatten
    assert [(e["outcome"], e.get("client_order_id")) for e in flatten.evidence] == [
        ("allowed", "s2"),
        ("locked", None),  # flattening does not lift the lock: the loss is realised
    ]
    assert "reduce-only" in flatten.evidence[0]["explanation"]
    assert "1 reduce-only past the loss limit" in flatten.summary
    flip = ledger(
        [*orders[:2], vorder("s2", "SELL", 2, at=10.0)], fills
    )  # sells 2 of a long 1: opens a short
    assert check(make_ctx, rec, flip, risk).evidence[0]["outcome"] == "violation"
    # a sell already resting for the last contract leaves nothing for a second one to reduce
    resting = [*orders[:2], vorder("s2", "SELL", at=10.0, status="open"), vorder("s3", "SELL", at=11.0)]
    verdict = check(make_ctx, rec, ledger(resting, fills), risk)
    assert [(e["outcome"], e.get("client_order_id")) for e in verdict.evidence] == [
        ("violation", "s3"),
        ("allowed", "s2"),
        ("locked", None),
    ]


def test_an_account_back_above_its_loss_limit_is_not_reported_locked(make_ctx: MakeCtx) -> None:
    rec = _round_trip_history()
    place(rec, "b3", at=3.0)
    place(rec, "s3", "SELL", at=4.0)
    book = _losing_round_trip(fee=0.0)
    book["orders"] += [vorder("b3", at=3.0), vorder("s3", "SELL", at=4.0)]
    book["fills"] += [vfill("b3", "BUY", 1, 5000.0, at=3.1), vfill("s3", "SELL", 1, 5010.0, at=4.1)]
    verdict = check(make_ctx, rec, book, plan(daily_loss_limit=100.0))  # -100, then +500: 400 up
    assert not [e for e in verdict.evidence if e["outcome"] == "locked"], verdict.evidence
    assert "0 account(s) locked" in verdict.summary


@pytest.mark.parametrize(("late", "outcome"), [(0.3, "tolerated"), (0.8, "violation")])
def test_orders_in_flight_when_the_loss_limit_was_crossed(
    make_ctx: MakeCtx, late: float, outcome: str
) -> None:
    rec = _round_trip_history()
    book = _losing_round_trip(fee=0.0)
    book["orders"][2] = vorder("b2", at=2.1 + late)  # the crossing fill was sent at 2.1
    verdict = check(make_ctx, rec, book, plan(daily_loss_limit=100.0))
    assert verdict.status == ("passed" if outcome == "tolerated" else "failed"), verdict
    assert verdict.evidence[0]["outcome"] == outcome
    assert "within 0.5 s" in verdict.summary
    if outcome == "tolerated":
        assert "could not have known yet" in verdict.evidence[0]["explanation"]


@pytest.mark.parametrize(("late", "outcome"), [(0.4, "tolerated"), (0.6, "violation")])
def test_orders_after_trading_was_disabled(make_ctx: MakeCtx, late: float, outcome: str) -> None:
    rec = Recorder()
    place(rec, "c1")
    place(rec, "c2", at=5.0 + late)
    book = ledger([vorder("c1", at=1.0), vorder("c2", at=5.0 + late)])
    risk = {**plan(), "disabled_at": {"A1": T0 + 5.0}}
    verdict = check(make_ctx, rec, book, risk)
    assert verdict.status == ("passed" if outcome == "tolerated" else "failed"), verdict
    [entry] = verdict.evidence
    assert entry["outcome"] == outcome and entry["limit_kind"] == "trading_status"
    assert entry["client_order_id"] == "c2"
    assert entry["arithmetic"] == f"received_at {T0 + (5.0 + late)} > disabled_at {T0 + 5.0}"


def test_accounts_are_replayed_apart_even_on_one_venue_account(make_ctx: MakeCtx) -> None:
    """A1 and A2 share VENUE-1: A2's long does not count against A1's limit."""
    rec = Recorder()
    place(rec, "a2", qty=3, account="A2")
    place(rec, "a1", at=2.0)
    book = ledger(
        [vorder("a2", qty=3, at=1.0), vorder("a1", at=2.0)], [vfill("a2", "BUY", 3, 5000.0, at=1.1)]
    )
    risk = {"limits": {"A1": {"max_position": 1}}, "in_flight_s": 0.5}
    verdict = check(make_ctx, rec, book, risk)
    assert verdict.status == "passed", verdict
    assert verdict.summary.startswith("1 order(s) of ours at the venue checked against max_position")


def test_average_cost_replay_matches_the_mocks_own_book() -> None:
    """The same fills booked by the checker and by the Rithmic mock realise the same P&L, through a
    flip from long to short and back."""
    inst = Instrument("ES", "ESZ6", "CME", 0.25, 5000.0, 50.0, "E-mini")
    mock, ours = Position("VENUE-1", inst), AvgCost(50.0)
    steps = [
        ("BUY", 2, 5000.0),
        ("BUY", 1, 5003.0),
        ("SELL", 4, 5001.5),
        ("BUY", 3, 4999.25),
        ("SELL", 2, 5002.0),
    ]
    for i, (side, qty, price) in enumerate(steps):
        mock.apply(side == "BUY", qty, price)
        ours.apply(VenueFill(f"f{i}", "o", "c", "ESZ6", side, qty, price, T0 + i))
        assert (ours.net, ours.avg_open, ours.realised) == pytest.approx(
            (mock.net, mock.avg_open, mock.realized)
        )
    assert ours.realised != 0.0


def test_replay_reads_a_missing_closed_at_and_fee_as_null() -> None:
    row = vorder("c1", at=1.0, status="open")
    del row["closed_at"]
    order = VenueOrder.from_json(row)
    fill_row = vfill("c1", "BUY", 1, 5000.0, at=1.1)
    del fill_row["fee"]
    [fill] = ledger_fills(ledger([row], [fill_row]), {"c1"})
    assert order.closed_at is None and fill.fee == 0.0
    plan_ = RiskPlan(limits={"A1": Limits(max_position=0)})
    result = replay([order], [fill], {"c1": "A1"}, plan_)
    assert result.checked == 1 and [f.limit_kind for f in result.findings] == ["position"]

"""Order and fill checkers on hand-made histories and ledgers: each fails on its evidence only."""

from __future__ import annotations

from harness.adapters import OrderView
from harness.checks import CHECKERS

from .conftest import FakeAdapter, MakeCtx, Recorder, info, ok


def _fill(tag: str, qty: int = 1, side: str = "BUY", dup: str | None = None) -> dict[str, object]:
    return {"client_tag": tag, "qty": qty, "side": side, "symbol": "ESZ6", "duplicate_of": dup}


def test_no_duplicate_order_counts_venue_orders_per_client_order_id(make_ctx: MakeCtx) -> None:
    rec = Recorder()
    rec.order("c1", 1.0, ok({"status": "filled"}))
    rec.order("c1", 1.1, ok({"status": "filled"}))  # a client retry: fine, if the venue saw it once
    once = {"orders": [{"client_tag": "c1"}, {"client_tag": "someone-else"}], "fills": []}
    assert CHECKERS["no_duplicate_order"](make_ctx(rec, ledger=once)).passed
    twice = {"orders": [{"client_tag": "c1"}, {"client_tag": "c1"}], "fills": []}
    verdict = CHECKERS["no_duplicate_order"](make_ctx(rec, ledger=twice))
    assert not verdict.passed and verdict.category == "duplicate order"
    assert verdict.evidence[0]["client_order_id"] == "c1" and verdict.evidence[0]["venue_orders"] == 2


def test_no_lost_fill_holds_the_middleware_to_the_ledger(make_ctx: MakeCtx) -> None:
    rec = Recorder()
    rec.order("c1", 1.0, ok())
    ledger = {"orders": [], "fills": [_fill("c1", 2), _fill("c1", 2, dup="f1")]}  # the duplicate is ignored
    assert CHECKERS["no_lost_fill"](
        make_ctx(rec, ledger=ledger, orders={"c1": OrderView("filled", 2)})
    ).passed
    verdict = CHECKERS["no_lost_fill"](make_ctx(rec, ledger=ledger, orders={"c1": OrderView("working", 0)}))
    assert not verdict.passed and verdict.category == "data loss"
    assert verdict.evidence[0]["venue_filled_qty"] == 2 and verdict.evidence[0]["middleware_filled_qty"] == 0


def test_positions_reconcile_against_signed_venue_fills(make_ctx: MakeCtx) -> None:
    rec = Recorder()
    rec.order("c1", 1.0, ok())
    rec.order("c2", 1.2, ok(), side="SELL")
    ledger = {"orders": [], "fills": [_fill("c1", 3), _fill("c2", 1, "SELL"), _fill("c1", 3, dup="x")]}
    right = FakeAdapter({"A1": [{"symbol": "ESZ6", "net_qty": 2, "venue": "rithmic"}]})
    assert CHECKERS["positions_reconcile"](make_ctx(rec, ledger=ledger, adapter=right)).passed
    doubled = FakeAdapter({"A1": [{"symbol": "ESZ6", "net_qty": 5, "venue": "rithmic"}]})
    verdict = CHECKERS["positions_reconcile"](make_ctx(rec, ledger=ledger, adapter=doubled))
    assert not verdict.passed
    assert verdict.evidence == [
        {"account": "A1", "symbol": "ESZ6", "venue_net_qty": 2, "middleware_net_qty": 5}
    ]


def test_unknown_outcomes_must_resolve(make_ctx: MakeCtx) -> None:
    rec = Recorder()
    rec.order("c1", 1.0, info())
    rec.order("c2", 1.0, ok())
    assert CHECKERS["unknown_outcomes_resolve"](make_ctx(rec, orders={"c1": OrderView("filled", 1)})).passed
    assert CHECKERS["unknown_outcomes_resolve"](make_ctx(rec, orders={"c1": OrderView("failed")})).passed
    verdict = CHECKERS["unknown_outcomes_resolve"](make_ctx(rec, orders={"c1": OrderView("unknown")}))
    assert not verdict.passed and verdict.evidence[0]["client_order_id"] == "c1"


def test_an_unknown_order_neither_side_has_was_never_placed_but_one_only_the_venue_has_is_lost(
    make_ctx: MakeCtx,
) -> None:
    rec = Recorder()
    rec.order("c1", 1.0, info())  # a transport error: did the middleware get it?
    nowhere: dict[str, list[dict[str, str]]] = {"orders": [], "fills": []}
    assert CHECKERS["unknown_outcomes_resolve"](make_ctx(rec, ledger=nowhere, orders={})).passed
    venue_only = {"orders": [{"client_tag": "c1"}], "fills": []}
    verdict = CHECKERS["unknown_outcomes_resolve"](make_ctx(rec, ledger=venue_only, orders={}))
    assert not verdict.passed and verdict.evidence[0]["middleware_status"] == "missing"

"""Matching rules against a path whose touch the test sets by hand."""

from __future__ import annotations

from typing import Any

import pytest

from mocks.rithmic.market import Market
from mocks.rithmic.orders import BUY, LIMIT, MARKET, SELL, STOP_MARKET, MatchingEngine, Order, OrderError
from mocks.rithmic.pnl import PnlBook

ES = ("ESZ6", "CME")


def _engine(bid: float = 6800.0, ask: float = 6800.25, size: int = 10) -> tuple[MatchingEngine, Market]:
    market = Market(1)
    _touch(market, bid, ask, size)
    return MatchingEngine(market), market


def _touch(market: Market, bid: float, ask: float, size: int = 10, last: float | None = None) -> None:
    path = market.paths[ES]
    inst = path.instrument
    q = path.quote
    q.bid_ticks, q.ask_ticks = inst.to_ticks(bid), inst.to_ticks(ask)
    q.bid_size = q.ask_size = size
    q.last_ticks = inst.to_ticks(last if last is not None else ask)


def _order(engine: MatchingEngine, side_: int, qty_: int, type_: int, **kw: Any) -> Order:
    fields: dict[str, Any] = dict(
        basket_id=engine.next_basket_id(),
        user_tag="t",
        user="u",
        account_id="A",
        symbol=ES[0],
        exchange=ES[1],
        side=side_,
        qty=qty_,
        price_type=type_,
        price=0.0,
        trigger_price=0.0,
        duration=1,
        trade_route="simulator",
        manual_or_auto=1,
    )
    fields.update(kw)
    order = Order(**fields)
    engine.validate(order)
    return order


def test_market_orders_fill_at_the_touch() -> None:
    engine, _ = _engine()
    (buy,) = engine.accept(_order(engine, BUY, 2, MARKET))
    (sell,) = engine.accept(_order(engine, SELL, 3, MARKET))
    assert (buy.price, buy.size, sell.price, sell.size) == (6800.25, 2, 6800.0, 3)
    assert buy.order.status == "complete" and buy.order.completion_reason == "Fill"


def test_limit_rests_until_the_path_crosses_then_fills_at_its_price() -> None:
    engine, market = _engine()
    order = _order(engine, BUY, 1, LIMIT, price=6799.0)
    assert engine.accept(order) == []
    _touch(market, 6798.75, 6799.25)
    assert engine.on_step(*ES) == []  # ask still above the limit
    _touch(market, 6797.50, 6797.75)  # the path gapped through the limit
    (fill,) = engine.on_step(*ES)
    assert fill.price == 6799.0  # a resting order fills at its own price


def test_marketable_limit_fills_at_the_touch_on_arrival() -> None:
    engine, _ = _engine()
    (fill,) = engine.accept(_order(engine, SELL, 1, LIMIT, price=6790.0))
    assert fill.price == 6800.0


def test_large_orders_fill_in_parts_one_per_step() -> None:
    engine, _ = _engine(size=10)
    order = _order(engine, BUY, 25, MARKET)
    parts = [engine.accept(order), engine.on_step(*ES), engine.on_step(*ES), engine.on_step(*ES)]
    assert [[f.size for f in p] for p in parts] == [[10], [10], [5], []]
    assert order.filled == 25 and not order.is_working
    fill_ids = [f.fill_id for p in parts for f in p]
    assert len(set(fill_ids)) == 3


def test_stop_market_triggers_on_the_last_trade() -> None:
    engine, market = _engine()
    order = _order(engine, BUY, 1, STOP_MARKET, trigger_price=6802.0)
    assert engine.accept(order) == []
    _touch(market, 6802.0, 6802.25, last=6802.0)
    (fill,) = engine.on_step(*ES)
    assert fill.price == 6802.25


def test_cancel_modify_and_their_errors() -> None:
    engine, _ = _engine()
    order = _order(engine, BUY, 2, LIMIT, price=6790.0)
    engine.accept(order)
    modified, fills = engine.modify(order.basket_id, "A", 5, 6791.0, 0.0, LIMIT)
    assert (modified.qty, modified.price, fills) == (5, 6791.0, [])
    with pytest.raises(OrderError, match="tick grid"):
        engine.modify(order.basket_id, "A", 5, 6791.1, 0.0, LIMIT)
    with pytest.raises(OrderError, match="no order"):
        engine.cancel(order.basket_id, "OTHER")
    assert engine.cancel(order.basket_id, "A").completion_reason == "Cancel"
    with pytest.raises(OrderError, match="already cancel"):
        engine.cancel(order.basket_id, "A")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"symbol": "ZZZ9"}, "not listed"),
        ({"qty": 0}, "quantity"),
        ({"price_type": LIMIT, "price": 6800.1}, "tick grid"),
        ({"side": 7}, "transaction type"),
    ],
)
def test_invalid_orders_are_refused(change: dict[str, Any], message: str) -> None:
    engine, _ = _engine()
    with pytest.raises(OrderError, match=message):
        _order(engine, BUY, 1, MARKET, **change)


def test_pnl_tracks_average_price_and_realised_pnl() -> None:
    market = Market(1)
    _touch(market, 6800.0, 6800.25, last=6801.0)
    book = PnlBook(market)
    book.apply_fill("A", *ES, True, 2, 6800.0)
    book.apply_fill("A", *ES, True, 2, 6801.0)
    (pos,) = book.for_account("A")
    assert (pos.net, pos.avg_open) == (4, 6800.5)
    book.apply_fill("A", *ES, False, 5, 6802.0)  # close 4 at +1.5 points, open 1 short at 6802
    assert (pos.net, pos.avg_open, pos.realized) == (-1, 6802.0, 4 * 1.5 * 50)
    update = book.instrument_update(pos, "F", "I", snapshot=True)
    assert update.net_quantity == -1 and update.day_closed_pnl == 300.0 and update.is_snapshot
    account = book.account_update("A", "F", "I", snapshot=False)
    assert account.closed_position_pnl == "300.00" and account.account_balance == "100300.00"


def test_a_step_matches_only_resting_orders_of_its_instrument_and_forgets_finished_ones() -> None:
    """The step walks the instrument's resting orders, never the run's history: a filled or
    cancelled order is dropped from that walk, and a resting one fills when the touch reaches it."""
    engine, market = _engine()
    for _ in range(50):  # history: filled at once
        engine.accept(_order(engine, BUY, 1, MARKET))
    resting = engine.accept(_order(engine, BUY, 1, LIMIT, price=6799.0))
    assert resting == []
    cancelled = _order(engine, BUY, 1, LIMIT, price=6799.0)
    engine.accept(cancelled)
    engine.cancel(cancelled.basket_id, "A")
    other = _order(engine, SELL, 1, LIMIT, price=30000.0, symbol="NQZ6", exchange="CME")
    engine.accept(other)
    assert engine.resting_count(*ES) == 2  # the cancelled one is still counted until a step
    assert engine.on_step(*ES) == []
    assert engine.resting_count(*ES) == 1  # the step dropped the cancelled order
    _touch(market, 6798.75, 6799.0)
    (fill,) = engine.on_step(*ES)
    assert fill.price == 6799.0 and fill.order.status == "complete"
    assert engine.resting_count(*ES) == 1 and engine.on_step(*ES) == []
    assert engine.resting_count(*ES) == 0 and engine.resting_count("NQZ6", "CME") == 1


def test_an_accounts_orders_are_its_own_oldest_first_and_a_reset_forgets_them() -> None:
    engine, _ = _engine()
    for _ in range(3):
        engine.accept(_order(engine, BUY, 1, MARKET))
    theirs = _order(engine, SELL, 1, MARKET, account_id="B")
    engine.accept(theirs)
    ids = [o.basket_id for o in engine.orders_of("A")]
    assert len(ids) == 3 and ids == sorted(ids) and theirs.basket_id not in ids
    assert [o.basket_id for o in engine.orders_of("B")] == [theirs.basket_id]
    assert engine.orders_of("nobody") == []
    engine.reset()
    assert engine.orders_of("A") == [] and engine.resting_count(*ES) == 0

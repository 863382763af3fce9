"""Market regimes armed as faults, driven by stepping the gateway's clock by hand (no loop, no sleeps)."""

from __future__ import annotations

import asyncio
import itertools
from types import SimpleNamespace
from typing import Any

import pytest
from websockets.protocol import State

from mocks.common import FaultError, LedgerFill
from mocks.rithmic import RithmicGateway
from mocks.rithmic.feed import BBO, LAST_TRADE
from mocks.rithmic.orders import BUY, LIMIT, MARKET, Order
from mocks.rithmic.session import Session

ES, NQ, CL = ("ESZ6", "CME"), ("NQZ6", "CME"), ("CLF7", "NYMEX")


def _gateway(seed: int = 3, warmup: int = 5) -> RithmicGateway:
    gw = RithmicGateway(seed=seed, ticks_per_second=10)
    for _ in range(warmup):
        gw.clock.step()
    return gw


def _steps(gw: RithmicGateway, n: int) -> list[LedgerFill]:
    """Step the clock n periods; the fills it sent on the way, as the ledger recorded them."""
    before = len(gw.ledger.fills)
    for _ in range(n):
        gw.clock.step()
    return gw.ledger.fills[before:]


def _bid(gw: RithmicGateway, key: tuple[str, str] = ES) -> int:
    return gw.market.paths[key].quote.bid_ticks


def _fired(gw: RithmicGateway, fault: str) -> list[dict[str, Any]]:
    return [e for e in gw.events.since(0, "fault_fired") if e["fault"] == fault]


def _order(gw: RithmicGateway, side: int, qty: int, price_type: int, price: float = 0.0) -> Order:
    order = Order(
        basket_id=gw.engine.next_basket_id(),
        user_tag="t",
        user="uat-trader",
        account_id="UAT-0001",
        symbol=ES[0],
        exchange=ES[1],
        side=side,
        qty=qty,
        price_type=price_type,
        price=price,
        trigger_price=0.0,
        duration=1,
        trade_route="simulator",
        manual_or_auto=1,
    )
    gw.engine.validate(order)
    return order


def test_crash_takes_pct_of_the_price_over_over_s_then_random_walks() -> None:
    gw = _gateway()
    start, nq_start = _bid(gw), _bid(gw, NQ)
    gw.faults.arm("crash", {"symbol": "ESZ6", "pct": 3.0, "over_s": 10.0})
    _steps(gw, 100)  # 10 s at 10 steps a second
    expected = start * 0.03  # 816 ticks for ES at 6800
    assert abs((start - _bid(gw)) - expected) < 30  # the noise over 100 steps is ~9 ticks (1 sd)
    assert abs(_bid(gw, NQ) - nq_start) < 60  # only ES crashed
    after = _bid(gw)
    _steps(gw, 200)  # still armed, but the fall is over
    assert abs(_bid(gw) - after) < 60
    regimes = [s.regime for s in gw.history.since(ES)]
    assert regimes.count("crash") == 100 and regimes[-200:] == [""] * 200
    (fired,) = _fired(gw, "crash")
    assert (fired["symbol"], fired["pct"], fired["over_s"]) == ("ESZ6", 3.0, 10.0)


def test_trend_down_drifts_down_on_average_and_never_below_one_tick() -> None:
    gw = _gateway()
    start, calm = _bid(gw), RithmicGateway(seed=3, ticks_per_second=10)
    gw.faults.arm("trend_down", {"symbol": "ESZ6", "ticks_per_step": 0.5})
    _steps(gw, 400)
    assert -260 < _bid(gw) - start < -140  # 200 ticks of drift; the noise is ~18 ticks (1 sd)
    moves = [b.bid_ticks - a.bid_ticks for a, b in itertools.pairwise(gw.history.since(ES))]
    assert len(set(moves)) > 3  # still random
    for _ in range(405):
        calm.clock.step()
    assert abs(_bid(calm) - start) < 80  # the same seed without the trend does not fall

    gw.faults.arm("trend_down", {"symbol": "CLF7", "ticks_per_step": 50})
    _steps(gw, 200)  # 10,000 ticks of drift against a price of ~6,250 ticks
    quote = gw.market.paths[CL].quote
    assert quote.bid_ticks >= 1 and quote.ask_ticks > quote.bid_ticks
    assert [e["symbol"] for e in _fired(gw, "trend_down")] == ["ESZ6", "CLF7"]


def test_gap_jumps_by_pct_in_one_step_and_crossed_resting_orders_fill_at_their_price() -> None:
    gw = _gateway()
    limit_price = gw.market.paths[ES].instrument.price(_bid(gw) - 100)
    resting = _order(gw, BUY, 1, LIMIT, limit_price)
    assert gw.engine.accept(resting) == []
    before = _bid(gw)
    gw.faults.arm("gap", {"symbol": "ESZ6", "pct": -1.0}, count=1)
    fills = _steps(gw, 1)
    assert abs((_bid(gw) - before) - round(before * -0.01)) <= 2  # 272 ticks, plus one step's noise
    (fill,) = fills
    assert fill.order_id == resting.basket_id and fill.price == limit_price
    quote = gw.market.paths[ES].quote
    assert quote.last_ticks in (quote.bid_ticks, quote.ask_ticks)  # no trade at the prices in between
    before = _bid(gw)
    _steps(gw, 1)
    assert abs(_bid(gw) - before) <= 2  # used up: the next step is the usual walk
    assert [(e["symbol"], e["pct"]) for e in _fired(gw, "gap")] == [("ESZ6", -1.0)]

    gw.faults.arm("gap", {"pct": 2.0}, count=1)  # every instrument, one firing
    befores = {key: p.quote.bid_ticks for key, p in gw.market.paths.items()}
    _steps(gw, 1)
    for key, path in gw.market.paths.items():
        assert abs(path.quote.bid_ticks - befores[key] - round(befores[key] * 0.02)) <= 2
    assert len(_fired(gw, "gap")) == 5


def _subscriber(gw: RithmicGateway) -> list[bytes]:
    """A market-data subscriber to ES on a stand-in socket; returns what gets written to it."""
    written: list[bytes] = []
    transport = SimpleNamespace(
        is_closing=lambda: False, get_write_buffer_size=lambda: 0, write=written.append
    )
    protocol = SimpleNamespace(state=State.OPEN, send_binary=lambda data: None)
    ws: Any = SimpleNamespace(
        transport=transport, protocol=protocol, send_data=lambda: None, remote_address=("x", 1)
    )
    gw.feed.subscribe(Session(gw, ws), ES, LAST_TRADE | BBO)
    return written


def test_halt_freezes_the_instrument_and_orders_wait_then_fill_at_the_touch() -> None:
    gw = _gateway()
    written = _subscriber(gw)
    gw.faults.arm("halt", {"symbol": "ESZ6"})
    frozen, nq_seq, rows = gw.market.paths[ES].quote, gw.market.paths[NQ].quote.seq, len(gw.history.since(ES))
    frozen_seq, frozen_ask = frozen.seq, frozen.ask_ticks
    _steps(gw, 1)
    sent = len(written)
    market = _order(gw, BUY, 2, MARKET)
    above = gw.market.paths[ES].instrument.price(frozen_ask + 50)  # marketable, far above the ask
    marketable = _order(gw, BUY, 1, LIMIT, above)
    assert gw.engine.accept(market) == [] and gw.engine.accept(marketable) == []
    assert _steps(gw, 20) == []
    quote = gw.market.paths[ES].quote
    assert (quote.seq, quote.ask_ticks) == (frozen_seq, frozen_ask)  # no step at all
    assert len(gw.history.since(ES)) == rows and len(written) == sent == 0  # no ticks sent
    assert gw.market.paths[NQ].quote.seq == nq_seq + 21  # the others trade on
    assert market.is_working and marketable.is_working
    assert [e["symbol"] for e in _fired(gw, "halt")] == ["ESZ6"]

    gw.faults.clear("halt")
    fills = _steps(gw, 1)
    quote = gw.market.paths[ES].quote
    assert {(f.order_id, f.price) for f in fills} == {
        (market.basket_id, gw.market.paths[ES].instrument.price(quote.ask_ticks)),
        (marketable.basket_id, gw.market.paths[ES].instrument.price(quote.ask_ticks)),  # not its limit
    }
    assert quote.seq == frozen_seq + 1 and len(written) > 0
    ledger_qty = sum(f.qty for f in gw.ledger.fills)
    assert ledger_qty == 3


def test_thin_liquidity_fills_a_4_lot_in_4_pieces_every_nth_step() -> None:
    gw = _gateway()
    gw.faults.arm("thin_liquidity", {"symbol": "ESZ6", "every": 5})
    _steps(gw, 1)
    quote = gw.market.paths[ES].quote
    assert (quote.bid_size, quote.ask_size) == (1, 1)
    order = _order(gw, BUY, 4, MARKET)
    path = gw.market.paths[ES]
    seqs = [path.quote.seq for _ in gw.engine.accept(order)]
    for _ in range(30):
        if _steps(gw, 1):
            seqs.append(path.quote.seq)
    assert len(seqs) == 4 and all(s % 5 == 0 for s in seqs)
    assert [b - a for a, b in itertools.pairwise(seqs)] == [5, 5, 5]
    assert [f.qty for f in gw.ledger.fills] == [1, 1, 1, 1] and not order.is_working
    assert gw.history.since(ES)[-1].regime == "thin_liquidity"
    assert [e["symbol"] for e in _fired(gw, "thin_liquidity")] == ["ESZ6"]


def test_regimes_stack_and_the_history_names_them() -> None:
    gw = _gateway()
    gw.faults.arm("crash", {"symbol": "ESZ6", "pct": 1.0, "over_s": 0.5})
    gw.faults.arm("thin_liquidity", {"symbol": ""})
    _steps(gw, 6)
    assert [s.regime for s in gw.history.since(ES)][-6:] == ["crash+thin_liquidity"] * 5 + ["thin_liquidity"]
    assert gw.history.since(NQ)[-1].regime == "thin_liquidity"


def test_same_seed_same_paths_under_regimes() -> None:
    def run(seed: int) -> list[tuple[int, int, int, int, str]]:
        gw = _gateway(seed)
        gw.faults.arm("trend_down", {"ticks_per_step": 0.3})
        gw.faults.arm("gap", {"symbol": "NQZ6", "pct": 1.5}, count=2)
        _steps(gw, 10)
        gw.faults.arm("crash", {"symbol": "CLF7", "pct": 5.0, "over_s": 2.0})
        gw.faults.arm("thin_liquidity", {"symbol": "GCG7", "every": 3})
        _steps(gw, 40)
        return [
            (s.seq, s.bid_ticks, s.ask_ticks, s.last_ticks, s.regime)
            for key in gw.market.paths
            for s in gw.history.since(key)
        ]

    assert run(8) == run(8)
    assert run(8) != run(9)


def test_reset_clears_regimes_and_history() -> None:
    gw = _gateway()
    start = _bid(gw)
    gw.faults.arm("crash", {"symbol": "ESZ6", "pct": 10.0, "over_s": 1.0})
    gw.faults.arm("gap", {"pct": 5.0})
    _steps(gw, 5)
    asyncio.run(gw.reset())
    assert gw.history.since(ES) == [] and gw.faults.snapshot() == []
    assert gw.market.paths[ES].regime.name == ""
    _steps(gw, 5)
    assert abs(_bid(gw) - start) < 30 and {s.regime for s in gw.history.since(ES)} == {""}


@pytest.mark.parametrize(
    ("fault", "params", "field"),
    [
        ("crash", {"pct": 80.0}, "params.pct"),
        ("crash", {"over_s": 0}, "params.over_s"),
        ("gap", {"pct": "down"}, "params.pct"),
        ("halt", {"symbol": "ZZZ9"}, "params.symbol"),
        ("thin_liquidity", {"every": 0}, "params.every"),
        ("trend_down", {"ticks_per_step": 51}, "params.ticks_per_step"),
    ],
)
def test_bad_regime_params_are_refused_naming_the_field(
    fault: str, params: dict[str, Any], field: str
) -> None:
    gw = RithmicGateway(seed=0)
    with pytest.raises(FaultError) as refused:
        gw.faults.arm(fault, params)
    assert refused.value.field == field

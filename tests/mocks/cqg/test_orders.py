"""Trade subscriptions and orders through the project's client: acks, rejects naming the field, fills
(partial ones too) with fill_qty / fill_cnt / average price, modify, cancel, positions, the ledger, and the
per-account order rate."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import httpx
import pytest

from mocks.cqg.proto import webapi_pb2 as pb
from reference_middleware.venues.cqg import (
    BUY,
    CANCELLED,
    FILLED,
    LMT,
    MKT,
    SELL,
    WORKING,
    CQGClient,
    CQGError,
)
from tests.mocks.venue_thread import VenueThread

from .conftest import ACCOUNT, Raw, client, creds, eventually, run


async def _ready(c: CQGClient, symbol: str = "ESZ6") -> Any:
    await c.connect()
    await c.subscribe_trades()
    return await c.resolve(symbol)


def test_market_order_fills_and_lands_in_the_ledger(cqg: VenueThread, control: httpx.Client) -> None:
    c = client(cqg)

    async def scenario() -> tuple[Any, Any]:
        es = await _ready(c)
        cl = await c.place_order(ACCOUNT, es, BUY, 2, MKT)
        assert await eventually(lambda: (v := c.order_by_cl(cl)) is not None and v.status == FILLED)
        assert await eventually(lambda: c.positions.get((ACCOUNT, es.contract_id)) == 2)
        view = c.order_by_cl(cl)
        await c.close()
        return view, es

    view, _ = run(scenario())
    assert view.fill_qty == 2 and view.fill_cnt >= 1 and view.remaining_qty == 0 and view.avg_fill_price > 0
    ledger = control.get("/ledger").json()
    order = next(o for o in ledger["orders"] if o["order_id"] == view.order_id)
    assert order["client_tag"] in view.cl_ids
    assert (
        order["status"] == "filled" and order["order_type"] == "MARKET" and order["account"] == str(ACCOUNT)
    )
    assert sum(f["qty"] for f in ledger["fills"] if f["order_id"] == view.order_id) == 2
    assert {"account": str(ACCOUNT), "symbol": "ESZ6", "exchange": "CME", "net_qty": 2} in ledger["positions"]


def test_a_large_order_fills_in_parts(cqg: VenueThread) -> None:
    c = client(cqg)

    async def scenario() -> Any:
        es = await _ready(c)
        cl = await c.place_order(ACCOUNT, es, SELL, 400, MKT)
        assert await eventually(lambda: (v := c.order_by_cl(cl)) is not None and v.status == FILLED, 8)
        view = c.order_by_cl(cl)
        assert view is not None
        fills = [f for f in c.fills.values() if f.order_id == view.order_id]
        await c.close()
        return view, fills

    view, fills = run(scenario(), 15)
    assert view.fill_qty == 400 and view.fill_cnt == len(fills) > 1
    assert sum(f.qty for f in fills) == 400
    prices = [f.scaled_price for f in fills]
    expected = sum(Decimal(f.scaled_price) * f.qty for f in fills) / 400 / 100
    assert abs(Decimal(str(view.avg_fill_price)) - expected) < Decimal("0.0001"), (
        prices,
        view.avg_fill_price,
    )


def test_limit_order_rests_is_modified_then_cancelled(cqg: VenueThread, control: httpx.Client) -> None:
    c = client(cqg)

    async def scenario() -> list[int]:
        es = await _ready(c)
        cl = await c.place_order(ACCOUNT, es, BUY, 3, LMT, limit_price=5500.0)  # far below the ~6800 market
        assert await eventually(lambda: (v := c.order_by_cl(cl)) is not None and v.status == WORKING)
        modified = await c.modify_order(ACCOUNT, cl, qty=5)
        assert await eventually(lambda: (v := c.order_by_cl(modified)) is not None and v.remaining_qty == 5)
        cancelled = await c.cancel_order(ACCOUNT, modified)
        assert await eventually(lambda: (v := c.order_by_cl(cancelled)) is not None and v.status == CANCELLED)
        with pytest.raises(CQGError) as gone:
            await c.cancel_order(ACCOUNT, cancelled)
        assert gone.value.code == 2 and "no longer working" in str(gone.value)
        view = c.order_by_cl(cl)
        await c.close()
        assert view is not None and {cl, modified, cancelled} <= view.cl_ids
        return [view.fill_cnt]

    assert run(scenario()) == [0]
    order = control.get("/ledger").json()["orders"][0]
    assert order["status"] == "cancelled" and order["qty"] == 5


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"qty": pb.Decimal(significand=15, exponent=-1)}, "new_order.order.qty"),
        ({"qty": pb.Decimal(significand=1, exponent=40)}, "new_order.order.qty.exponent"),
        ({"contract_id": 77}, "new_order.order.contract_id"),
        ({"account_id": 999}, "new_order.order.account_id"),
        ({"order_type": 9}, "new_order.order.order_type"),
        ({"side": 3}, "new_order.order.side"),
        ({"order_type": LMT}, "new_order.order.scaled_limit_price"),
        ({"cl_order_id": ""}, "new_order.order.cl_order_id"),
        ({"order_type": LMT, "scaled_limit_price": 680001}, "new_order.order"),  # off the 0.25 tick grid
    ],
)
def test_order_rejects_name_the_field(cqg: VenueThread, change: dict[str, Any], field: str) -> None:
    async def scenario() -> pb.OrderRequestReject:
        raw = await Raw.open(cqg.url)
        await raw.logon(creds(cqg))
        fields: dict[str, Any] = dict(
            account_id=ACCOUNT,
            contract_id=1,
            cl_order_id="r1",
            order_type=MKT,
            side=BUY,
            qty=pb.Decimal(significand=1),
        )
        fields.update(change)
        order = pb.Order(**fields)
        await raw.send(order_requests=[pb.OrderRequest(request_id=42, new_order=pb.NewOrder(order=order))])
        reject: pb.OrderRequestReject = (await raw.expect("order_request_rejects")).order_request_rejects[0]
        await raw.close()
        return reject

    reject = run(scenario())
    assert reject.request_id == 42 and reject.reject_code in (1, 4)
    assert reject.text_message.startswith(field), reject.text_message


def test_cl_order_id_is_unique_per_account(cqg: VenueThread) -> None:
    c = client(cqg)

    async def scenario() -> CQGError:
        es = await _ready(c)
        await c.place_order(ACCOUNT, es, BUY, 1, MKT, cl_order_id="same")
        with pytest.raises(CQGError) as dup:
            await c.place_order(ACCOUNT, es, BUY, 1, MKT, cl_order_id="same")
        await c.close()
        return dup.value

    assert "already used" in str(run(scenario()))


def test_snapshot_then_completion_for_a_late_subscriber(cqg: VenueThread) -> None:
    first, late = client(cqg), client(cqg, client_app_id="late")

    async def scenario() -> tuple[Any, Any]:
        es = await _ready(first)
        cl = await first.place_order(ACCOUNT, es, BUY, 1, MKT)
        assert await eventually(lambda: (v := first.order_by_cl(cl)) is not None and v.status == FILLED)
        await late.connect()
        snapshots: list[pb.OrderStatus] = []
        late.on_message.append(lambda m: snapshots.extend(s for s in m.order_statuses if s.is_snapshot))
        await late.subscribe_trades()  # returns once the snapshot completed
        view = late.order_by_cl(cl)
        position = late.positions.get((ACCOUNT, es.contract_id))
        await first.close()
        await late.close()
        return (view, position), snapshots

    (view, position), snapshots = run(scenario())
    assert view is not None and view.status == FILLED and view.fill_qty == 1 and position == 1
    assert snapshots and all(s.is_snapshot for s in snapshots)


def test_more_than_ten_orders_a_second_on_one_account_are_rejected(cqg: VenueThread) -> None:
    c = client(cqg)

    async def scenario() -> list[str]:
        es = await _ready(c)
        outcomes = []
        for i in range(12):
            try:
                await c.place_order(ACCOUNT, es, BUY, 1, LMT, limit_price=5000.0, cl_order_id=f"burst-{i}")
                outcomes.append("ack")
            except CQGError as exc:
                outcomes.append(f"reject {exc.code}: {exc}")
        await asyncio.sleep(1.05)
        await c.place_order(ACCOUNT, es, BUY, 1, LMT, limit_price=5000.0, cl_order_id="after")
        await c.close()
        return outcomes

    outcomes = run(scenario())
    assert outcomes[:10] == ["ack"] * 10
    assert all(o.startswith("reject 3") and "per second" in o for o in outcomes[10:]), outcomes


def test_session_order_window_and_subscription_limits(cqg: VenueThread, control: httpx.Client) -> None:
    patch = {"max_orders_per_session": 3, "max_market_data_subscriptions": 1, "max_trade_subscriptions": 1}
    assert control.post("/cqg/config", json=patch).status_code == 200
    c = client(cqg)

    async def scenario() -> tuple[list[str], CQGError, CQGError]:
        es = await _ready(c)
        outcomes = []
        for i in range(4):
            try:
                await c.place_order(ACCOUNT, es, BUY, 1, LMT, limit_price=5000.0, cl_order_id=f"s-{i}")
                outcomes.append("ack")
            except CQGError as exc:
                outcomes.append(str(exc))
        await c.subscribe_market_data(1, 1)
        with pytest.raises(CQGError) as md_limit:
            await c.subscribe_market_data(2, 1)
        with pytest.raises(CQGError) as trade_limit:
            await c.subscribe_trades()
        await c.close()
        return outcomes, md_limit.value, trade_limit.value

    outcomes, md_limit, trade_limit = run(scenario())
    assert outcomes[:3] == ["ack"] * 3 and "on this session" in outcomes[3]
    assert md_limit.code == 104 and trade_limit.code == 104

"""The middleware's CQG client: idempotent order statuses, and sessions that survive a reconnect with their
subscriptions, against the real CQG mock on port 0."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal

import pytest

from mocks.cqg import CQGConfig, CQGGateway
from mocks.cqg.proto import webapi_pb2 as pb
from reference_middleware.venues.cqg import BUY, FILLED, MKT, WORKING, CQGClient, from_decimal, to_decimal
from tests.mocks.venue_thread import VenueThread

ACCOUNT = 10001


@pytest.fixture
def cqg() -> Iterator[VenueThread]:
    with VenueThread(CQGGateway(seed=9, ticks_per_second=20, config=CQGConfig(ping_interval_s=5))) as vt:
        yield vt


def _client(vt: VenueThread) -> CQGClient:
    creds = vt.venue.describe()
    return CQGClient(vt.url, creds["user"], creds["password"], request_timeout_s=3)


def _status(status: int, fill: int, trans_id: int, trade: str = "") -> pb.ServerMsg:
    tx = pb.TransactionStatus(status=status, trans_id=trans_id, cl_order_id="c1")
    if trade:
        tx.fill_qty.CopyFrom(to_decimal(1))
        tx.trade_id, tx.scaled_fill_price = trade, 680025
    s = pb.OrderStatus(
        status=status,
        order_id="o1",
        chain_order_id="o1",
        cl_order_id="c1",
        account_id=ACCOUNT,
        contract_id=1,
        fill_qty=to_decimal(fill),
        fill_cnt=fill,
        remaining_qty=to_decimal(2 - fill),
        transaction_statuses=[tx],
    )
    return pb.ServerMsg(order_statuses=[s])


def test_statuses_apply_once_and_never_go_backwards() -> None:
    c = CQGClient("ws://127.0.0.1:1", "u", "p")
    working, fill1, fill2 = _status(WORKING, 0, 1), _status(WORKING, 1, 2, "T1"), _status(FILLED, 2, 3, "T2")
    for msg in (fill1, fill1, fill2, working, fill1, fill2):  # duplicated, and WORKING arriving late
        c._handle(msg)
    view = c.orders["o1"]
    assert view.status == FILLED and view.fill_qty == 2 and view.fill_cnt == 2
    assert sorted(c.fills) == ["T1", "T2"] and sum(f.qty for f in c.fills.values()) == 2
    assert c.order_by_cl("c1") is view


def test_decimal_round_trip() -> None:
    for value in (Decimal(1), Decimal("2.5"), Decimal(-300), Decimal("0.001")):
        assert from_decimal(to_decimal(value)) == value


def test_reconnect_restores_and_trade_statuses_flow_again(cqg: VenueThread) -> None:
    c = _client(cqg)

    async def scenario() -> tuple[str, int, Decimal | None]:
        await c.connect()
        es = await c.resolve("ES")
        await c.subscribe_trades()
        first = await c.place_order(ACCOUNT, es, BUY, 1, MKT)
        assert c.ws is not None
        c.ws.transport.abort()  # the connection dies under the client
        await asyncio.sleep(0.1)
        how = await c.reconnect()
        second = await c.place_order(ACCOUNT, es, BUY, 1, MKT)
        for _ in range(150):
            views = [c.order_by_cl(first), c.order_by_cl(second)]
            if all(v is not None and v.status == FILLED for v in views):
                break
            await asyncio.sleep(0.02)
        filled = sum(1 for v in (c.order_by_cl(first), c.order_by_cl(second)) if v and v.status == FILLED)
        position = c.positions.get((ACCOUNT, es.contract_id))
        await c.logoff()
        return how, filled, position

    how, filled, position = asyncio.run(asyncio.wait_for(scenario(), 20))
    assert how == "restored" and filled == 2 and position == 2

"""The order plant's ledger rows: fees on fills, and when each order became final (`closed_at`)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from mocks.rithmic.runner import GatewayThread

from .conftest import Control, RawClient, eventually, run

BUY, LIMIT, MARKET = 1, 1, 2


async def _order_plant(gt: GatewayThread) -> RawClient:
    raw = await RawClient.open(gt.url)
    assert list((await raw.login(gt.gateway.describe(), infra_type=2)).rp_code) == ["0"]
    return raw


async def _place(raw: RawClient, tag: str, qty: int, price_type: int, **extra: Any) -> str:
    """Send a new order (312); its basket id from the final 313."""
    await raw.send(
        312,
        user_tag=tag,
        account_id=extra.pop("account_id", "UAT-0001"),
        symbol=extra.pop("symbol", "ESZ6"),
        exchange="CME",
        quantity=qty,
        transaction_type=BUY,
        duration=1,
        price_type=price_type,
        trade_route="simulator",
        manual_or_auto=2,
        **extra,
    )
    while True:
        reply = await raw.expect(313)
        if list(reply.rp_code):
            return str(reply.basket_id)


def _by_tag(ledger: dict[str, Any], tag: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    (order,) = [o for o in ledger["orders"] if o["client_tag"] == tag]
    return order, [f for f in ledger["fills"] if f["client_tag"] == tag]


def test_fills_carry_the_fee_and_orders_close_when_filled_cancelled_or_rejected(
    gateway: GatewayThread,
) -> None:
    async def scenario() -> None:
        raw, control = await _order_plant(gateway), Control(gateway)
        try:
            before = time.time()
            await control.arm("duplicate_fill", count=1)
            await _place(raw, "mkt", 2, MARKET)
            basket = await _place(raw, "lim", 1, LIMIT, price=5000.0)
            await _place(raw, "bad", 1, MARKET, symbol="ZZZ9")
            await raw.send(316, basket_id=basket, account_id="UAT-0001")
            await raw.expect(317)
            ledger = await control.ledger()
            order, fills = _by_tag(ledger, "mkt")
            assert [(f["qty"], f["fee"], f["duplicate_of"]) for f in fills] == [
                (2, 4.5, None),
                (2, 0.0, fills[0]["fill_id"]),  # the duplicate notification executed nothing
            ]
            assert order["status"] == "filled" and order["closed_at"] == fills[0]["sent_at"]
            for tag, status in (("lim", "cancelled"), ("bad", "rejected")):
                order, fills = _by_tag(ledger, tag)
                assert (order["status"], fills) == (status, [])
                assert before <= order["received_at"] <= order["closed_at"] <= time.time()
        finally:
            await control.close()
            await raw.close()

    run(scenario())


def test_an_order_closes_at_the_fill_that_completes_it_even_when_held(gateway: GatewayThread) -> None:
    async def scenario() -> None:
        raw, control = await _order_plant(gateway), Control(gateway)
        try:
            await control.arm("thin_liquidity", {"symbol": "ESZ6", "every": 1})
            await asyncio.sleep(0.1)  # a step takes the touch down to 1 contract
            await _place(raw, "parts", 3, MARKET)

            async def done() -> bool:
                return bool(_by_tag(await control.ledger(), "parts")[0]["status"] == "filled")

            assert await eventually(done, 3)
            order, fills = _by_tag(await control.ledger(), "parts")
            assert [(f["qty"], f["fee"]) for f in fills] == [(1, 2.25)] * 3
            assert order["closed_at"] == fills[-1]["sent_at"] > fills[0]["sent_at"]

            await control.clear()
            await control.arm("hold_fills", {"delay_ms": 400}, count=1)
            await _place(raw, "held", 1, MARKET)
            order, fills = _by_tag(await control.ledger(), "held")
            assert (order["status"], order["closed_at"], fills) == ("open", None, [])
            await asyncio.sleep(0.6)
            order, fills = _by_tag(await control.ledger(), "held")
            assert order["closed_at"] == fills[0]["sent_at"] and fills[0]["fee"] == 2.25
        finally:
            await control.close()
            await raw.close()

    run(scenario())

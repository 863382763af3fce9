"""Fills are booked once each, never past the venue's cumulative quantity, and with the quantity-
weighted average price, against the real Postgres the middleware migrated."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
import pytest

from reference_middleware.fills import book_fill

from .conftest import Env

T = TypeVar("T")
COID = "fills-1"


def _healthy(name: str) -> bool:
    return False


def _run(env: Env, work: Callable[[Any], Awaitable[T]]) -> T:
    async def go() -> T:
        pool = await asyncpg.create_pool(env.topo.postgres.dsn, min_size=1, max_size=2)
        try:
            return await work(pool)
        finally:
            await pool.close()

    return asyncio.run(asyncio.wait_for(go(), 30))


@pytest.fixture
def order(env: Env) -> dict[str, Any]:
    env.restart()
    env.topo.postgres.psql(
        "INSERT INTO accounts (id, rithmic_account, max_position, max_order_qty, daily_loss_limit) "
        "VALUES ('ACC-F', 'ACC-F', 9, 9, 1000) ON CONFLICT DO NOTHING; "
        "INSERT INTO orders (client_order_id, account_id, venue, symbol, exchange, side, qty, "
        f"order_type, status) VALUES ('{COID}', 'ACC-F', 'rithmic', 'ESZ6', 'CME', 'BUY', 3, 'MARKET', "
        "'working')"
    )
    return {"client_order_id": COID}


def _book(pool: Any, order: dict[str, Any], fill_id: str, qty: int, price: float, **kw: Any) -> Any:
    return book_fill(
        pool, kw.pop("mutant", _healthy), order, venue_fill_id=fill_id, qty=qty, price=price,
        source="live", **kw,
    )  # fmt: skip


def test_a_fill_counts_once_and_the_order_adds_up(env: Env, order: dict[str, Any]) -> None:
    async def work(pool: Any) -> list[Any]:
        return [
            await _book(pool, order, "F1", 1, 100.0, cumulative=1),
            await _book(pool, order, "F1", 1, 100.0, cumulative=1),  # the same notification again
            await _book(pool, order, "F2", 2, 103.0, cumulative=3),
        ]

    first, again, last = _run(env, work)
    assert (first["filled_qty"], first["status"]) == (1, "partially_filled")
    assert again is None
    assert (last["filled_qty"], last["status"]) == (3, "filled")
    assert last["avg_fill_price"] == pytest.approx((100.0 + 2 * 103.0) / 3)
    booked = env.topo.postgres.psql(f"SELECT count(*) FROM fills WHERE client_order_id = '{COID}'")
    assert booked.strip() == "2"


def test_a_fill_past_the_cumulative_quantity_is_cut_to_it(env: Env, order: dict[str, Any]) -> None:
    async def work(pool: Any) -> list[Any]:
        # reconciliation booked 2 under its own id; the live notification says 2 of 2 in all
        return [
            await _book(pool, order, "R1", 2, 100.0),
            await _book(pool, order, "F9", 2, 100.0, cumulative=2),
        ]

    reconciled, live = _run(env, work)
    assert reconciled["filled_qty"] == 2
    assert live is None


def test_the_double_count_mutant_books_the_same_fill_twice(env: Env, order: dict[str, Any]) -> None:
    mutant = "double_count_fills".__eq__

    async def work(pool: Any) -> Any:
        await _book(pool, order, "F1", 1, 100.0, cumulative=1, mutant=mutant)
        return await _book(pool, order, "F1", 1, 100.0, cumulative=1, mutant=mutant)

    assert _run(env, work)["filled_qty"] == 2

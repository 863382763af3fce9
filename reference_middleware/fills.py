"""Booking fills: each once per (venue, fill id), never beyond the cumulative quantity the venue
reports, so a duplicate notification, or a late one after reconciliation, is a no-op.

The order's row lock (FOR UPDATE) serialises the fills of one order, live or from reconciliation,
so other orders' fills are booked at the same time.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .orders import OrderService

# The order locked for a fill, with whether that fill id was booked already.
_LOCK_FOR_FILL = (
    "SELECT o.*, EXISTS (SELECT 1 FROM fills WHERE venue = $2 AND fill_id = $3) AS seen "
    "FROM orders o WHERE o.client_order_id = $1 FOR UPDATE OF o"
)
# The fill, the order's new totals and the log entry, in one round trip.
_BOOK_FILL = """
WITH fill AS (
    INSERT INTO fills (venue, fill_id, client_order_id, account_id, symbol, exchange, side, qty,
                       price, source)
    SELECT $1, $2, o.client_order_id, o.account_id, o.symbol, o.exchange, o.side, $4, $5, $6
    FROM orders o WHERE o.client_order_id = $3
),
logged AS (INSERT INTO txlog(kind, detail) VALUES ('fill', $10::jsonb))
UPDATE orders SET filled_qty = $7, avg_fill_price = $8, status = $9, updated_at = now()
WHERE client_order_id = $3 RETURNING *
"""


async def book_fill(
    pool: Any,
    mutant: Callable[[str], bool],
    order: Any,
    *,
    venue_fill_id: str,
    qty: int,
    price: float,
    source: str,
    cumulative: int | None = None,
    venue: str = "rithmic",
) -> Any | None:
    """Book one fill against an order, once; returns the order as it now stands, or None when the
    fill did not count (seen before, or beyond the venue's cumulative quantity). `mutant` is the
    config's switch for the seeded bugs (double_count_fills, avg_price_last_fill)."""
    async with pool.acquire() as conn, conn.transaction():
        coid = order["client_order_id"]
        fresh = await conn.fetchrow(_LOCK_FOR_FILL, coid, venue, venue_fill_id)
        counted = qty
        if not mutant("double_count_fills"):
            if fresh["seen"]:
                return None
            if cumulative is not None:
                counted = min(qty, cumulative - fresh["filled_qty"])
            if counted <= 0:
                return None
        filled = fresh["filled_qty"] + counted
        notional = (fresh["avg_fill_price"] or 0.0) * fresh["filled_qty"] + price * counted
        status = "filled" if filled >= fresh["qty"] else "partially_filled"
        detail = json.dumps(
            {"client_order_id": coid, "fill_id": venue_fill_id, "qty": counted, "source": source}
        )
        return await conn.fetchrow(
            _BOOK_FILL,
            venue,
            venue_fill_id,
            coid,
            counted,
            price,
            source,
            filled,
            price if mutant("avg_price_last_fill") else notional / filled,
            status if fresh["status"] not in ("cancelled",) else fresh["status"],
            detail,
        )


async def record_venue_fill(
    service: OrderService,
    *,
    account: str,
    fill_id: str,
    symbol: str,
    exchange: str,
    side: str,
    qty: int,
    price: float,
    venue: str = "tt",
) -> bool:
    """Book a fill that no order of ours carries (TT's ledger); once per fill id."""
    async with service.fill_lock, service.pool.acquire() as conn, conn.transaction():
        if not service.cfg.mutant("double_count_fills"):
            seen = await conn.fetchval(
                "SELECT 1 FROM fills WHERE venue = $1 AND fill_id = $2", venue, fill_id
            )
            if seen:
                return False
        await conn.execute(
            "INSERT INTO fills (venue, fill_id, account_id, symbol, exchange, side, qty, price, source) "
            "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,'ledger')",
            venue,
            fill_id,
            account,
            symbol,
            exchange,
            side,
            qty,
            price,
        )
        return True

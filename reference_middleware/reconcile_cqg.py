"""Reconciliation against CQG: after a reconnect (restored or logged on again), the trade snapshot
is the venue's word on every order of ours; what it shows that we missed is booked here.

Fills the venue listed are booked under their ids (CQG's trade ids, as the live statuses carry them,
or the venue client's id for a part filled while we were away: the snapshot has totals, not trades),
each capped by the order's cumulative fill, so a fill seen live and again here counts once. What the
total still adds beyond them (an order filled while this process was down) is booked once at the
price the venue's average implies. An order of ours still pending or unknown, old enough for the
venue to have shown it (twice the order timeout), and absent from the snapshot never reached CQG.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from . import db
from .order_status import FINAL, fail_unseen

if TYPE_CHECKING:
    from .venues.cqg_statuses import VenueOrderState

log = logging.getLogger("refmw.orders")
_STATUS = {
    "working": "working",
    "partially_filled": "working",
    "cancelled": "cancelled",
    "rejected": "rejected",
}


async def reconcile_cqg(orders: Any, states: list[VenueOrderState]) -> int:
    """Book what the snapshot shows and we lack; settle old pending orders it does not show. The
    number of fills booked."""
    rows = {
        r["client_order_id"]: r
        for r in await orders.pool.fetch(
            "SELECT * FROM orders WHERE venue = 'cqg' AND client_order_id = ANY($1::text[])",
            [s.client_order_id for s in states],
        )
    }
    booked = 0
    for state in states:
        row = rows.get(state.client_order_id)
        if row is None:
            continue
        filled, paid = int(row["filled_qty"]), float(row["avg_fill_price"] or 0.0) * int(row["filled_qty"])
        for trade_id, qty, price in state.fills:
            done = await orders.record_fill(
                row,
                venue_fill_id=trade_id,
                qty=qty,
                price=price,
                source="reconcile",
                cumulative=state.filled_qty,
                venue="cqg",
            )
            if done is not None:
                booked += 1
                filled, paid = (
                    int(done["filled_qty"]),
                    float(done["avg_fill_price"]) * int(done["filled_qty"]),
                )
        missing = state.filled_qty - filled
        if missing > 0 and state.avg_price:
            price = (state.avg_price * state.filled_qty - paid) / missing
            done = await orders.record_fill(
                row,
                venue_fill_id=f"recon-{state.order_id}-{state.filled_qty}",
                qty=missing,
                price=round(price, 6),
                source="reconcile",
                cumulative=state.filled_qty,
                venue="cqg",
            )
            booked += done is not None
        wanted = _STATUS.get(state.status)
        if wanted and row["status"] not in FINAL and (wanted != row["status"] or not row["basket_id"]):
            await orders._set_status(state.client_order_id, wanted, basket_id=state.order_id)
    shown = set(rows)
    await fail_unseen(orders.pool, orders._set_status, "cqg", shown, orders.cfg.order_timeout_s * 2)
    async with orders.pool.acquire() as conn:
        await db.log(conn, "reconcile", venue="cqg", booked=booked, orders=len(shown))
    log.info("reconciled %d CQG orders, booked %d missing fills", len(shown), booked)
    return booked

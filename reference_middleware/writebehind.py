"""The `ack_before_durable` mutant: orders acknowledged from memory, written to Postgres later.

The agency's reasoning: the INSERT is the slowest part of an order, so take it off the hot path.
An order is risk-checked, sent to the venue and answered 202 from a dict; a background task writes
the buffered rows every 2 s. Reads of the order, repeats of its client_order_id and the venue's
notifications for it all look in the buffer too, so nothing shows until the process dies with the
buffer full: a SIGKILL loses every acknowledged order it still holds (the venue has them; we do not).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from .order_schema import order_json
from .venues.rithmic import VenueDown

if TYPE_CHECKING:
    from .orders import Answer, OrderService

log = logging.getLogger("refmw.orders")
FLUSH_INTERVAL_S = 2.0
_INSERT = (
    "INSERT INTO orders (client_order_id, account_id, venue, symbol, exchange, side, qty, order_type, "
    "limit_price, status, reason, basket_id, created_at, updated_at) "
    "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14) ON CONFLICT (client_order_id) DO NOTHING"
)


class WriteBehind:
    def __init__(self, orders: OrderService) -> None:
        self.orders = orders
        self.rows: dict[str, dict[str, Any]] = {}
        self.deferred: list[Any] = []  # venue notifications for buffered orders

    def get(self, coid: str) -> dict[str, Any] | None:
        return self.rows.get(coid)

    def holds(self, coid: str) -> bool:
        return coid in self.rows

    def defer(self, message: Any) -> None:
        self.deferred.append(message)

    async def place(self, req: dict[str, Any]) -> Answer:
        o = self.orders
        coid = req["client_order_id"]
        known = self.rows.get(coid) or await o.pool.fetchrow(
            "SELECT * FROM orders WHERE client_order_id = $1", coid
        )
        if known is not None:
            return o._answer(known)
        account = await o.pool.fetchrow("SELECT * FROM accounts WHERE id = $1", req["account"])
        if account is None:
            return 404, {"error": f"no account {req['account']!r}", "field": "account"}
        try:
            o.rithmic.require_order_plant()
        except VenueDown as exc:
            return 503, {"error": str(exc), "venue": "rithmic"}
        await o._first_quote(req)
        async with o.pool.acquire() as conn:
            reason = await o._risk(conn, account, req)
        now = dt.datetime.now(dt.UTC)
        row: dict[str, Any] = {
            "client_order_id": coid,
            "account_id": req["account"],
            "venue": "rithmic",
            "symbol": req["symbol"],
            "exchange": req["exchange"],
            "side": req["side"],
            "qty": req["qty"],
            "order_type": req["type"],
            "limit_price": req["limit_price"],
            "status": "risk_rejected" if reason else "pending_new",
            "reason": reason,
            "basket_id": None,
            "filled_qty": 0,
            "avg_fill_price": None,
            "created_at": now,
            "updated_at": now,
        }
        self.rows[coid] = row
        if reason:
            return o._answer(row)
        venue_account = account["rithmic_account"] or next(iter(o.rithmic.accounts()), "")
        args = (coid, venue_account, row["symbol"], row["exchange"], row["side"], row["qty"])
        try:
            result = await asyncio.wait_for(
                o.rithmic.submit(*args, row["order_type"], row["limit_price"]), o.cfg.order_timeout_s
            )
        except TimeoutError:
            row.update(status="unknown", reason="no answer from the venue")
            return o._answer(row)
        except Exception as exc:
            row.update(status="failed", reason=f"{type(exc).__name__}: {exc}")
            return o._answer(row)
        if not result:
            row.update(status="rejected", reason="rejected by venue")
        else:
            row.update(status="working", basket_id=str(result[-1].basket_id or "") or None)
            o.publish({"type": "order", "order": order_json(row)})
        row["updated_at"] = dt.datetime.now(dt.UTC)
        return o._answer(row)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_INTERVAL_S)
            try:
                await self.flush()
            except Exception:
                log.exception("write-behind flush failed (retried next time)")

    async def close(self) -> None:
        try:
            await self.flush()
        except Exception:
            log.exception("write-behind flush at shutdown failed: %d order(s) lost", len(self.rows))

    async def flush(self) -> None:
        """Write the settled rows (an order still waiting on the venue stays for the next flush),
        then replay the notifications that arrived before their rows existed."""
        rows = [r for r in self.rows.values() if r["status"] != "pending_new"]
        if rows:
            async with self.orders.pool.acquire() as conn, conn.transaction():
                for r in rows:
                    await conn.execute(
                        _INSERT,
                        *(r[k] for k in ("client_order_id", "account_id", "venue", "symbol", "exchange")),
                        *(r[k] for k in ("side", "qty", "order_type", "limit_price", "status", "reason")),
                        r["basket_id"],
                        r["created_at"],
                        r["updated_at"],
                    )
            for r in rows:
                self.rows.pop(r["client_order_id"], None)
        deferred, self.deferred = self.deferred, []
        for message in deferred:
            await self.orders.on_notification(message)

"""Cancelling a working order: `DELETE /v1/orders/{client_order_id}`.

The venue is the truth here too: the answer only says the venue took the request, and the order
turns `cancelled` when its notification (352) arrives, through OrderService.on_notification like
every other status. A fill that lands first wins; its cancel is then refused with 409.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import db
from .dbguard import DB_ERRORS, Budget
from .order_schema import order_json
from .order_status import FINAL
from .orders import OrderService
from .venues.rithmic import VenueDown


async def cancel(
    orders: OrderService, coid: str, owns: Callable[[str], bool] | None = None
) -> tuple[int, dict[str, Any]]:
    """202 the venue took the cancel; 404 unknown, or of an account `owns` refuses (the same answer:
    another account's order is not shown to exist); 409 final, or not yet at the venue, or the
    venue refused (it ended there first); 503 at once while the order plant is down or the
    database cannot answer; 504 no answer. The database phases are bounded by the request budget;
    the venue's by the order timeout."""
    budget = Budget(orders.db_budget_s)
    ready = await budget(_prepare(orders, coid, owns))
    if not isinstance(ready, Ready):
        return ready
    timeout = orders.cfg.order_timeout_s
    if orders.cfg.mutant("cancel_marks_cancelled"):
        # the bug: the order is called cancelled as the request goes out, and stays so whatever the
        # venue answers (a fill that won the race included)
        async with orders.pool.acquire() as conn:
            await conn.execute(
                "UPDATE orders SET status = 'cancelled', updated_at = now() WHERE client_order_id = $1",
                coid,
            )
    try:
        sent = await asyncio.wait_for(_to_venue(orders, ready), timeout)
    except TimeoutError:
        return 504, {"error": f"no answer from the venue within {timeout:g}s"}
    except Exception as exc:  # the library raises bare Exception (a lost plant, a failed resend)
        return 502, {"error": f"{type(exc).__name__}: {exc}"}
    try:
        current = await budget(orders.get(coid))
    except DB_ERRORS:  # the venue has the cancel; the order as read before it is still the answer
        current = order_json(ready.row)
    if current is None:  # the database was reset under us; nothing to report
        return 404, {"error": f"no order {coid!r}", "field": "client_order_id"}
    if not sent:
        return 409, {
            "error": "the venue refused the cancel: the order is no longer working",
            "order": current,
        }
    return 202, current


@dataclass(frozen=True)
class Ready:
    row: Any
    venue_account: str


async def _to_venue(orders: OrderService, ready: Ready) -> bool:
    """The cancel to the order's venue; False when the venue refused it (the order ended there)."""
    if ready.row["venue"] == "cqg":
        from .venues.cqg_venue import CQGRejected

        assert orders.cqg is not None
        try:
            await orders.cqg.cancel(ready.row["client_order_id"], int(ready.venue_account or 0))
        except CQGRejected:
            return False
        return True
    return bool(await orders.rithmic.cancel(ready.row["basket_id"], ready.venue_account))


async def _prepare(
    orders: OrderService, coid: str, owns: Callable[[str], bool] | None
) -> tuple[int, dict[str, Any]] | Ready:
    row = await orders.row(coid)
    if row is None or (owns is not None and not owns(row["account_id"])):
        return 404, {"error": f"no order {coid!r}", "field": "client_order_id"}
    if row["status"] in FINAL:
        return 409, {"error": f"order is already {row['status']}", "order": order_json(row)}
    if not row["basket_id"]:
        return 409, {
            "error": f"order is {row['status']}, not working at the venue yet",
            "order": order_json(row),
        }
    venue = row["venue"]
    try:
        orders.require_venue(venue)
    except VenueDown as exc:
        return 503, {"error": str(exc), "venue": venue}
    account = await orders.pool.fetchrow(
        "SELECT rithmic_account, cqg_account FROM accounts WHERE id = $1", row["account_id"]
    )
    if venue == "cqg":
        venue_account = str(account["cqg_account"] or "") if account else ""
    else:
        venue_account = (account["rithmic_account"] if account else "") or next(
            iter(orders.rithmic.accounts()), ""
        )
    async with orders.pool.acquire() as conn:
        await db.log(conn, "cancel_requested", client_order_id=coid, basket_id=row["basket_id"])
    return Ready(row, venue_account)

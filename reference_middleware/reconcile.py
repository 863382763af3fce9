"""Reconciliation with the venue: after a reconnect, and after orders whose outcome is unknown,
the middleware asks the venue for its orders (show-orders), books the fills it missed and settles
what it could not know. Kept cheap under load: one database read per replay, writes only where the
venue disagrees, and one coalesced reconciler for every unknown order."""

from __future__ import annotations

import asyncio
import bisect
import collections
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from . import db
from .order_status import FINAL, fail_unseen
from .reconcile_cqg import reconcile_cqg

if TYPE_CHECKING:
    from .config import Config
    from .venues.rithmic import RithmicVenue

log = logging.getLogger("refmw.orders")


class Reconciliation:
    """Mixed into OrderService, whose pool, venue, fill booking and status moves it uses."""

    pool: Any
    cfg: Config
    rithmic: RithmicVenue
    _tasks: set[asyncio.Task[Any]]
    record_fill: Callable[..., Awaitable[Any]]
    _set_status: Callable[..., Awaitable[Any]]

    def __init__(self) -> None:
        self._reconcile_due: collections.deque[float] = collections.deque()
        self._reconciler: asyncio.Task[Any] | None = None
        self._settled_once = False  # the first pass (start-up) also schedules one for young orders

    async def reconcile(self) -> int:
        """Show-orders for every venue account; book missing fills and settle unknown orders."""
        booked = 0
        seen: set[str] = set()
        for account in self.rithmic.accounts():
            replies = await self.rithmic.show_orders(account)
            # one read for the whole replay: a busy day replays thousands of orders
            rows = {
                r["client_order_id"]: r
                for r in await self.pool.fetch(
                    "SELECT * FROM orders WHERE client_order_id = ANY($1::text[])",
                    [str(m.user_tag or "") for m in replies],
                )
            }
            for m in replies:
                tag = str(m.user_tag or "")
                row = rows.get(tag)
                if row is None:
                    continue
                seen.add(tag)
                basket = str(m.basket_id or "")
                total = int(m.total_fill_size or 0)
                if total > row["filled_qty"]:
                    missing = total - row["filled_qty"]
                    known = (row["avg_fill_price"] or 0.0) * row["filled_qty"]
                    price = (float(m.avg_fill_price) * total - known) / missing
                    booked_row = await self.record_fill(
                        row,
                        venue_fill_id=f"recon-{basket}-{total}",
                        qty=missing,
                        price=round(price, 6),
                        source="reconcile",
                        cumulative=total,
                    )
                    if booked_row is not None:
                        booked += 1
                status = str(m.status or "").lower()
                mapped = {"open": "working", "cancel": "cancelled", "reject": "rejected"}.get(status)
                wanted = mapped or ("working" if basket else None)
                # only what the venue says differently: most replayed orders are already settled here
                if (
                    wanted
                    and row["status"] not in FINAL
                    and (wanted != row["status"] or not row["basket_id"])
                ):
                    await self._set_status(tag, wanted, basket_id=basket)
        await fail_unseen(self.pool, self._set_status, "rithmic", seen, self.cfg.order_timeout_s * 2)
        if not self._settled_once:
            # Start-up, after a crash or a restart: an order left pending_new or unknown that the
            # venue does not show yet is settled by a later pass, once it is old enough to call.
            self._settled_once = True
            youngest_age = await self.pool.fetchval(
                "SELECT extract(epoch FROM now() - max(created_at))::float8 FROM orders "
                "WHERE status IN ('unknown', 'pending_new') AND venue = 'rithmic' "
                "AND NOT (client_order_id = ANY($1::text[]))",
                list(seen),
            )
            if youngest_age is not None and not self.cfg.mutant("no_reconcile"):
                # due when the youngest is old enough: it was created before the restart
                self._schedule_reconcile(max(self.cfg.order_timeout_s * 2 - youngest_age, 0.0) + 0.5)
        async with self.pool.acquire() as conn:
            await db.log(conn, "reconcile", booked=booked, orders=len(seen))
        log.info("reconciled %d venue orders, booked %d missing fills", len(seen), booked)
        return booked

    async def _reconcile_cqg_quietly(self) -> None:
        """The CQG side of a pass, when the service trades there and the session is up."""
        cqg = getattr(self, "cqg", None)
        if cqg is None or not cqg.up() or self.cfg.mutant("cqg_snapshot_not_reconciled"):
            return
        try:
            await reconcile_cqg(self, cqg.venue_orders())
        except Exception:
            log.exception("CQG reconcile after a timed-out order failed")

    def _schedule_reconcile(self, delay_s: float | None = None) -> None:
        """Reconciliation settles an unknown order only once it is older than twice the order
        timeout (the venue has had every chance to report it): by default, a pass that long from
        now. One reconciler serves every unknown order: under load, orders time out by the
        hundred, and a show-orders per order is a storm that makes the venue slower still."""
        if delay_s is None:  # the usual case, in time order: appended
            self._reconcile_due.append(time.monotonic() + self.cfg.order_timeout_s * 2 + 0.5)
        else:
            bisect.insort(self._reconcile_due, time.monotonic() + delay_s)
        if self._reconciler is None or self._reconciler.done():
            self._reconciler = asyncio.ensure_future(self._reconcile_later())
            self._tasks.add(self._reconciler)
            self._reconciler.add_done_callback(self._tasks.discard)

    async def _reconcile_later(self) -> None:
        last, gap = 0.0, 1.0
        while self._reconcile_due:
            # each pass covers every order due by its start; passes are spaced by at least a
            # second and four times the last one's length, so reconciling under load never
            # takes more than a fifth of the time
            await asyncio.sleep(
                max(self._reconcile_due[0] - time.monotonic(), last + gap - time.monotonic(), 0)
            )
            last = time.monotonic()
            while self._reconcile_due and self._reconcile_due[0] <= last:
                self._reconcile_due.popleft()
            for _ in range(20):
                if self.rithmic.plant_up("order"):
                    try:
                        await self.reconcile()
                        gap = max(1.0, 4 * (time.monotonic() - last))
                        break
                    except Exception:
                        log.exception("reconcile after a timed-out order failed")
                await asyncio.sleep(1.0)
            await self._reconcile_cqg_quietly()

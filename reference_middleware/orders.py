"""Orders: validation, idempotency by client_order_id, risk checks, routing to the account's venue
(Rithmic, or CQG where the back office routed the account), fills.

A new order is written to Postgres before it is sent, so a repeated client_order_id finds it and
nothing new reaches the venue. Fills are booked once each (fills.py); statuses only move forward
(order_status.py). Reconciliation asks the venue for its orders (show-orders) and books whatever
filled while we were not listening.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .config import Config
from .dbguard import DB_ERRORS, Budget, throttled
from .fills import book_fill
from .order_schema import BadRequest, order_json, validate
from .order_status import SET_STATUS, kept_by
from .positions import exposure, net_position, realized_pnl_today
from .reconcile import Reconciliation
from .venues.cqg import CQGError
from .venues.rithmic import RithmicVenue, VenueDown

if TYPE_CHECKING:
    from .venues.cqg_venue import CQGVenue
    from .writebehind import WriteBehind

log = logging.getLogger("refmw.orders")
RISK_REJECTED = 422
FIRST_QUOTE_WAIT_S = 2.0  # how long a market order waits for the first quote after start
FILL_WAIT_S = 1.0  # how long a new order waits for its account's fills in flight to be booked (fillgate)
Answer = tuple[int, dict[str, Any]]


@dataclass(frozen=True)
class Taken:
    """An order durable as pending_new, its risk check passed, ready to go to the venue."""

    row: Any
    venue_account: str


@dataclass(frozen=True)
class VenueAnswer:
    """A venue's answer to a new order: its id of the order, or why it refused it."""

    basket_id: str = ""
    rejected: str = ""  # "" when the venue took the order


class OrderService(Reconciliation):
    def __init__(
        self,
        pool: Any,
        cfg: Config,
        rithmic: RithmicVenue,
        publish: Callable[[dict[str, Any]], None],
        db_budget_s: float | None = None,
    ):
        self.pool = pool
        self.cfg = cfg
        self.db_budget_s = db_budget_s  # one order's database time, before and after the venue
        self.buffer: WriteBehind | None = None  # ack_before_durable only
        self.rithmic = rithmic
        self.publish = publish
        # seconds since the symbol's last quote (None: none yet); the service wires in its hub's
        self.quote_age: Callable[[str], float | None] = lambda symbol: 0.0
        self.fill_lock = asyncio.Lock()  # fills with no order of ours (TT's ledger) book one at a time
        self.cqg: CQGVenue | None = None  # set when the service trades on CQG too
        # account -> venue for accounts not on Rithmic (AccountService writes it): the fast refusal
        # before the account's row is read needs to know which venue must be up
        self.routes: dict[str, str] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        Reconciliation.__init__(self)

    # ------------------------------------------------------------------ API
    async def row(self, coid: str) -> Any:
        row = await self.pool.fetchrow("SELECT * FROM orders WHERE client_order_id = $1", coid)
        if row is None and self.buffer is not None:
            return self.buffer.get(coid)
        return row

    async def get(self, coid: str) -> dict[str, Any] | None:
        row = await self.row(coid)
        return order_json(row) if row is not None else None

    async def place(self, body: Any) -> Answer:
        """Durable, then sent: the order row (pending_new) commits before anything reaches the
        venue. A database failure before that commit is a 503 with nothing sent; one after the
        venue has the order is a 504 (unknown), and reconciliation books what the venue did."""
        if self.cfg.mutant("reject_all_orders"):
            return 503, {"error": "venue unavailable", "venue": "rithmic"}
        try:
            req = validate(self.cfg, body)
        except BadRequest as exc:
            return 400, {"error": exc.message, "field": exc.field}
        if self.buffer is not None:
            return await self.buffer.place(req)
        budget = Budget(self.db_budget_s)
        try:
            taken = await budget(self._take(req))
        except DB_ERRORS:
            # the insert may have committed as the link died: a reconcile pass settles such a row
            if not self.cfg.mutant("no_reconcile"):
                self._schedule_reconcile()
            raise
        if not isinstance(taken, Taken):
            return taken
        if taken.row["venue"] == "rithmic":
            self.rithmic.fills.bind(taken.row["client_order_id"], req["account"])
        return await self._send(taken.row, taken.venue_account, budget)

    def venue_of(self, account_id: str) -> str:
        return self.routes.get(account_id, "rithmic")

    def require_venue(self, venue: str) -> None:
        """VenueDown unless `venue`'s order session is up (and, for CQG, configured at all)."""
        if venue == "cqg":
            if self.cqg is None:
                raise VenueDown("CQG is not configured on this service")
            self.cqg.require_up()
        else:
            self.rithmic.require_order_plant()

    def _refuse_if_down(self, venue: str) -> Answer | None:
        if self.cfg.mutant("hang_when_down"):
            return None
        try:
            self.require_venue(venue)
        except VenueDown as exc:
            return 503, {"error": str(exc), "venue": venue}
        return None

    async def _take(self, req: dict[str, Any]) -> Answer | Taken:
        """The repeat check, then in one transaction: the account row locked (so two orders of one
        account cannot both pass its limits), the risk check, and the order row inserted."""
        coid = req["client_order_id"]
        if not self.cfg.mutant("no_idempotency"):
            existing = await self.pool.fetchrow("SELECT * FROM orders WHERE client_order_id = $1", coid)
            if existing is not None:
                return self._answer(existing, req["account"])
        # Refuse at once when the venue is down, before waiting on the account's row lock or a
        # commit: a busy account or a slow disk must not turn a fast 503 into a hang.
        refused = self._refuse_if_down(self.venue_of(req["account"]))
        if refused is not None:
            return refused
        await self._first_quote(req)
        # fills CQG reported are booked in arrival order by one consumer (cqg_venue), not counted here
        if not await self.rithmic.fills.settled(req["account"], FILL_WAIT_S):
            return 503, {
                "error": "this account's last fills are still being booked: try again",
                "venue": "rithmic",
            }
        async with self.pool.acquire() as conn, conn.transaction():
            lock = "" if self.cfg.mutant("risk_check_unlocked") else " FOR UPDATE"
            account = await conn.fetchrow(f"SELECT * FROM accounts WHERE id = $1{lock}", req["account"])
            if account is None:
                return 404, {"error": f"no account {req['account']!r}", "field": "account"}
            venue = account["venue"]
            # the venue may have dropped while the lock was awaited
            refused = self._refuse_if_down(venue)
            if refused is not None:
                return refused
            reason = await self._risk(conn, account, req)
            status = "risk_rejected" if reason else "pending_new"
            if self.cfg.mutant("no_idempotency"):
                conflict = "DO UPDATE SET status = EXCLUDED.status, updated_at = now()"
            else:
                conflict = "DO NOTHING"
            # the order and its order_received entry in one round trip; a conflict inserts neither
            row = await conn.fetchrow(
                "WITH ins AS (INSERT INTO orders (client_order_id, account_id, venue, symbol, exchange, "
                "side, qty, order_type, limit_price, status, reason) "
                "VALUES ($1,$2,$11,$3,$4,$5,$6,$7,$8,$9,$10) "
                f"ON CONFLICT (client_order_id) {conflict} RETURNING *), "
                "logged AS (INSERT INTO txlog(kind, detail) SELECT 'order_received', jsonb_build_object("
                "'client_order_id', client_order_id, 'status', status, 'reason', reason) FROM ins) "
                "SELECT * FROM ins",
                coid,
                req["account"],
                req["symbol"],
                req["exchange"],
                req["side"],
                req["qty"],
                req["type"],
                req["limit_price"],
                status,
                reason,
                venue,
            )
            if row is None:  # a concurrent request with the same client_order_id won the insert
                existing = await conn.fetchrow("SELECT * FROM orders WHERE client_order_id = $1", coid)
                return self._answer(existing, req["account"])
        if reason:
            return RISK_REJECTED, order_json(row)
        if venue == "cqg":
            return Taken(row, str(account["cqg_account"] or ""))
        return Taken(row, account["rithmic_account"] or next(iter(self.rithmic.accounts()), ""))

    def _answer(self, row: Any, account: str | None = None) -> Answer:
        """A repeat of an order: the order as it stands. Another account's order of that id is not
        a repeat, and is not shown (a trader must not read others' orders through idempotency)."""
        if account is not None and row["account_id"] != account:
            return 409, {"error": "client_order_id is taken"}
        status = row["status"]
        if status == "risk_rejected" or status == "rejected":
            return RISK_REJECTED, order_json(row)
        if status == "unknown":
            return 504, order_json(row)
        if status == "failed":
            return 502, order_json(row)
        return 202, order_json(row)

    async def _risk(self, conn: Any, account: Any, req: dict[str, Any]) -> str | None:
        """Why this order may not go to the venue, or None. Runs under the account's row lock, so
        concurrent orders of one account see each other's pending rows (working exposure)."""
        cfg = self.cfg
        if not account["trading_enabled"] and not cfg.mutant("ignore_trading_status"):
            return "trading disabled for this account"
        slack = 1 if cfg.mutant("order_size_off_by_one") else 0
        if req["qty"] > account["max_order_qty"] + slack:
            return f"order quantity {req['qty']} exceeds the limit {account['max_order_qty']}"
        stale = self._stale_quote(req)
        if stale:
            return stale
        net, buys, sells = await exposure(conn, account["id"], req["symbol"])
        if cfg.mutant("position_from_orders"):
            net = await net_position(conn, cfg, account["id"], req["symbol"])
        if cfg.mutant("risk_ignores_working_orders"):
            buys, sells = 0, 0
        limit = account["max_position"]
        if req["side"] == "BUY" and net + buys + req["qty"] > limit:
            return f"position {net} with {buys} working to buy, +{req['qty']}, would exceed the limit {limit}"
        if req["side"] == "SELL" and net - sells - req["qty"] < -limit:
            return (
                f"position {net} with {sells} working to sell, -{req['qty']}, would exceed the limit {limit}"
            )
        pnl = await realized_pnl_today(conn, account["id"], fees=not cfg.mutant("loss_limit_ignores_fees"))
        if pnl < 0 and -pnl >= float(account["daily_loss_limit"]):
            return f"daily loss limit reached (realized {pnl:.2f}, fees included)"
        return None

    async def _first_quote(self, req: dict[str, Any]) -> None:
        """Just after start no quote has arrived yet: a market order waits for the first one a little
        while (outside any lock) rather than being refused for a feed that is only starting."""
        deadline = asyncio.get_running_loop().time() + FIRST_QUOTE_WAIT_S
        while req["type"] == "MARKET" and self.quote_age(req["symbol"]) is None:
            if asyncio.get_running_loop().time() >= deadline:
                return
            await asyncio.sleep(0.05)

    def _stale_quote(self, req: dict[str, Any]) -> str | None:
        """A market order takes whatever price the book shows: with no fresh quote its price is
        unknown, so it is refused (a limit order names its own price and may go)."""
        if req["type"] != "MARKET" or self.cfg.mutant("market_orders_on_stale_quotes"):
            return None
        age = self.quote_age(req["symbol"])
        if age is None:
            return f"no quote for {req['symbol']} yet: market orders wait for one"
        if age > self.cfg.stale_quote_s:
            return f"the last quote for {req['symbol']} is {age:.1f} s old: market orders are refused"
        return None

    async def _submit(self, row: Any, venue_account: str) -> VenueAnswer:
        """The order to its venue; the venue's answer (TimeoutError or CQGError: no answer known)."""
        args = (
            row["client_order_id"],
            venue_account,
            row["symbol"],
            row["exchange"],
            row["side"],
            row["qty"],
            row["order_type"],
            row["limit_price"],
        )
        if row["venue"] == "cqg":
            from .venues.cqg_venue import CQGRejected

            self.require_venue("cqg")
            assert self.cqg is not None
            coid, account, *rest = args
            try:
                return VenueAnswer(await self.cqg.submit(coid, int(account or 0), *rest))
            except CQGRejected as exc:
                return VenueAnswer(rejected=f"rejected by venue: {exc}")
        rows = await self.rithmic.submit(*args)
        # async-rithmic returns [] for a rejected order (the error is only logged inside the plant)
        return (
            VenueAnswer(str(rows[-1].basket_id or "")) if rows else VenueAnswer(rejected="rejected by venue")
        )

    async def _send(self, row: Any, venue_account: str, budget: Budget | None = None) -> Answer:
        coid = row["client_order_id"]
        attempts = 2 if self.cfg.mutant("retry_duplicates_order") else 1
        result: VenueAnswer | None = None
        error: str | None = None
        for _ in range(attempts):
            try:
                if self.cfg.mutant("hang_when_down"):
                    result = await self._submit(row, venue_account)
                else:
                    result = await asyncio.wait_for(
                        self._submit(row, venue_account), self.cfg.order_timeout_s
                    )
                break
            except TimeoutError:
                error = f"no answer from the venue within {self.cfg.order_timeout_s:g}s"
            except CQGError as exc:  # the request may have left: its outcome is the venue's to tell
                error = f"no answer from the venue: {exc}"
                break
            except Exception as exc:  # the library raises bare Exception for a missing trade route
                error = f"{type(exc).__name__}: {exc}"
                break
        try:
            return await (budget or Budget(self.db_budget_s))(self._settle(coid, result, error))
        except DB_ERRORS as exc:
            # The venue answered (or may have), but its answer is not recorded: the row stays
            # pending_new, and reconciliation (show-orders) books what the venue did.
            throttled.warn(f"order {coid} after the venue", exc)
            if not self.cfg.mutant("no_reconcile"):
                self._schedule_reconcile()
            reason = (
                "the venue's answer could not be recorded (database unavailable); reconciliation settles it"
            )
            return 504, {**order_json(row), "status": "unknown", "reason": reason}

    async def _settle(self, coid: str, result: VenueAnswer | None, error: str | None) -> Answer:
        """Record the venue's answer to a new order, and say it."""
        if result is None:
            status = "unknown" if error and error.startswith("no answer") else "failed"
            updated = await self._set_status(coid, status, reason=error)
            if status == "unknown" and not self.cfg.mutant("no_reconcile"):
                self._schedule_reconcile()
            return (504 if status == "unknown" else 502), order_json(updated)
        if result.rejected:
            updated = await self._set_status(coid, "rejected", reason=result.rejected)
            return RISK_REJECTED, order_json(updated)
        updated = await self._set_status(coid, "working", basket_id=result.basket_id)
        self.publish({"type": "order", "order": order_json(updated)})
        return 202, order_json(updated)

    async def _set_status(
        self, coid: str, status: str, *, reason: str | None = None, basket_id: str | None = None
    ) -> Any:
        """Move an order forward; a final status is never replaced, a status never goes back.
        The decision is made under the row lock, on the order's latest version."""
        kept = kept_by(status)
        return await self.pool.fetchrow(SET_STATUS, coid, status, reason, basket_id or None, kept)

    # ------------------------------------------------------------------ venue events
    async def on_notification(self, m: Any) -> None:
        """An ExchangeOrderNotification (352): status, fill, reject or cancel."""
        tag = str(m.user_tag or "")
        venue = str(getattr(m, "venue", "rithmic"))
        # by our tag, else by the venue's order id at that venue only: Rithmic and CQG number their
        # orders alike, and a CQG fill once landed on the Rithmic order that had the same number
        row = await self.pool.fetchrow(
            "SELECT * FROM orders WHERE client_order_id = $1 "
            "OR (basket_id <> '' AND basket_id = $2 AND venue = $3) "
            "ORDER BY client_order_id = $1 DESC LIMIT 1",
            tag,
            str(m.basket_id or ""),
            venue,
        )
        if row is None:
            if self.buffer is not None and self.buffer.holds(tag):
                self.buffer.defer(m)  # ack_before_durable: its row is not written yet
            return  # not ours (another session of this user)
        coid = row["client_order_id"]
        kind = int(m.notify_type)
        updated: Any = None
        if kind == 5:  # FILL
            updated = await self.record_fill(
                row,
                venue_fill_id=str(m.fill_id),
                qty=int(m.fill_size),
                price=float(m.fill_price),
                source="live",
                cumulative=int(m.total_fill_size) if m.total_fill_size else None,
                venue=venue,
            )
        elif kind == 6:
            reason = str(m.text or m.status or "rejected by exchange")
            updated = await self._set_status(coid, "rejected", reason=reason)
        elif kind == 3:
            updated = await self._set_status(coid, "cancelled")
        elif kind == 1 and m.basket_id:
            updated = await self._set_status(coid, "working", basket_id=str(m.basket_id))
        # the row as the write left it; a notification that changed nothing shows the order as is
        self.publish({"type": "order", "order": order_json(updated if updated is not None else row)})

    async def record_fill(
        self,
        order: Any,
        *,
        venue_fill_id: str,
        qty: int,
        price: float,
        source: str,
        cumulative: int | None = None,
        venue: str = "rithmic",
    ) -> Any | None:
        """Book one fill against an order, once (fills.book_fill)."""
        return await book_fill(
            self.pool,
            self.cfg.mutant,
            order,
            venue_fill_id=venue_fill_id,
            qty=qty,
            price=price,
            source=source,
            cumulative=cumulative,
            venue=venue,
        )

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        if self.buffer is not None:
            await self.buffer.close()  # a graceful stop writes what the buffer holds; a crash cannot
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

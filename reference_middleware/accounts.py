"""Admin state: traders and accounts, their risk limits, and provisioning at TT.

Accounts live in Postgres and are served from there, so they stay available while a venue is down.
Provisioning at TT runs in the background and retries until it succeeds; TT fills are read back by
a poller and booked like any other fill.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from typing import Any

from . import db
from .config import Config
from .order_schema import BadRequest, money
from .venues.rithmic import RithmicVenue, VenueDown
from .venues.tt import TTClient, TTError

log = logging.getLogger("refmw.accounts")
TT_CURSOR = "tt_fills"
LIMIT_FIELDS = {"max_position": int, "max_order_qty": int, "daily_loss_limit": float}
VENUES = ("rithmic", "cqg")  # where an account's orders may go
_WORKING = "('pending_new', 'unknown', 'working', 'partially_filled')"
# a funded trader (lifecycle.py) trades once signed and provisioned with an MT5 user, until cancelled
FUNDED_READY = (
    "NOT EXISTS (SELECT 1 FROM lifecycle l WHERE l.customer_id = $1 AND (l.contract_status IS DISTINCT "
    "FROM 'completed' OR l.mt5_user_at IS NULL OR l.cancelled_at IS NOT NULL))"
)


def account_id_for(customer_id: str) -> str:
    return "ACC-" + customer_id.removeprefix("cus_")


def cqg_account_for(account_id: str, cqg_accounts: tuple[int, ...]) -> int:
    """The CQG account an account routed there trades in: spread over the login's accounts, since
    CQG caps each one's order rate, and always the same one for the same account."""
    return cqg_accounts[zlib.crc32(account_id.encode()) % len(cqg_accounts)]


class AccountService:
    def __init__(self, pool: Any, cfg: Config, rithmic: RithmicVenue, tt: TTClient) -> None:
        self.pool = pool
        self.cfg = cfg
        self.rithmic = rithmic
        self.tt = tt
        self.venue_pnl: dict[str, dict[str, Any]] = {}
        self.kick = asyncio.Event()
        self.routes: dict[str, str] = {}  # account -> venue, as last written here (OrderService reads it)

    # ------------------------------------------------------------------ reads
    async def get(self, account_id: str) -> dict[str, Any] | None:
        if self.cfg.mutant("admin_coupled"):
            self.rithmic.require_order_plant()
            try:
                await asyncio.wait_for(self.rithmic.account_pnl_snapshot(), self.cfg.request_timeout_s)
            except Exception as exc:
                raise VenueDown(f"live P&L unavailable: {exc}") from exc
        row = await self.pool.fetchrow(
            "SELECT a.*, t.customer_id, t.name, t.email, t.country FROM accounts a LEFT JOIN traders t ON "
            "t.id = a.trader_id WHERE a.id = $1",
            account_id,
        )
        if row is None:
            return None
        sub = None
        payments: list[dict[str, Any]] = []
        if row["customer_id"]:
            s = await self.pool.fetchrow(
                "SELECT id, status FROM subscriptions WHERE customer_id = $1 ORDER "
                "BY event_created DESC LIMIT 1",
                row["customer_id"],
            )
            sub = {"id": s["id"], "status": s["status"]} if s else None
            payments = [
                {"invoice_id": p["invoice_id"], "amount": p["amount"], "status": p["status"]}
                for p in await self.pool.fetch(
                    "SELECT * FROM payments WHERE customer_id = $1 ORDER BY id", row["customer_id"]
                )
            ]
        return {
            "id": row["id"],
            "trader_id": row["trader_id"],
            "customer_id": row["customer_id"],
            "trader": {"name": row["name"], "email": row["email"], "country": row["country"]},
            "rithmic_account": row["rithmic_account"],
            "venue": row["venue"],
            "cqg_account": row["cqg_account"],
            "tt": {"account_id": row["tt_account_id"], "status": row["tt_status"], "error": row["tt_error"]},
            "trading_enabled": row["trading_enabled"],
            "risk_limits": {k: row[k] for k in LIMIT_FIELDS},
            "subscription": sub,
            "payments": payments,
            "venue_pnl": self.venue_pnl.get(row["rithmic_account"]),
        }

    async def find_by_customer(self, customer_id: str) -> list[str]:
        rows = await self.pool.fetch(
            "SELECT a.id FROM accounts a JOIN traders t ON t.id = a.trader_id WHERE "
            "t.customer_id = $1 ORDER BY a.id",
            customer_id,
        )
        return [r["id"] for r in rows]

    async def update(self, account_id: str, body: Any) -> dict[str, Any] | None:
        """Admin patch: risk limits, the trading switch and the venue. Raises ValueError naming a bad
        field."""
        if not isinstance(body, dict):
            raise ValueError("body: must be a JSON object")
        sets: list[str] = []
        values: list[Any] = []
        for key, value in body.items():
            if key == "trading_enabled" and isinstance(value, bool):
                pass
            elif key == "venue":
                await self._check_route(account_id, value)
                if value == "cqg":
                    values.append(cqg_account_for(account_id, self.cfg.cqg_accounts))
                    sets.append(f"cqg_account = ${len(values) + 1}")
            elif key == "daily_loss_limit":  # money: a decimal string, never a binary float
                try:
                    value = money(key, value, positive=False)
                except BadRequest as exc:
                    raise ValueError(str(exc)) from None
            elif key in LIMIT_FIELDS and not isinstance(value, bool) and isinstance(value, int | float):
                if value < 0:
                    raise ValueError(f"{key}: must not be negative")
                value = LIMIT_FIELDS[key](value)
            else:
                raise ValueError(f"{key}: unknown field or wrong type")
            values.append(value)
            sets.append(f"{key} = ${len(values) + 1}")
        if sets:
            async with self.pool.acquire() as conn:
                await conn.execute(
                    f"UPDATE accounts SET {', '.join(sets)} WHERE id = $1", account_id, *values
                )
                await db.log(conn, "account_updated", account=account_id, changes=body)
            if "venue" in body:
                self.routes[account_id] = body["venue"]
        return await self.get(account_id)

    async def _check_route(self, account_id: str, venue: Any) -> None:
        """An account moves to a venue this service trades on, and only with no order working (its
        cancels and fills must keep reaching the venue that has it)."""
        if venue not in VENUES:
            raise ValueError(f"venue: must be one of {', '.join(VENUES)}")
        if venue == "cqg" and not (self.cfg.cqg_url and self.cfg.cqg_accounts):
            raise ValueError(
                "venue: CQG is not configured on this service (REFMW_CQG_URL, REFMW_CQG_ACCOUNTS)"
            )
        current = await self.pool.fetchval("SELECT venue FROM accounts WHERE id = $1", account_id)
        if current == venue:
            return  # already there: nothing moves, so its working orders may stay
        working = await self.pool.fetchval(
            f"SELECT count(*) FROM orders WHERE account_id = $1 AND status IN {_WORKING}", account_id
        )
        if working:
            raise ValueError(f"venue: the account has {working} working order(s); cancel them first")

    # ------------------------------------------------------------------ writes
    async def seed_venue_accounts(self) -> None:
        """Each Rithmic account of our login is also a house account here."""
        async with self.pool.acquire() as conn:
            for venue_account in self.rithmic.accounts():
                await conn.execute(
                    "INSERT INTO accounts (id, rithmic_account, max_position, "
                    "max_order_qty, daily_loss_limit) "
                    "VALUES ($1, $1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
                    venue_account,
                    self.cfg.default_max_position,
                    self.cfg.default_max_order_qty,
                    self.cfg.default_daily_loss_limit,
                )

    async def ensure_trader(self, conn: Any, customer_id: str) -> str:
        """The trader and account for a Stripe customer, created on first sight; returns the account id."""
        trader_id = "TR-" + customer_id.removeprefix("cus_")
        account_id = account_id_for(customer_id)
        await conn.execute(
            "INSERT INTO traders (id, customer_id) VALUES ($1, $2) ON CONFLICT (customer_id) DO NOTHING",
            trader_id,
            customer_id,
        )
        venue_account = next(iter(self.rithmic.accounts()), "")
        created = await conn.fetchval(
            "INSERT INTO accounts (id, trader_id, rithmic_account, tt_status, trading_enabled, max_position, "
            "max_order_qty, daily_loss_limit) VALUES ($1, $2, $3, 'pending', FALSE, $4, $5, $6) "
            "ON CONFLICT (id) DO NOTHING RETURNING id",
            account_id,
            trader_id,
            venue_account,
            self.cfg.default_max_position,
            self.cfg.default_max_order_qty,
            self.cfg.default_daily_loss_limit,
        )
        if created:
            await db.log(conn, "onboarded", customer=customer_id, account=account_id)
            self.kick.set()
        return account_id

    async def refresh_trading(self, conn: Any, customer_id: str) -> None:
        """Trading is enabled exactly while the customer has an active (or trialing) subscription and,
        for a funded trader (a lifecycle row), once their contract is signed and their MT5 user exists,
        until they cancel."""
        funded_ok = "TRUE" if self.cfg.mutant("trading_before_signature") else FUNDED_READY
        await conn.execute(
            "UPDATE accounts SET trading_enabled = EXISTS (SELECT 1 FROM "
            "subscriptions s WHERE s.customer_id = $1 "
            f"AND s.status IN ('active', 'trialing')) AND {funded_ok} WHERE trader_id = (SELECT id "
            "FROM traders WHERE customer_id = $1)",
            customer_id,
        )

    # ------------------------------------------------------------------ background work
    async def provision_pending(self) -> int:
        rows = await self.pool.fetch(
            "SELECT * FROM accounts WHERE tt_status IN ('pending', 'retrying') ORDER BY created_at"
        )
        done = 0
        for row in rows:
            limits = {"maxOrderQty": row["max_order_qty"], "maxPosition": row["max_position"]}
            try:
                tt_id = await self.tt.provision_account(row["id"], limits)
            except TTError as exc:
                await self.pool.execute(
                    "UPDATE accounts SET tt_status = 'retrying', tt_error = $2 WHERE id = $1",
                    row["id"],
                    str(exc),
                )
                continue
            async with self.pool.acquire() as conn:
                await conn.execute(
                    "UPDATE accounts SET tt_status = 'provisioned', tt_account_id = $2, "
                    "tt_error = NULL WHERE id = $1",
                    row["id"],
                    tt_id,
                )
                await db.log(conn, "tt_provisioned", account=row["id"], tt_account_id=tt_id)
            done += 1
        return done

    async def provisioner(self) -> None:
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.kick.wait(), 1.0)
            self.kick.clear()
            try:
                await self.provision_pending()
            except Exception:
                log.exception("provisioning pass failed")

    async def poll_tt_fills(self, record: Any) -> int:
        """Read TT fills from the saved cursor on and book those of our accounts; returns how many."""
        cursor = await self.pool.fetchval("SELECT value FROM cursors WHERE name = $1", TT_CURSOR) or 0
        fills, next_cursor = await self.tt.fills_since(int(cursor))
        by_tt = {
            str(r["tt_account_id"]): r["id"]
            for r in await self.pool.fetch(
                "SELECT id, tt_account_id FROM accounts WHERE tt_account_id IS NOT NULL"
            )
        }
        booked = 0
        for f in fills:
            account = by_tt.get(str(f.get("accountId")))
            if account is None:
                continue
            if await record(
                account=account,
                fill_id=str(f.get("fillId") or f.get("recordId")),
                symbol=str(f.get("symbol")),
                exchange=str(f.get("securityExchangeId") or ""),
                side="BUY" if f.get("side") in (1, "1", "BUY", "Buy") else "SELL",
                qty=int(f.get("lastQty", 0)),
                price=float(f.get("lastPx", 0.0)),
            ):
                booked += 1
        await self.pool.execute(
            "INSERT INTO cursors (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = $2",
            TT_CURSOR,
            next_cursor,
        )
        return booked

    async def tt_poller(self, record: Any) -> None:
        while True:
            try:
                await self.poll_tt_fills(record)
            except TTError as exc:
                log.warning("TT fills poll failed: %s", exc)
            except Exception:
                log.exception("TT fills poll failed")
            await asyncio.sleep(self.cfg.tt_poll_s)

    def on_account_pnl(self, m: Any) -> None:
        self.venue_pnl[str(m.account_id)] = {
            "net_quantity": int(m.net_quantity),
            "day_pnl": str(m.day_pnl),
            "account_balance": str(m.account_balance),
        }

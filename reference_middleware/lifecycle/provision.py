"""Provisioning a signed trader, step by step, each step's outcome recorded before the next starts.

a. the MT5 user (mt5ops.ensure_user on a login reserved first), b. trading enabled, c. the initial
deposit (a comment unique to the trader's funding, looked up before any resend), d. the Rippling
worker (looked up by work email before it is created, and again after a timeout or a 5xx), e. done.
A failing step records `last_error` and is retried with a capped backoff; a restart resumes at the
first step not recorded. Cancellation undoes access: the MT5 user disabled, the worker terminated.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from .. import db
from ..venues.mt5 import MT5Client, MT5Error
from .docusign import DocuSignError
from .mt5ops import book_once, ensure_user, owner_of, reserve_login
from .outbox import backoff
from .rippling import RipplingClient, RipplingError

log = logging.getLogger("refmw.lifecycle.provision")
STEP_ERRORS = (MT5Error, RipplingError, DocuSignError, ValueError)
BATCH = 100
# traders provisioned at once: MT5 calls still go one at a time on the manager's session (its lock),
# but the Rippling calls and the database writes of the others overlap them
CONCURRENT = 8
RIGHTS_DISABLED = 0  # MT5 USER_RIGHT_ENABLED cleared
BLIND_CREATES = 3


class Trading(Protocol):
    async def refresh_trading(self, conn: Any, customer_id: str) -> None: ...


def deposit_comment(customer: str, round_: int) -> str:
    """Unique to this trader's funding (MT5 comments: at most 128 characters, no spaces for mt5-sdk)."""
    return f"fund:{customer}:{round_}"[:128]


class Provisioner:
    def __init__(
        self,
        pool: Any,
        mt5: MT5Client,
        rippling: RipplingClient,
        trading: Trading,
        *,
        group: str,
        login_first: int,
        cap_s: float,
        settle_s: float,
        mutants: frozenset[str],
    ) -> None:
        self.pool = pool
        self.mt5 = mt5
        self.rippling = rippling
        self.trading = trading
        self.group = group
        self.login_first = login_first
        self.cap_s = cap_s
        self.settle_s = settle_s  # how long a create with no answer may still take to land
        self.mutants = mutants

    async def pass_once(self) -> int:
        """One pass over every due trader still to provision or to cancel; returns how many finished."""
        rows = await self.pool.fetch(
            "SELECT *, EXTRACT(EPOCH FROM now() - worker_sent_at)::float8 AS worker_age "
            "FROM lifecycle WHERE next_attempt_at <= now() AND ((cancelled_at IS NULL AND "
            "provisioned_at IS NULL AND contract_status = 'completed') OR (cancelled_at IS NOT NULL AND "
            "(mt5_disabled_at IS NULL OR worker_terminated_at IS NULL))) ORDER BY signed_at LIMIT $1",
            BATCH,
        )
        slots = asyncio.Semaphore(CONCURRENT)

        async def one(row: Any) -> int:
            async with slots:
                try:
                    if row["cancelled_at"] is None:
                        await self.provision(row)
                    else:
                        await self.cancel(row)
                    return 1
                except STEP_ERRORS as exc:
                    await self._failed(row, exc)
                    return 0

        return sum(await asyncio.gather(*(one(row) for row in rows)))

    async def _failed(self, row: Any, exc: Exception) -> None:
        attempts = row["attempts"] + 1
        error = f"{type(exc).__name__}: {exc}"[:500]
        log.warning("lifecycle %s: %s (attempt %d)", row["customer_id"], error, attempts)
        await self.pool.execute(
            "UPDATE lifecycle SET attempts = $2, last_error = $3, updated_at = now(), "
            "next_attempt_at = now() + make_interval(secs => $4) WHERE customer_id = $1",
            row["customer_id"],
            attempts,
            error,
            backoff(attempts, self.cap_s),
        )

    async def _set(self, customer: str, sql: str, *args: Any) -> None:
        await self.pool.execute(
            f"UPDATE lifecycle SET {sql}, updated_at = now() WHERE customer_id = $1", customer, *args
        )

    # ------------------------------------------------------------------ provisioning
    async def provision(self, row: Any) -> None:
        customer = row["customer_id"]
        login = row["mt5_login"]
        if row["mt5_user_at"] is None:
            login = await self._mt5_user(row)
        if row["trading_at"] is None:
            async with self.pool.acquire() as conn, conn.transaction():
                await conn.execute("UPDATE lifecycle SET trading_at = now() WHERE customer_id = $1", customer)
                await self.trading.refresh_trading(conn, customer)
                await db.log(conn, "lifecycle_trading", customer=customer)
        if row["deposit_deal"] is None:
            if row["deposit"] is None:
                raise ValueError(
                    "the checkout's metadata.deposit is missing or not a decimal: nothing to fund"
                )
            if row["deposit_sent_at"] is None:
                await self._set(customer, "deposit_sent_at = now()")
            deal = await book_once(
                self.mt5,
                login,
                row["deposit"],
                deposit_comment(customer, row["round"]),
                sent_before=row["deposit_sent_at"] is not None,
                blind="balance_retry_blind" in self.mutants,
            )
            await self._set(customer, "deposit_deal = $2", deal)
        if row["rippling_worker_id"] is None:
            worker = await self._worker(row)
            await self._set(customer, "rippling_worker_id = $2", worker)
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "UPDATE lifecycle SET provisioned_at = now(), last_error = NULL, attempts = 0, "
                "updated_at = now() "
                "WHERE customer_id = $1",
                customer,
            )
            await db.log(conn, "lifecycle_provisioned", customer=customer, mt5_login=login)

    async def _mt5_user(self, row: Any) -> int:
        customer, login = row["customer_id"], row["mt5_login"]
        for _ in range(10):  # a login taken outside this service: the next one (bounded)
            if login is None:
                login = await reserve_login(self.pool, self.login_first, customer, row["round"])
                await self._set(customer, "mt5_login = $2", login)
            if await ensure_user(self.mt5, login, customer, row["name"], row["email"], self.group):
                await self._set(customer, "mt5_user_at = now()")
                return int(login)
            await self.pool.execute("UPDATE mt5_logins SET taken_elsewhere = TRUE WHERE login = $1", login)
            login = None
        raise MT5Error("no free MT5 login after 10 reservations")

    async def _worker(self, row: Any) -> str:
        """The trader's one Rippling worker: looked up before every create. A create whose answer was
        lost (a timeout, a 5xx) may still land, so none is sent again until `settle_s` after it."""
        customer, name, email = row["customer_id"], row["name"], row["email"]
        fresh = row["round"] > 1 and "zap_replay_provisions_twice" in self.mutants
        if fresh or "rippling_create_blind" in self.mutants:
            return await self._worker_blind(customer, name, email)
        found = await self.rippling.find_worker(email, customer)
        if found is not None:
            return found
        if row["worker_age"] is not None and row["worker_age"] < self.settle_s:
            raise RipplingError("an earlier create got no answer and may still land: looking again first")
        await self._set(customer, "worker_sent_at = now()")
        return await self.rippling.create_worker(name, email, customer)

    async def _worker_blind(self, customer: str, name: str, email: str) -> str:
        """rippling_create_blind: created without a lookup, and created again after a lost answer."""
        last: RipplingError | None = None
        for _ in range(BLIND_CREATES):
            try:
                return await self.rippling.create_worker(name, email, customer)
            except RipplingError as exc:
                if not exc.maybe_done:
                    raise
                last = exc
        raise RipplingError(f"worker for {customer}: no definite answer ({last})")

    # ------------------------------------------------------------------ cancellation
    async def cancel(self, row: Any) -> None:
        customer = row["customer_id"]
        if row["mt5_disabled_at"] is None:
            login = row["mt5_login"]
            if login is not None and await owner_of(self.mt5, login) == customer:
                await self.mt5.user_update(login, Rights=RIGHTS_DISABLED)
            await self._set(customer, "mt5_disabled_at = now()")
        if row["worker_terminated_at"] is None:
            worker = row["rippling_worker_id"] or await self.rippling.find_worker(row["email"], customer)
            if worker is not None:
                await self.rippling.terminate(worker)
            await self._set(customer, "worker_terminated_at = now()")
        async with self.pool.acquire() as conn:
            await db.log(conn, "lifecycle_cancelled", customer=customer)

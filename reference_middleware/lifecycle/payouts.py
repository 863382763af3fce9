"""Payouts: a funded trader's withdrawal, idempotent by the caller's payout id.

The request is checked and recorded at once (202); a background step books the MT5 withdrawal (a
comment unique to the payout, looked up before any resend) and then the Rippling pay item (its
reference is the payout id, looked up before it is created). The amount may not exceed what this
service booked into the trader's MT5 balance: the deposit less every payout not failed.
"""

from __future__ import annotations

import logging
import re
from decimal import Decimal
from typing import Any

from .. import db
from ..venues.mt5 import MT5Client, MT5Error
from .mt5ops import book_once
from .outbox import backoff
from .rippling import RipplingClient, RipplingError

log = logging.getLogger("refmw.lifecycle.payouts")
AMOUNT = re.compile(r"^[0-9]{1,12}(\.[0-9]{1,2})?$")
PAYOUT_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")
NO_MONEY = 10019
BATCH = 20


class PayoutRefused(ValueError):
    def __init__(self, status: int, field: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.field = field


def payout_json(row: Any) -> dict[str, Any]:
    return {
        "payout_id": row["payout_id"],
        "customer": row["customer_id"],
        "amount": f"{row['amount']:.2f}",
        "status": row["status"],
        "mt5_deal": row["mt5_deal"],
        "rippling_pay_item": row["rippling_pay_item"],
        "last_error": row["last_error"],
    }


def withdrawal_comment(payout_id: str) -> str:
    return f"payout:{payout_id}"


def _parse(body: Any) -> tuple[str, str, Decimal]:
    if not isinstance(body, dict):
        raise PayoutRefused(400, "body", "must be a JSON object")
    customer, payout_id, amount = body.get("customer"), body.get("payout_id"), body.get("amount")
    if not isinstance(customer, str) or not customer or "\x00" in customer or len(customer) > 200:
        raise PayoutRefused(400, "customer", "must be a customer id")
    if not isinstance(payout_id, str) or not PAYOUT_ID.match(payout_id):
        raise PayoutRefused(400, "payout_id", "must be 1-64 of letters, digits, _ . : -")
    if not isinstance(amount, str) or not AMOUNT.match(amount) or Decimal(amount) <= 0:
        raise PayoutRefused(400, "amount", 'must be a positive decimal string such as "1250.00"')
    return customer, payout_id, Decimal(amount)


async def create(conn: Any, body: Any) -> dict[str, Any]:
    """Record a payout (or answer the one this payout id already names); PayoutRefused otherwise."""
    customer, payout_id, amount = _parse(body)
    async with conn.transaction():
        trader = await conn.fetchrow(
            "SELECT deposit, deposit_deal, provisioned_at, cancelled_at FROM lifecycle "
            "WHERE customer_id = $1 "
            "FOR UPDATE",
            customer,
        )
        if trader is None:
            raise PayoutRefused(404, "customer", f"no funded trader {customer!r}")
        existing = await conn.fetchrow("SELECT * FROM payouts WHERE payout_id = $1", payout_id)
        if existing is not None:
            if existing["customer_id"] != customer or existing["amount"] != amount:
                raise PayoutRefused(409, "payout_id", "the payout id names another payout")
            return payout_json(existing)
        if trader["provisioned_at"] is None or trader["deposit_deal"] is None:
            raise PayoutRefused(409, "customer", "the trader is not provisioned yet")
        paid = await conn.fetchval(
            "SELECT COALESCE(sum(amount), 0) FROM payouts WHERE customer_id = $1 AND status <> 'failed'",
            customer,
        )
        available = trader["deposit"] - paid
        if amount > available:
            raise PayoutRefused(409, "amount", f"exceeds the balance this service booked ({available:.2f})")
        row = await conn.fetchrow(
            "INSERT INTO payouts (payout_id, customer_id, amount) VALUES ($1, $2, $3) RETURNING *",
            payout_id,
            customer,
            amount,
        )
        await db.log(conn, "payout_requested", customer=customer, payout_id=payout_id, amount=str(amount))
    return payout_json(row)


class PayoutWorker:
    def __init__(
        self,
        pool: Any,
        mt5: MT5Client,
        rippling: RipplingClient,
        *,
        cap_s: float,
        settle_s: float,
        mutants: frozenset[str],
    ) -> None:
        self.pool = pool
        self.mt5 = mt5
        self.rippling = rippling
        self.cap_s = cap_s
        self.settle_s = settle_s
        self.blind = "balance_retry_blind" in mutants

    async def pass_once(self) -> int:
        rows = await self.pool.fetch(
            "SELECT p.*, l.mt5_login, l.rippling_worker_id, "
            "EXTRACT(EPOCH FROM now() - p.pay_item_sent_at)::float8 AS pay_item_age FROM payouts p "
            "JOIN lifecycle l USING (customer_id) WHERE p.status IN ('pending', 'withdrawn') "
            "AND p.next_attempt_at <= now() ORDER BY p.created_at LIMIT $1",
            BATCH,
        )
        done = 0
        for row in rows:
            try:
                await self.pay(row)
                done += 1
            except (MT5Error, RipplingError) as exc:
                await self._failed(row, exc)
        return done

    async def _set(self, payout_id: str, sql: str, *args: Any) -> None:
        await self.pool.execute(
            f"UPDATE payouts SET {sql}, updated_at = now() WHERE payout_id = $1", payout_id, *args
        )

    async def _failed(self, row: Any, exc: Exception) -> None:
        attempts = row["attempts"] + 1
        error = f"{type(exc).__name__}: {exc}"[:500]
        final = isinstance(exc, MT5Error) and exc.code == NO_MONEY and row["mt5_deal"] is None
        log.warning("payout %s: %s (attempt %d)", row["payout_id"], error, attempts)
        await self._set(
            row["payout_id"],
            "attempts = $2, last_error = $3, next_attempt_at = now() + make_interval(secs => $4), "
            "status = CASE WHEN $5 THEN 'failed' ELSE status END",
            attempts,
            error,
            backoff(attempts, self.cap_s),
            final,
        )

    async def pay(self, row: Any) -> None:
        payout_id = row["payout_id"]
        if row["mt5_deal"] is None:
            if row["mt5_sent_at"] is None:
                await self._set(payout_id, "mt5_sent_at = now()")
            deal = await book_once(
                self.mt5,
                row["mt5_login"],
                -row["amount"],
                withdrawal_comment(payout_id),
                sent_before=row["mt5_sent_at"] is not None,
                blind=self.blind,
            )
            await self._set(payout_id, "mt5_deal = $2, status = 'withdrawn'", deal)
        if row["rippling_pay_item"] is None:
            item = await self.rippling.find_pay_item(payout_id)
            if item is None:
                if row["pay_item_age"] is not None and row["pay_item_age"] < self.settle_s:
                    raise RipplingError("an earlier pay item create got no answer: looking again first")
                await self._set(payout_id, "pay_item_sent_at = now()")
                item = await self.rippling.create_pay_item(
                    row["rippling_worker_id"], f"{row['amount']:.2f}", payout_id
                )
            await self._set(payout_id, "rippling_pay_item = $2", item)
        await self._set(payout_id, "status = 'paid', last_error = NULL")
        async with self.pool.acquire() as conn:
            await db.log(conn, "payout_paid", payout_id=payout_id, customer=row["customer_id"])

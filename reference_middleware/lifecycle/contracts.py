"""The contract: the envelope the Zap reports, and its status as Connect (or the poll) tells it.

A customer has one contract. The same envelope reported again is a no-op; a different one while the
first still stands is a Zap replay or a retried step, and is voided at DocuSign so the trader signs
once. A status only moves forward (sent < delivered < completed; declined and voided are final), so
duplicated and reordered events change nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from .. import db

log = logging.getLogger("refmw.lifecycle")
RANK = {"created": 0, "sent": 1, "delivered": 2, "completed": 3, "declined": 3, "voided": 3}
FINAL = ("completed", "declined", "voided")
DEAD = ("declined", "voided")  # a contract that will never be signed: a new envelope may replace it
VOID_REASON = "duplicate envelope: the trader's contract was already sent"


@dataclass(frozen=True)
class Recorded:
    status: int
    body: dict[str, Any]
    void: str | None = None  # an envelope to void at DocuSign once the transaction has committed


async def record(conn: Any, customer: str, envelope: str, *, keep_duplicates: bool) -> Recorded:
    """POST /v1/lifecycle/contracts in one transaction. `keep_duplicates`: the zap_replay mutant."""
    async with conn.transaction():
        row = await conn.fetchrow(
            "SELECT envelope_id, contract_status FROM lifecycle WHERE customer_id = $1 FOR UPDATE", customer
        )
        if row is None:
            return Recorded(404, {"error": f"no funded trader {customer!r}", "field": "customer"})
        known = await conn.fetchrow(
            "SELECT customer_id, duplicate FROM contracts WHERE envelope_id = $1", envelope
        )
        if known is not None:
            if known["customer_id"] != customer:
                return Recorded(409, {"error": "the envelope is another trader's", "field": "envelope_id"})
            return Recorded(200, _answer(customer, envelope, known["duplicate"]))
        if row["envelope_id"] is None or row["contract_status"] in DEAD:
            await _insert(conn, customer, envelope, duplicate=False)
            await conn.execute(
                "UPDATE lifecycle SET envelope_id = $2, contract_status = 'sent', signed_at = NULL, "
                "updated_at = now() WHERE customer_id = $1",
                customer,
                envelope,
            )
            await db.log(conn, "contract_recorded", customer=customer, envelope=envelope)
            return Recorded(200, _answer(customer, envelope, False))
        if keep_duplicates:
            await _insert(conn, customer, envelope, duplicate=False)
            await db.log(conn, "contract_recorded", customer=customer, envelope=envelope, kept=True)
            return Recorded(200, _answer(customer, envelope, False))
        await _insert(conn, customer, envelope, duplicate=True)
        await db.log(
            conn, "contract_duplicate", customer=customer, envelope=envelope, kept=row["envelope_id"]
        )
    return Recorded(200, _answer(customer, envelope, True), void=envelope)


async def _insert(conn: Any, customer: str, envelope: str, *, duplicate: bool) -> None:
    await conn.execute(
        "INSERT INTO contracts (envelope_id, customer_id, status, duplicate, void_pending) "
        "VALUES ($1, $2, 'sent', $3, $3)",
        envelope,
        customer,
        duplicate,
    )


def _answer(customer: str, envelope: str, duplicate: bool) -> dict[str, Any]:
    return {"customer": customer, "envelope_id": envelope, "duplicate": duplicate}


@dataclass(frozen=True)
class Moved:
    customer: str
    status: str
    primary: bool  # the customer's contract (not a duplicate or a kept extra)


async def advance(conn: Any, envelope: str, status: str) -> Moved | None:
    """Move an envelope's status forward; None when it is unknown here or the move goes nowhere."""
    if status not in RANK:
        return None
    async with conn.transaction():
        row = await conn.fetchrow(
            "SELECT customer_id, status FROM contracts WHERE envelope_id = $1 FOR UPDATE", envelope
        )
        if row is None or row["status"] in FINAL or RANK[status] <= RANK.get(row["status"], 0):
            return None
        await conn.execute(
            "UPDATE contracts SET status = $2, updated_at = now(), signed_at = CASE WHEN $2 = 'completed' "
            "THEN now() END, void_pending = void_pending AND $2 IN ('sent', 'delivered') "
            "WHERE envelope_id = $1",
            envelope,
            status,
        )
        primary = await conn.fetchval(
            "UPDATE lifecycle SET contract_status = $2, updated_at = now(), signed_at = CASE WHEN $2 = "
            "'completed' THEN now() ELSE signed_at END WHERE customer_id = $3 AND envelope_id = $1 "
            "RETURNING TRUE",
            envelope,
            status,
            row["customer_id"],
        )
        await db.log(conn, "contract_status", envelope=envelope, customer=row["customer_id"], status=status)
    return Moved(row["customer_id"], status, bool(primary))


async def provision_again(conn: Any, customer: str, envelope: str) -> bool:
    """zap_replay_provisions_twice: a kept extra envelope, once signed, starts a new provisioning round
    (a new MT5 user, deposit and worker) as if it were a new trader's."""
    async with conn.transaction():
        taken = await conn.fetchval(
            "UPDATE contracts SET provisioned_round = 0 WHERE envelope_id = $1 "
            "AND provisioned_round IS NULL "
            "RETURNING TRUE",
            envelope,
        )
        if not taken:
            return False
        await conn.execute(
            "UPDATE lifecycle SET round = round + 1, mt5_login = NULL, mt5_user_at = NULL, "
            "trading_at = NULL, deposit_sent_at = NULL, deposit_deal = NULL, worker_sent_at = NULL, "
            "rippling_worker_id = NULL, provisioned_at = NULL, "
            "next_attempt_at = now(), updated_at = now() WHERE customer_id = $1",
            customer,
        )
    return True


def connect_status(event: Any) -> tuple[str, str] | None:
    """(envelope id, status) from a JSON SIM message, or None when it names neither."""
    if not isinstance(event, dict):
        return None
    data = event.get("data")
    if not isinstance(data, dict):
        return None
    envelope = data.get("envelopeId")
    summary = data.get("envelopeSummary")
    status = summary.get("status") if isinstance(summary, dict) else None
    if not isinstance(status, str):
        name = event.get("event")
        status = name.removeprefix("envelope-") if isinstance(name, str) else None
    if not isinstance(envelope, str) or not envelope or not isinstance(status, str):
        return None
    return envelope.lower(), status.lower()

"""What the Stripe webhook does for a funded checkout, in the event's own transaction.

A checkout whose `metadata.program` is "funded" (metadata also carries name, email and deposit)
gets its lifecycle row, written with the event so the outbox can never miss it; refresh_trading then
keeps the trader off the venues until the contract is signed. With the lifecycle off, the checkout
onboards like any other and a warning says so.
"""

from __future__ import annotations

import logging
import re
from decimal import Decimal
from typing import Any

from .. import db
from ..config import Config

log = logging.getLogger("refmw.lifecycle")
DEPOSIT = re.compile(r"^[0-9]{1,12}(\.[0-9]{1,2})?$")


def _text(meta: dict[str, Any], details: dict[str, Any], key: str) -> str:
    value = meta.get(key) or details.get(key)
    return str(value)[:200] if isinstance(value, str) else ""


async def record_funded(conn: Any, cfg: Config, customer: str, checkout: dict[str, Any]) -> bool:
    """The lifecycle row of a funded checkout (idempotent); False when the checkout is not funded."""
    meta = checkout.get("metadata") if isinstance(checkout.get("metadata"), dict) else {}
    assert isinstance(meta, dict)
    if meta.get("program") != "funded":
        return False
    if cfg.lifecycle is None:
        log.warning("funded checkout for %s onboarded as an evaluation: the lifecycle is off", customer)
        return False
    details = checkout.get("customer_details") if isinstance(checkout.get("customer_details"), dict) else {}
    assert isinstance(details, dict)
    raw = meta.get("deposit")
    deposit = Decimal(raw) if isinstance(raw, str) and DEPOSIT.match(raw) and Decimal(raw) > 0 else None
    if deposit is None:
        log.error("funded checkout for %s: metadata.deposit %r is not a positive decimal", customer, raw)
    created = await conn.fetchval(
        "INSERT INTO lifecycle (customer_id, email, name, deposit, checkout_session) "
        "VALUES ($1, $2, $3, $4, $5) "
        "ON CONFLICT (customer_id) DO NOTHING RETURNING TRUE",
        customer,
        _text(meta, details, "email"),
        _text(meta, details, "name"),
        deposit,
        str(checkout.get("id") or ""),
    )
    if created:
        await db.log(conn, "lifecycle_started", customer=customer, deposit=str(deposit))
    return True


async def cancel_funded(conn: Any, customer: str) -> None:
    """A funded trader's subscription ended: their MT5 user and worker are undone in the background."""
    cancelled = await conn.fetchval(
        "UPDATE lifecycle SET cancelled_at = now(), next_attempt_at = now(), updated_at = now() "
        "WHERE customer_id = $1 AND cancelled_at IS NULL RETURNING TRUE",
        customer,
    )
    if cancelled:
        await db.log(conn, "lifecycle_cancel", customer=customer)

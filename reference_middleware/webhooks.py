"""Stripe webhooks: signature checked with the stripe library, idempotent by event id, any order.

The event id is recorded in the same transaction as its effects, so a duplicate delivery is a no-op
even when two copies race, and that transaction commits before the 200: a delivery the database
could not take is answered 503 (dbguard), and Stripe sends it again. Any event for an unknown
customer onboards them (Stripe does not promise order); a subscription's status moves only forward
in event time, and `canceled` is final. The signing secrets are read per delivery (secretsource.py), so
a rotated webhook secret applies from the next request on.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import stripe

from . import db
from .accounts import AccountService
from .config import Config
from .lifecycle.funded import cancel_funded, record_funded
from .secretsource import SecretSource

log = logging.getLogger("refmw.webhooks")
TOLERANCE_S = 300
ACTIVE = ("active", "trialing")


class WebhookRejected(ValueError):
    """A delivery we refuse (400): bad signature, or not an event."""


def verify(cfg: Config, payload: bytes, header: str | None, secrets: tuple[str, ...]) -> dict[str, Any]:
    if not cfg.mutant("webhook_no_signature"):
        errors = []
        for secret in secrets:
            try:
                stripe.WebhookSignature.verify_header(payload, header, secret, TOLERANCE_S)
                break
            except stripe.SignatureVerificationError as exc:
                errors.append(str(exc).split(".")[0])
        else:
            raise WebhookRejected(f"signature check failed: {errors[0] if errors else 'no secret'}")
    try:
        event = json.loads(payload)
    except ValueError as exc:
        raise WebhookRejected("body is not JSON") from exc
    if not isinstance(event, dict) or not isinstance(event.get("id"), str) or "data" not in event:
        raise WebhookRejected("not a Stripe event")
    return event


class WebhookHandler:
    def __init__(
        self, pool: Any, cfg: Config, accounts: AccountService, secrets: SecretSource | None = None
    ) -> None:
        self.pool = pool
        self.cfg = cfg
        self.accounts = accounts
        self.secrets = secrets if secrets is not None else SecretSource.from_config(cfg)
        self._later: set[asyncio.Task[Any]] = set()

    async def handle(self, payload: bytes, header: str | None) -> dict[str, Any]:
        event = verify(self.cfg, payload, header, self.secrets.stripe_secrets())
        async with self.pool.acquire() as conn, conn.transaction():
            first = await conn.fetchval(
                "INSERT INTO webhook_events (event_id, type, created) VALUES ($1, $2, $3) "
                "ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
                event["id"],
                str(event.get("type")),
                int(event.get("created") or 0),
            )
            if first is None and not self.cfg.mutant("webhook_not_idempotent"):
                return {"received": True, "duplicate": True}
            applied = await self.apply(conn, event)
            await db.log(conn, "webhook", event_id=event["id"], type=event.get("type"), applied=applied)
        return {"received": True, "duplicate": False, "applied": applied}

    def handle_later(self, payload: bytes, header: str | None) -> dict[str, Any]:
        """webhook_ack_before_commit: checked, answered 200 at once, applied in the background. An
        event that fails then (the database down) is logged and dropped; Stripe, told 200, never
        sends it again."""
        event = verify(self.cfg, payload, header, self.secrets.stripe_secrets())

        async def apply_later() -> None:
            try:
                await self.handle(payload, header)
                self.accounts.kick.set()
            except Exception as exc:
                log.error("webhook %s dropped: %s: %s", event["id"], type(exc).__name__, exc)

        task = asyncio.ensure_future(apply_later())
        self._later.add(task)
        task.add_done_callback(self._later.discard)
        return {"received": True}

    async def apply(self, conn: Any, event: dict[str, Any]) -> bool:
        kind = str(event.get("type"))
        obj = event["data"].get("object") or {}
        customer = obj.get("customer")
        if not isinstance(customer, str) or not customer:
            return False
        created = int(event.get("created") or 0)
        known = await conn.fetchval("SELECT 1 FROM traders WHERE customer_id = $1", customer)
        if not known and kind != "checkout.session.completed" and self.cfg.mutant("webhook_order_dependent"):
            log.info("dropping %s for unknown customer %s", kind, customer)
            return False
        await self.accounts.ensure_trader(conn, customer)
        if kind == "checkout.session.completed":
            await self.record_contact(conn, customer, obj)
            await record_funded(conn, self.cfg, customer, obj)
            sub = obj.get("subscription")
            if isinstance(sub, str) and obj.get("payment_status") == "paid":
                # A paid checkout starts the subscription, unless a subscription event already told us more.
                await conn.execute(
                    "INSERT INTO subscriptions (id, customer_id, status, event_created) "
                    "VALUES ($1, $2, 'active', $3) "
                    "ON CONFLICT (id) DO NOTHING",
                    sub,
                    customer,
                    created,
                )
        elif kind.startswith("customer.subscription."):
            status = "canceled" if kind.endswith(".deleted") else str(obj.get("status", "incomplete"))
            await self.upsert_subscription(conn, str(obj["id"]), customer, status, created)
            if status == "canceled":
                await cancel_funded(conn, customer)
        elif kind in ("invoice.paid", "invoice.payment_failed"):
            paid = kind == "invoice.paid"
            await conn.execute(
                "INSERT INTO payments (event_id, invoice_id, customer_id, amount, "
                "status) VALUES ($1,$2,$3,$4,$5)",
                event["id"],
                str(obj.get("id")),
                customer,
                int(obj.get("amount_paid" if paid else "amount_due") or 0),
                "paid" if paid else "failed",
            )
        await self.accounts.refresh_trading(conn, customer)
        return True

    async def record_contact(self, conn: Any, customer: str, checkout: dict[str, Any]) -> None:
        """Name, email and country from the checkout: Stripe's customer_details, else its metadata."""
        details, meta = _mapping(checkout.get("customer_details")), _mapping(checkout.get("metadata"))
        address = _mapping(details.get("address"))
        fields = [
            details.get(key) or meta.get(key) or (address.get("country") if key == "country" else None)
            for key in ("name", "email", "country")
        ]
        values = [str(v)[:200] if isinstance(v, str) and v else None for v in fields]
        if any(values):
            await conn.execute(
                "UPDATE traders SET name = COALESCE($2, name), email = COALESCE($3, email), "
                "country = COALESCE($4, country) WHERE customer_id = $1",
                customer,
                *values,
            )

    async def upsert_subscription(
        self, conn: Any, sub_id: str, customer: str, status: str, created: int
    ) -> None:
        if self.cfg.mutant("webhook_order_dependent"):
            # Last delivery wins, whatever the event time.
            await conn.execute(
                "INSERT INTO subscriptions (id, customer_id, status, event_created) VALUES ($1,$2,$3,$4) "
                "ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, "
                "event_created = EXCLUDED.event_created",
                sub_id,
                customer,
                status,
                created,
            )
            return
        await conn.execute(
            "INSERT INTO subscriptions (id, customer_id, status, event_created) VALUES ($1,$2,$3,$4) "
            "ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, "
            "event_created = EXCLUDED.event_created, "
            "updated_at = now() WHERE subscriptions.status <> 'canceled' AND "
            "(EXCLUDED.status = 'canceled' OR EXCLUDED.event_created >= subscriptions.event_created)",
            sub_id,
            customer,
            status,
            created,
        )


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}

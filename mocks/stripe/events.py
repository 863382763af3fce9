"""Realistic Stripe event payloads for the subscription lifecycle the middleware handles.

Ids look like Stripe's (`evt_`, `cus_`, `sub_`, `in_`, `cs_test_`, ...) and come from the
emitter's seeded generator; one customer keeps one subscription and price across its events, so
a checkout, the subscription's creation, its invoices and its deletion refer to each other.
"""

from __future__ import annotations

import random
import string
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

# A Stripe API version string; events are shaped by the account's version when they are created.
DEFAULT_API_VERSION = "2024-06-20"

EVENT_TYPES = (
    "checkout.session.completed",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "invoice.paid",
    "invoice.payment_failed",
)

_ALNUM = string.ascii_letters + string.digits
MONTH_S = 30 * 86_400


class Ids:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def make(self, prefix: str, length: int = 24) -> str:
        return prefix + "".join(self.rng.choice(_ALNUM) for _ in range(length))

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))


@dataclass
class Customer:
    id: str
    subscription: str
    price: str
    product: str
    item: str
    amount: int  # cents a month
    period_start: int
    status: str = "incomplete"
    invoices: list[str] = field(default_factory=list)


class EventFactory:
    """Builds event dicts; `created` is the event's creation time (unix seconds)."""

    def __init__(self, rng: random.Random, api_version: str = DEFAULT_API_VERSION) -> None:
        self.ids = Ids(rng)
        self.rng = rng
        self.api_version = api_version
        self.customers: dict[str, Customer] = {}

    def customer(self, customer_id: str | None) -> Customer:
        if customer_id is None:
            customer_id = self.ids.make("cus_", 14)
        found = self.customers.get(customer_id)
        if found is None:
            found = Customer(
                id=customer_id,
                subscription=self.ids.make("sub_"),
                price=self.ids.make("price_"),
                product=self.ids.make("prod_", 14),
                item=self.ids.make("si_", 14),
                amount=self.rng.choice((9900, 14900, 19900, 29900)),
                period_start=int(time.time()),
            )
            self.customers[customer_id] = found
        return found

    def event(
        self,
        event_type: str,
        customer_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        client_reference_id: str | None = None,
    ) -> dict[str, Any]:
        if event_type not in EVENT_TYPES:
            raise ValueError(f"unknown event type {event_type!r}")
        cust = self.customer(customer_id)
        now = int(time.time())
        meta = dict(metadata or {})
        data: dict[str, Any]
        if event_type == "checkout.session.completed":
            data = {"object": self._checkout(cust, now, meta, client_reference_id)}
        elif event_type.startswith("customer.subscription."):
            action = event_type.rsplit(".", 1)[1]
            previous = cust.status
            cust.status = {"created": "active", "updated": "active", "deleted": "canceled"}[action]
            if action == "updated" and previous == "active":
                previous = "past_due"  # an update must change something
            data = {"object": self._subscription(cust, now, meta)}
            if action == "updated":
                data["previous_attributes"] = {"status": previous}
        else:
            paid = event_type == "invoice.paid"
            if not paid and cust.status == "active":
                cust.status = "past_due"
            data = {"object": self._invoice(cust, now, meta, paid)}
        return {
            "id": self.ids.make("evt_"),
            "object": "event",
            "api_version": self.api_version,
            "created": now,
            "data": data,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": self.ids.make("req_", 14), "idempotency_key": self.ids.uuid()},
            "type": event_type,
        }

    def _price(self, cust: Customer) -> dict[str, Any]:
        return {
            "id": cust.price,
            "object": "price",
            "active": True,
            "currency": "usd",
            "product": cust.product,
            "recurring": {"interval": "month", "interval_count": 1, "usage_type": "licensed"},
            "type": "recurring",
            "unit_amount": cust.amount,
        }

    def _checkout(
        self, cust: Customer, now: int, meta: dict[str, Any], client_reference_id: str | None
    ) -> dict[str, Any]:
        return {
            "id": self.ids.make("cs_test_", 58),
            "object": "checkout.session",
            "amount_subtotal": cust.amount,
            "amount_total": cust.amount,
            "client_reference_id": client_reference_id,
            "created": now,
            "currency": "usd",
            "customer": cust.id,
            "livemode": False,
            "metadata": meta,
            "mode": "subscription",
            "payment_status": "paid",
            "status": "complete",
            "subscription": cust.subscription,
            "success_url": "https://example.invalid/success",
        }

    def _subscription(self, cust: Customer, now: int, meta: dict[str, Any]) -> dict[str, Any]:
        canceled = cust.status == "canceled"
        return {
            "id": cust.subscription,
            "object": "subscription",
            "cancel_at_period_end": False,
            "canceled_at": now if canceled else None,
            "created": cust.period_start,
            "currency": "usd",
            "current_period_end": cust.period_start + MONTH_S,
            "current_period_start": cust.period_start,
            "customer": cust.id,
            "ended_at": now if canceled else None,
            "items": {
                "object": "list",
                "data": [
                    {
                        "id": cust.item,
                        "object": "subscription_item",
                        "created": cust.period_start,
                        "price": self._price(cust),
                        "quantity": 1,
                        "subscription": cust.subscription,
                    }
                ],
                "has_more": False,
                "total_count": 1,
                "url": f"/v1/subscription_items?subscription={cust.subscription}",
            },
            "latest_invoice": cust.invoices[-1] if cust.invoices else None,
            "livemode": False,
            "metadata": meta,
            "status": cust.status,
        }

    def _invoice(self, cust: Customer, now: int, meta: dict[str, Any], paid: bool) -> dict[str, Any]:
        invoice_id = self.ids.make("in_")
        cust.invoices.append(invoice_id)
        return {
            "id": invoice_id,
            "object": "invoice",
            "amount_due": cust.amount,
            "amount_paid": cust.amount if paid else 0,
            "amount_remaining": 0 if paid else cust.amount,
            "attempt_count": 1,
            "attempted": True,
            "billing_reason": "subscription_cycle" if len(cust.invoices) > 1 else "subscription_create",
            "created": now,
            "currency": "usd",
            "customer": cust.id,
            "hosted_invoice_url": f"https://invoice.stripe.invalid/i/{invoice_id}",
            "lines": {
                "object": "list",
                "data": [
                    {
                        "id": self.ids.make("il_", 14),
                        "object": "line_item",
                        "amount": cust.amount,
                        "currency": "usd",
                        "price": self._price(cust),
                        "quantity": 1,
                    }
                ],
                "has_more": False,
                "total_count": 1,
            },
            "livemode": False,
            "metadata": meta,
            "next_payment_attempt": None if paid else now + 3 * 86_400,
            "paid": paid,
            "period_end": cust.period_start + MONTH_S,
            "period_start": cust.period_start,
            "status": "paid" if paid else "open",
            "subscription": cust.subscription,
        }

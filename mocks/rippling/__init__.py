"""Rippling mock: a workers and pay-items REST surface, and form-encoded webhooks to subscribers."""

from .delivery import Listener, WebhookDelivery, WebhookEvent
from .records import EVENTS, Company, PayItem, RipplingLedger, Worker
from .venue import DEFAULT_RETRY, RipplingMock

__all__ = [
    "DEFAULT_RETRY",
    "EVENTS",
    "Company",
    "Listener",
    "PayItem",
    "RipplingLedger",
    "RipplingMock",
    "WebhookDelivery",
    "WebhookEvent",
    "Worker",
]

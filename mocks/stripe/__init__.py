"""Stripe webhook emitter: realistic, signed subscription-lifecycle events with delivery faults."""

from mocks.common import RetryPolicy

from .emitter import StripeEmitter
from .events import EVENT_TYPES
from .signing import secret_from_seed, signature

__all__ = ["EVENT_TYPES", "RetryPolicy", "StripeEmitter", "secret_from_seed", "signature"]

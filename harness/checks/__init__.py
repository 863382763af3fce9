"""Invariant checkers over the recorded history, the middleware's API and the venue ledgers."""

from . import (  # noqa: F401  (registers the checkers)
    admin,
    availability,
    contract,
    database,
    lifecycle,
    orders,
    pnl,
    prices,
    quotes,
    risk,
    rotation,
    security,
    tt,
    webhooks,
)
from .base import (
    CHECKERS,
    VERDICT_STATUSES,
    CheckContext,
    Checker,
    Deployment,
    Verdict,
    VerdictStatus,
    checker,
)

__all__ = [
    "CHECKERS",
    "VERDICT_STATUSES",
    "CheckContext",
    "Checker",
    "Deployment",
    "Verdict",
    "VerdictStatus",
    "checker",
]

"""Invariant checkers over the recorded history, the middleware's API and the venue ledgers."""

from . import admin, availability, contract, database, orders, pnl, prices, quotes, risk, tt, webhooks  # noqa: F401  (registers the checkers)
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

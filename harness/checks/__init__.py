"""Invariant checkers over the recorded history, the middleware's API and the venue ledgers."""

from . import availability, database, orders, tt, webhooks  # noqa: F401  (registers the checkers)
from .base import CHECKERS, CheckContext, Checker, Verdict, checker

__all__ = ["CHECKERS", "CheckContext", "Checker", "Verdict", "checker"]

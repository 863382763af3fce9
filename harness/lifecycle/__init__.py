"""The trader lifecycle across Stripe, the bus, DocuSign, MT5, Rippling and the middleware: the
records each system holds of a trader (model), how the target's automation is wired to the mocks
(wiring), and the report that says where a trader's chain broke (investigate, render)."""

from .investigate import investigate
from .model import Chain, Expected, Payout, Snapshot, join, money
from .render import render_text
from .report import Hop, Report, TraderReport
from .wiring import wire

__all__ = [
    "Chain",
    "Expected",
    "Hop",
    "Payout",
    "Report",
    "Snapshot",
    "TraderReport",
    "investigate",
    "join",
    "money",
    "render_text",
    "wire",
]

"""Where an order's status may move: forward only, and never off a final status.

The move itself is one round trip: set_order_status (db.py, migration 4) locks the row, keeps a
status that is final or further on (`kept_by`), and logs the move when it changed one.
"""

from __future__ import annotations

FINAL = {"filled", "cancelled", "rejected", "risk_rejected", "failed"}
RANK = {"pending_new": 0, "unknown": 0, "working": 1, "partially_filled": 2}
SET_STATUS = "SELECT * FROM set_order_status($1, $2, $3, $4, $5)"


def kept_by(status: str) -> list[str]:
    """The current statuses a move to `status` must not replace: final ones, and those further
    on (a late 'working' never undoes 'partially_filled')."""
    rank = RANK.get(status, 9)
    return sorted(FINAL | {current for current, r in RANK.items() if r > rank})

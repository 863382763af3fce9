"""Where an order's status may move: forward only, and never off a final status.

The move itself is one round trip: set_order_status (db.py, migration 4) locks the row, keeps a
status that is final or further on (`kept_by`), and logs the move when it changed one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from typing import Any

FINAL = {"filled", "cancelled", "rejected", "risk_rejected", "failed"}
RANK = {"pending_new": 0, "unknown": 0, "working": 1, "partially_filled": 2}
SET_STATUS = "SELECT * FROM set_order_status($1, $2, $3, $4, $5)"


def kept_by(status: str) -> list[str]:
    """The current statuses a move to `status` must not replace: final ones, and those further
    on (a late 'working' never undoes 'partially_filled')."""
    rank = RANK.get(status, 9)
    return sorted(FINAL | {current for current, r in RANK.items() if r > rank})


async def fail_unseen(
    pool: Any,
    set_status: Callable[..., Awaitable[Any]],
    venue: str,
    seen: Collection[str],
    older_than_s: float,
) -> None:
    """Orders of `venue` still pending or unknown, older than `older_than_s` (the venue has had every
    chance to show them) and not among those it showed (`seen`), never reached it: failed."""
    stale = await pool.fetch(
        "SELECT client_order_id FROM orders WHERE status IN ('unknown', 'pending_new') "
        "AND venue = $1 AND created_at < now() - make_interval(secs => $2)",
        venue,
        older_than_s,
    )
    for row in stale:
        if row["client_order_id"] not in seen:
            await set_status(row["client_order_id"], "failed", reason="never reached the venue")

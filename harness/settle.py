"""The settle loop the gate and `uat load` share: the middleware's final view of every order,
read until nothing is still in flight (or behind the venue's fills), within a bound."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

from .adapters import Adapter, OrderView

POLL_S = 0.25
UNSETTLED = frozenset({"pending", "unknown"})


def settle_orders(
    adapter: Adapter,
    tags: Iterable[str],
    within_s: float,
    *,
    venue_filled: Callable[[], dict[str, int]] | None = None,
    workers: int = 8,
    poll_s: float = POLL_S,
) -> dict[str, OrderView]:
    """`tags` -> the middleware's OrderView (`missing` where it has none or answered garbage).
    Only orders still unsettled are read again; `venue_filled` (client tag -> quantity the venue
    filled) also keeps an order whose fills the middleware has not caught up with."""
    pending = list(dict.fromkeys(tags))
    deadline = time.monotonic() + within_s
    orders: dict[str, OrderView] = {}

    def read(tag: str) -> tuple[str, OrderView]:
        outcome = adapter.order_status(tag)
        view = outcome.order
        return tag, view if outcome.ok and view is not None else OrderView.missing(outcome.evidence())

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        while True:
            orders.update(pool.map(read, pending))
            filled = venue_filled() if venue_filled is not None else {}
            pending = [
                t for t in pending if orders[t].status in UNSETTLED or orders[t].filled_qty < filled.get(t, 0)
            ]
            if not pending or time.monotonic() >= deadline:
                return orders
            time.sleep(poll_s)

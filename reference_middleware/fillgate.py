"""Fills the venue has reported but the service has not booked yet, per account.

A new order's risk check reads the account's realised P&L from booked fills. A fill is booked a
moment after the venue reports it (its notification waits in a lane for its database write), and
in a crash every long account gets its losing fill at once, so an order could pass the daily loss
check in the instant between a venue's fill and its booking: the 5,000-trader crash run found two
orders accepted 0.85 s after their account's crossing fill. So each fill is counted here when it
arrives, in the venue's order, and uncounted once its notification has been handled; a new order
waits (bounded) until its account has none in flight, and is refused as unavailable if the wait
runs out, never checked against a P&L the service knows to be stale.

An order is tied to its account when this service takes it (`bind`). Fills of orders taken before a
restart are not tied to an account and are not waited for.
"""

from __future__ import annotations

import asyncio
from collections import Counter

BOUND = 200_000  # orders remembered; the oldest are forgotten past this


class FillsInFlight:
    def __init__(self) -> None:
        self._account_of: dict[str, str] = {}
        self._pending: Counter[str] = Counter()  # account -> fills received, not yet handled
        self._changed = asyncio.Event()

    def bind(self, client_order_id: str, account: str) -> None:
        if len(self._account_of) >= BOUND:
            del self._account_of[next(iter(self._account_of))]
        self._account_of[client_order_id] = account

    def received(self, client_order_id: str) -> str | None:
        """A fill of this order arrived; its account, or None when the order is not ours to track."""
        account = self._account_of.get(client_order_id)
        if account is not None:
            self._pending[account] += 1
        return account

    def handled(self, account: str | None) -> None:
        """The fill `received` returned `account` for is booked (or its handling failed)."""
        if account is None:
            return
        self._pending[account] -= 1
        if self._pending[account] <= 0:
            del self._pending[account]
            self._changed.set()

    def pending(self, account: str) -> int:
        return self._pending.get(account, 0)

    async def settled(self, account: str, timeout_s: float) -> bool:
        """True once the account has no fill in flight; False if `timeout_s` passes first."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while self._pending.get(account, 0) > 0:
            left = deadline - loop.time()
            if left <= 0:
                return False
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), left)
            except TimeoutError:
                return self._pending.get(account, 0) <= 0
        return True

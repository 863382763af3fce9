"""Seeded traders and an admin prober, each a thread that records into the history.

Every loop is bounded in time (the stop event) and in count (max orders per trader)."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from typing import Any

from ..adapters import Adapter, Outcome
from ..history import History
from .model import Scenario

PROBE_INTERVAL_S = 0.2
RESTING_BUY_PRICE = 6000.0  # ~12% below the seeded ES path (6800): such an order rests unfilled


class Trader(threading.Thread):
    def __init__(
        self,
        name: str,
        account: str,
        scenario: Scenario,
        seed: int,
        adapter: Adapter,
        history: History,
        stop: threading.Event,
    ) -> None:
        super().__init__(name=name, daemon=True)
        self.account = account
        self.scenario = scenario
        self.rng = random.Random(f"{seed}:{scenario.id}:{name}")
        self.adapter = adapter
        self.history = history
        self.stop_event = stop
        self.placed = 0

    def run(self) -> None:
        low, high = self.scenario.order_interval_s
        while self.placed < self.scenario.max_orders_per_trader and not self.stop_event.wait(
            self.rng.uniform(low, high)
        ):
            burst = [self._next_order() for _ in range(min(self.scenario.burst, self._left()))]
            if len(burst) == 1:
                self._place(burst[0])
            else:  # concurrent: the orders race each other through the account's risk checks
                threads = [threading.Thread(target=self._place, args=(o,), daemon=True) for o in burst]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join(timeout=60)
            if self.scenario.cancel_after_s is not None and not self.stop_event.wait(
                self.scenario.cancel_after_s
            ):
                for order in burst:
                    self._cancel(order)

    def _left(self) -> int:
        return max(self.scenario.max_orders_per_trader - self.placed, 1)

    def _next_order(self) -> dict[str, Any]:
        self.placed += 1
        scenario = self.scenario
        coid = f"{scenario.id.lower()[:24]}-{self.name}-{self.placed}"
        symbol = self.rng.choice(scenario.symbols)  # the draws in the order they were always made
        if scenario.buy_rate == 0.5:  # the draw every scenario made before buy_rate existed
            side = self.rng.choice(("BUY", "SELL"))
        else:
            side = "BUY" if self.rng.random() < scenario.buy_rate else "SELL"
        order: dict[str, Any] = {
            "account": self.account,
            "symbol": symbol,
            "side": side,
            "qty": self.rng.randint(*scenario.qty_range),
            "order_type": "MARKET",
            "client_order_id": coid,
        }
        if self.rng.random() < scenario.resting_limit_rate:
            # A buy far below the market: it rests at the venue and never fills.
            order.update(side="BUY", order_type="LIMIT", limit_price=RESTING_BUY_PRICE)
        # drawn now, so a burst's concurrent sends leave the seeded sequence as it was
        order["_retry"] = self.rng.random() < scenario.client_retry_rate
        return order

    def _place(self, order: dict[str, Any]) -> None:
        retry = order.pop("_retry", False)
        self.history.record(self.name, "place_order", order, lambda o=order: self.adapter.place_order(**o))
        if retry:
            # The trader's client retries the same order (same client_order_id), as clients do.
            self.history.record(
                self.name, "place_order", order, lambda o=order: self.adapter.place_order(**o)
            )

    def _cancel(self, order: dict[str, Any]) -> None:
        coid, account = order["client_order_id"], order["account"]
        self.history.record(
            self.name,
            "cancel_order",
            {"client_order_id": coid, "account": account},
            lambda: self.adapter.cancel_order(coid, account),
        )


class Prober(threading.Thread):
    """Reads health, one account's admin state and (where the target declares them) its metrics
    throughout the run (admin separation, recovery, truthful health and metrics)."""

    def __init__(
        self,
        account: str,
        adapter: Adapter,
        history: History,
        stop: threading.Event,
        metrics: Callable[[], Outcome] | None = None,
    ) -> None:
        super().__init__(name="prober", daemon=True)
        self.account = account
        self.adapter = adapter
        self.history = history
        self.stop_event = stop
        self.metrics = metrics

    def run(self) -> None:
        # Health and metrics on a thread of their own: an admin read that waits out a database
        # fault must not thin out the observations that judge whether health told the truth.
        watcher = threading.Thread(target=self._watch, name="prober-health", daemon=True)
        watcher.start()
        while not self.stop_event.wait(PROBE_INTERVAL_S):
            self.history.record(
                "prober", "account", {"account": self.account}, lambda: self.adapter.account(self.account)
            )
        watcher.join(timeout=30)

    def _watch(self) -> None:
        while not self.stop_event.wait(PROBE_INTERVAL_S):
            self.history.record("prober", "health", {}, self.adapter.health)
            if self.metrics is not None:
                self.history.record("prober", "metrics", {}, self.metrics)


def start_all(threads: list[threading.Thread]) -> Callable[[], None]:
    for thread in threads:
        thread.start()

    def join() -> None:
        for thread in threads:
            thread.join(timeout=30)

    return join

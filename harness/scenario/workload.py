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
            self.placed += 1
            coid = f"{self.scenario.id.lower()[:24]}-{self.name}-{self.placed}"
            order: dict[str, Any] = {
                "account": self.account,
                "symbol": self.rng.choice(self.scenario.symbols),
                "side": self.rng.choice(("BUY", "SELL")),
                "qty": self.rng.randint(1, 2),
                "order_type": "MARKET",
                "client_order_id": coid,
            }
            if self.rng.random() < self.scenario.resting_limit_rate:
                # A buy far below the market: it rests at the venue and never fills.
                order.update(side="BUY", order_type="LIMIT", limit_price=RESTING_BUY_PRICE)
            self.history.record(
                self.name, "place_order", order, lambda o=order: self.adapter.place_order(**o)
            )
            if self.rng.random() < self.scenario.client_retry_rate:
                # The trader's client retries the same order (same client_order_id), as clients do.
                self.history.record(
                    self.name, "place_order", order, lambda o=order: self.adapter.place_order(**o)
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

"""The seeded traders: the orders they draw, bursts sent concurrently, and cancels after a delay
(fast: a recording adapter stands in for the middleware, whose own behaviour is not under test)."""

from __future__ import annotations

import threading
import time
from typing import Any

from harness.adapters import Outcome
from harness.history import History
from harness.scenario import Scenario
from harness.scenario.workload import Trader

from .fakes import make_scenario


class Recording:
    """Answers every order 202 after `delay_s`, and records when each call started and ended."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s
        self.calls: list[tuple[str, str, float, float]] = []
        self.lock = threading.Lock()

    def _answer(self, what: str, coid: str) -> Outcome:
        began = time.monotonic()
        time.sleep(self.delay_s)
        with self.lock:
            self.calls.append((what, coid, began, time.monotonic()))
        return Outcome("ok", 202, {"client_order_id": coid}, 1.0)

    def place_order(self, **order: Any) -> Outcome:
        return self._answer("place", str(order["client_order_id"]))

    def cancel_order(self, client_order_id: str, account: str | None = None) -> Outcome:
        return self._answer("cancel", client_order_id)


def scenario(**extra: Any) -> Scenario:
    return make_scenario(**({"order_interval_s": (0.01, 0.02)} | extra))


def run(s: Scenario, adapter: Recording, seed: int = 7) -> History:
    history = History()
    stop = threading.Event()
    trader = Trader("t1", "ACC-1", s, seed, adapter, history, stop)  # type: ignore[arg-type]
    trader.start()
    trader.join(timeout=20)
    stop.set()
    assert not trader.is_alive()
    return history


def placed(history: History) -> list[dict[str, Any]]:
    return [dict(invoked.value) for invoked, _ in history.completions("place_order")]


def test_orders_are_drawn_from_the_scenarios_sizes_and_side_bias() -> None:
    s = scenario(qty_range=(3, 5), buy_rate=0.9, max_orders_per_trader=40)
    orders = placed(run(s, Recording()))
    assert len(orders) == 40
    assert {o["qty"] for o in orders} == {3, 4, 5}
    buys = sum(o["side"] == "BUY" for o in orders)
    assert 30 <= buys < 40, buys
    assert all("_retry" not in o for o in orders), "the draw bookkeeping never reaches the history"


def test_the_same_seed_draws_the_same_orders_even_when_bursts_race() -> None:
    keys = ("client_order_id", "symbol", "side", "qty", "order_type")
    burst = scenario(max_orders_per_trader=12, burst=4, buy_rate=0.7, qty_range=(1, 4))
    once = sorted(tuple(o[k] for k in keys) for o in placed(run(burst, Recording(0.05))))
    again = sorted(tuple(o[k] for k in keys) for o in placed(run(burst, Recording(0.01))))
    other = sorted(tuple(o[k] for k in keys) for o in placed(run(burst, Recording(0.01), seed=8)))
    assert once == again and len(once) == 12
    assert once != other


def test_a_burst_is_sent_at_once_and_never_past_the_order_bound() -> None:
    adapter = Recording(delay_s=0.2)
    history = run(scenario(burst=4, max_orders_per_trader=6), adapter)
    assert len(placed(history)) == 6, "a burst is cut short at the trader's bound"
    first = sorted(adapter.calls, key=lambda c: c[2])[:4]
    # all four were in flight together: each began before any of them ended
    assert max(c[2] for c in first) < min(c[3] for c in first)


def test_each_order_is_cancelled_after_the_declared_delay() -> None:
    adapter = Recording()
    history = run(scenario(cancel_after_s=0.15, max_orders_per_trader=3), adapter)
    cancels = [invoked.value for invoked, _ in history.completions("cancel_order")]
    assert [c["client_order_id"] for c in cancels] == [o["client_order_id"] for o in placed(history)]
    assert all(c["account"] == "ACC-1" for c in cancels)
    ended = {coid: end for what, coid, _, end in adapter.calls if what == "place"}
    for what, coid, began, _ in adapter.calls:
        if what == "cancel":
            assert began - ended[coid] >= 0.14, "cancelled before its delay"

"""The run's history: what is in flight at a given moment (a graceful restart waits for one)."""

from __future__ import annotations

from harness.adapters.outcome import Outcome
from harness.history import History


def test_in_flight_counts_invokes_not_yet_completed() -> None:
    history = History()
    assert history.in_flight() == 0
    first = history.invoke("t1", "place_order", {"client_order_id": "a"})
    history.invoke("t2", "positions", {})
    assert history.in_flight() == 2
    history.complete(first, Outcome("ok", 202, {}, 3.0))
    assert history.in_flight() == 1
    assert [(i.value, d.status) for i, d in history.completions()] == [({"client_order_id": "a"}, 202)]

"""span_of on the evidence the checkers write, and the samples' JSON and invariants."""

from __future__ import annotations

import json
from typing import Any

import pytest

import harness.diagnosis
from harness.adapters import HealthView, Outcome
from harness.diagnosis import DbSample, HealthSample, ProcessEvent, WaitingLock, span_of

from .conftest import down, holder, sample, waiter


def test_span_of_reads_the_times_the_checkers_write() -> None:
    fast_fail: list[dict[str, Any]] = [
        {"client_order_id": "a", "at": 11.5, "fault": "rithmic down"},
        {"at": 10.1},
    ]
    assert span_of(fast_fail, default=None) == (10.1, 11.5)
    late = [{"fault_cleared_at": 20.0, "first_accepted_order_at": 31.0, "bound_s": 5.0}]
    assert span_of(late, default=None) == (20.0, 31.0)
    never = [{"fault_cleared_at": 20.0, "first_accepted_order_at": None, "bound_s": 5.0}]
    assert span_of(never, default=None) == (20.0, 25.0)  # where it should have been back
    unresolved = [{"client_order_id": "x", "invoked_at": 4.0, "faults": ["tt down"]}]
    assert span_of(unresolved, default=(0.0, 1.0)) == (4.0, 4.0)


def test_span_of_ignores_what_is_not_the_run_clock() -> None:
    tt = [{"path": "/accounts", "after_429_at": 1.7e9, "retried_at": 1.7e9 + 0.2, "gap_s": 0.2}]
    assert span_of(tt, default=(2.0, 9.0)) == (2.0, 9.0)
    odd: list[dict[str, Any]] = [{"at": True}, {"t": "3.0"}, {"at": float("nan")}, {"time": 1.7e9}]
    assert span_of(odd, default=None) is None
    assert span_of([], default=None) is None


def test_every_sample_round_trips_through_json() -> None:
    db = DbSample(
        4.0,
        True,
        "",
        (holder(), waiter(7, 4242)),
        (
            WaitingLock(7, "transactionid", None, "ShareLock"),
            WaitingLock(8, "relation", "orders", "RowExclusiveLock"),
        ),
        12,
        97,
    )
    for item in (db, down(5.0), sample(1.0)):
        assert DbSample.from_json(json.loads(json.dumps(item.to_json()))) == item
    health = HealthSample(1.5, ok=False, database_ok=False, status=503, error="HTTP 503", raw={"db": "down"})
    assert HealthSample.from_json(json.loads(json.dumps(health.to_json()))) == health
    event = ProcessEvent(2.0, "exited", "middleware crash", 137, ("killed",))
    assert ProcessEvent.from_json(json.loads(json.dumps(event.to_json()))) == event


def test_a_health_answer_is_cut_and_an_unknown_process_event_refused() -> None:
    big = HealthSample(raw={"log": "x" * 5000})
    assert isinstance(big.raw, str) and len(big.raw) == 1001 and big.raw.endswith("…")
    assert HealthSample(raw=big.raw).raw == big.raw  # cutting again changes nothing
    assert HealthSample(raw={"status": "ok"}).raw == {"status": "ok"}
    with pytest.raises(ValueError, match="unknown process event 'reboot'"):
        ProcessEvent(1.0, "reboot")  # type: ignore[arg-type]


def test_a_health_sample_from_the_adapters_outcome() -> None:
    healthy = Outcome("ok", 200, {"status": "ok"}, 3.0, view=HealthView(True, 0.2))
    assert HealthSample.from_outcome(healthy, database_ok=True) == HealthSample(
        ok=True, database_ok=True, status=200, raw={"status": "ok"}
    )
    refused = Outcome("fail", 503, {"db": "down"}, 3.0, "HTTP 503")
    assert HealthSample.from_outcome(refused).ok is False
    hung = Outcome("info", None, None, 5000.0, "ReadTimeout")
    assert HealthSample.from_outcome(hung) == HealthSample(error="ReadTimeout")


def test_the_facade_exports_each_public_name_once() -> None:
    assert len(set(harness.diagnosis.__all__)) == len(harness.diagnosis.__all__)
    assert all(hasattr(harness.diagnosis, name) for name in harness.diagnosis.__all__)

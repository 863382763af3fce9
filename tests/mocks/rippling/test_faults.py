"""Each fault, armed through the shared control API with a count, matched to a path or an event."""

from __future__ import annotations

import time

import httpx

from tests.mocks.rippling.conftest import Receiver, arm, deliveries, hire, settle, wait_until


def test_status_429_carries_retry_after_and_is_counted(rest: httpx.Client, control: httpx.Client) -> None:
    arm(control, "status", params={"status": 429, "retry_after_s": 7}, count=2)
    for _ in range(2):
        r = rest.get("/workers")
        assert (r.status_code, r.headers["Retry-After"], r.json()["error"]) == (429, "7", "rate_limited")
    assert rest.get("/workers").status_code == 200
    fired = control.get("/events", params={"kind": "fault_fired"}).json()["events"]
    assert [e["fault"] for e in fired] == ["status", "status"]


def test_a_5xx_matched_to_a_path_spares_other_paths_and_creates_nothing(
    rest: httpx.Client, control: httpx.Client
) -> None:
    arm(control, "status", params={"status": 503, "path": "/pay-items"}, count=1)
    worker_id = hire(rest)["id"]  # /workers is not matched
    r = rest.post("/pay-items", json={"worker_id": worker_id, "amount": "1"})
    assert (r.status_code, r.json()["error"]) == (503, "server_error")
    assert "Retry-After" not in r.headers
    assert control.get("/ledger").json()["pay_items"] == []
    assert rest.post("/pay-items", json={"worker_id": worker_id, "amount": "1"}).status_code == 201


def test_slow_delays_the_answer(rest: httpx.Client, control: httpx.Client) -> None:
    arm(control, "slow", params={"delay_ms": 300, "path": "/workers"}, count=1)
    started = time.monotonic()
    assert rest.get("/workers").status_code == 200
    assert time.monotonic() - started >= 0.29
    started = time.monotonic()
    rest.get("/workers")
    assert time.monotonic() - started < 0.25


def test_a_slow_create_the_client_gave_up_on_still_creates(rest: httpx.Client, control: httpx.Client) -> None:
    """A real server never notices a client that left: the timed-out create lands anyway."""
    arm(control, "slow", params={"delay_ms": 600, "path": "/workers"}, count=1)
    body = {"first_name": "Ann", "last_name": "Late", "work_email": "late@firm.test"}
    try:
        rest.post("/workers", json=body, timeout=0.2)
        raise AssertionError("the slow answer came within the client's timeout")
    except httpx.TimeoutException:
        pass
    wait_until(
        lambda: any(w["work_email"] == "late@firm.test" for w in control.get("/ledger").json()["workers"])
    )


def test_a_fault_aimed_at_a_method_spares_the_others(rest: httpx.Client, control: httpx.Client) -> None:
    """A slow create without a slow lookup: the look-up-before-retry path is then exercised for real."""
    arm(control, "slow", params={"delay_ms": 400, "path": "/workers", "method": "POST"}, count=1)
    started = time.monotonic()
    assert rest.get("/workers").status_code == 200
    assert time.monotonic() - started < 0.3  # the lookup is not the one aimed at
    started = time.monotonic()
    hire(rest)
    assert time.monotonic() - started >= 0.39
    bad = control.post("/faults", json={"fault": "slow", "params": {"method": "FETCH"}})
    assert bad.status_code == 400 and "method" in bad.text


def test_duplicate_delivers_the_same_body_twice(
    rest: httpx.Client, control: httpx.Client, receiver: Receiver
) -> None:
    arm(control, "duplicate", params={"event": "employee.terminated"}, count=1)
    worker_id = hire(rest)["id"]
    rest.patch(f"/workers/{worker_id}", json={"status": "TERMINATED"})
    wait_until(lambda: len(receiver.hits) == 3)
    settle(control)
    assert [e for e, _ in receiver.events()] == [
        "employee.created",
        "employee.terminated",
        "employee.terminated",
    ]
    assert receiver.hits[1].raw == receiver.hits[2].raw
    assert [d["faults"] for d in deliveries(control)][1:] == [["duplicate"], ["duplicate"]]


def test_delay_lets_a_later_event_overtake(
    rest: httpx.Client, control: httpx.Client, receiver: Receiver
) -> None:
    arm(control, "delay", params={"event": "employee.created", "delay_ms": 300}, count=1)
    worker_id = hire(rest)["id"]
    rest.patch(f"/workers/{worker_id}", json={"status": "TERMINATED"})
    wait_until(lambda: len(receiver.hits) == 2)
    assert [e for e, _ in receiver.events()] == ["employee.terminated", "employee.created"]
    assert receiver.hits[1].at - receiver.hits[0].at >= 0.2


def test_drop_then_retry_loses_the_first_attempt(
    rest: httpx.Client, control: httpx.Client, receiver: Receiver
) -> None:
    arm(control, "drop_then_retry", count=1)
    hire(rest)
    wait_until(lambda: len(receiver.hits) == 1)
    settle(control)
    first, second = deliveries(control)
    assert (first["status"], first["outcome"], first["faults"]) == (None, "retrying", ["drop_then_retry"])
    assert "never sent" in first["response"]
    assert (second["attempt"], second["status"], second["outcome"]) == (2, 200, "delivered")


def test_bad_arm_requests_name_the_field(control: httpx.Client) -> None:
    cases = [
        ({"fault": "explode"}, "fault"),
        ({"fault": "status", "params": {"status": 200}}, "params.status"),
        ({"fault": "delay", "params": {"event": "employee.hired"}}, "params.event"),
        ({"fault": "slow", "count": 0}, "count"),
        ({"fault": "duplicate", "params": {"path": "/workers"}}, "params.path"),
    ]
    for body, field in cases:
        r = control.post("/faults", json=body)
        assert (r.status_code, r.json()["field"]) == (400, field), body
    catalogue = {k["name"] for k in control.get("/faults").json()["catalogue"]}
    assert catalogue == {"status", "slow", "duplicate", "delay", "drop_then_retry"}


def test_reset_clears_faults_and_pending_deliveries(
    rest: httpx.Client, control: httpx.Client, receiver: Receiver
) -> None:
    arm(control, "delay", params={"delay_ms": 5000}, count=1)
    hire(rest)
    assert control.get("/rippling/outbox").json()["pending"] == 1
    arm(control, "status", params={"status": 500}, count=5)
    assert control.post("/reset").status_code == 204
    assert control.get("/faults").json()["armed"] == []
    assert control.get("/rippling/outbox").json()["pending"] == 0
    assert rest.get("/workers").status_code == 200
    assert receiver.hits == [] and len(rest.get("/workers").json()["results"]) == 3

"""Webhooks: form-encoded POSTs to each listener, in order on its lane, retried after a failure."""

from __future__ import annotations

import itertools
import socket
import time

import httpx

from tests.mocks.rippling.conftest import (
    Receiver,
    deliveries,
    hire,
    mock_of,
    settle,
    start_receiver,
    wait_until,
)
from tests.mocks.venue_thread import VenueThread


def test_hire_terminate_and_pay_arrive_form_encoded_in_order(
    rippling: VenueThread, rest: httpx.Client, control: httpx.Client, receiver: Receiver
) -> None:
    worker_id = hire(rest)["id"]
    rest.patch(f"/workers/{worker_id}", json={"title": "Senior Trader"})
    rest.patch(f"/workers/{worker_id}", json={"status": "TERMINATED"})
    item = rest.post("/pay-items", json={"worker_id": worker_id, "amount": "5.00"}).json()
    wait_until(lambda: len(receiver.hits) == 4)
    settle(control)
    assert [e for e, _ in receiver.events()] == [
        "employee.created",
        "employee.updated",
        "employee.terminated",
        "pay_item.created",
    ]
    company = mock_of(rippling).company
    for hit in receiver.hits:
        assert hit.headers["Content-Type"] == "application/x-www-form-urlencoded"
        assert "Authorization" not in hit.headers
        assert hit.form["company_id"] == company.company_id
        assert hit.form["company_primary_email"] == "payroll-admin@uat-firm.test"
        assert hit.form["employee_id"] == worker_id
    assert receiver.hits[-1].form["pay_item_id"] == item["id"]
    assert [(d["event_type"], d["attempt"], d["status"], d["outcome"]) for d in deliveries(control)] == [
        ("employee.created", 1, 200, "delivered"),
        ("employee.updated", 1, 200, "delivered"),
        ("employee.terminated", 1, 200, "delivered"),
        ("pay_item.created", 1, 200, "delivered"),
    ]


def test_a_listener_token_is_sent_as_bearer(
    rippling: VenueThread, rest: httpx.Client, control: httpx.Client
) -> None:
    receiver = start_receiver(rippling, control, token="hook-secret")
    try:
        hire(rest)
        wait_until(lambda: len(receiver.hits) == 1)
        assert receiver.hits[0].headers["Authorization"] == "Bearer hook-secret"
        listed = control.get("/rippling").json()["listeners"]
        assert [x["has_token"] for x in listed] == [True]
        assert "hook-secret" not in str(listed)
    finally:
        rippling.run(receiver.stop())


def test_a_receiver_500_is_retried_with_growing_gaps(
    rest: httpx.Client, control: httpx.Client, receiver: Receiver
) -> None:
    receiver.script = [500, 503]
    hire(rest)
    wait_until(lambda: len(receiver.hits) == 3)
    settle(control)
    assert [h.status for h in receiver.hits] == [500, 503, 200]
    assert len({h.raw for h in receiver.hits}) == 1  # every attempt sends the same body
    gaps = [b.at - a.at for a, b in itertools.pairwise(receiver.hits)]
    assert gaps[0] >= 0.045 and gaps[1] >= 0.095, gaps
    assert [(d["attempt"], d["status"], d["outcome"]) for d in deliveries(control)] == [
        (1, 500, "retrying"),
        (2, 503, "retrying"),
        (3, 200, "delivered"),
    ]


def test_gives_up_after_max_attempts(rest: httpx.Client, control: httpx.Client, receiver: Receiver) -> None:
    assert control.put("/rippling/retry", json={"max_attempts": 2}).json()["gaps_ms"] == [50]
    receiver.script = [500] * 5
    worker_id = hire(rest)["id"]
    wait_until(lambda: len(receiver.hits) == 2)
    settle(control)
    time.sleep(0.2)
    assert len(receiver.hits) == 2
    [gave_up] = control.get("/events", params={"kind": "delivery_gave_up"}).json()["events"]
    assert (gave_up["employee_id"], gave_up["attempt"]) == (worker_id, 2)


def test_a_refused_connection_is_retried_then_recorded(rest: httpx.Client, control: httpx.Client) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert control.post("/rippling/listeners", json={"url": f"http://127.0.0.1:{port}/x"}).status_code == 201
    hire(rest)
    settle(control)
    records = deliveries(control)
    assert [d["outcome"] for d in records] == ["retrying", "retrying", "retrying", "gave_up"]
    assert all(d["status"] is None and "ConnectError" in d["response"] for d in records)


def test_listener_urls_are_checked(control: httpx.Client) -> None:
    for url in ("https://example.com/hook", "ftp://127.0.0.1/x", "http://127.0.0.1:99999/", "", None):
        r = control.post("/rippling/listeners", json={"url": url})
        assert (r.status_code, r.json()["field"]) == (400, "url"), url
    r = control.post("/rippling/listeners", json={"url": "http://127.0.0.1:1/x", "token": "a b"})
    assert (r.status_code, r.json()["field"]) == (400, "token")
    r = control.post("/rippling/listeners", json={"url": "http://127.0.0.1:1/x", "secret": "x"})
    assert (r.status_code, r.json()["field"]) == (400, "secret")


def test_two_listeners_each_get_every_event_and_one_can_go(
    rippling: VenueThread, rest: httpx.Client, control: httpx.Client, receiver: Receiver
) -> None:
    second = start_receiver(rippling, control)
    try:
        hire(rest)
        wait_until(lambda: len(receiver.hits) == 1 and len(second.hits) == 1)
        assert receiver.hits[0].raw == second.hits[0].raw
        second_id = control.get("/rippling").json()["listeners"][1]["id"]
        assert control.delete("/rippling/listeners", params={"id": second_id}).json() == {"removed": 1}
        hire(rest, email="b@firm.test")
        wait_until(lambda: len(receiver.hits) == 2)
        settle(control)
        assert len(second.hits) == 1
    finally:
        rippling.run(second.stop())


def test_no_listener_means_the_event_is_logged_unrouted(rest: httpx.Client, control: httpx.Client) -> None:
    worker_id = hire(rest)["id"]
    [unrouted] = control.get("/events", params={"kind": "event_unrouted"}).json()["events"]
    assert (unrouted["event"], unrouted["employee_id"]) == ("employee.created", worker_id)

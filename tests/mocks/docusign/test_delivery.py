"""Connect retries: a 5xx, a timeout or a refused connection is retried with growing gaps, then given up."""

from __future__ import annotations

import itertools
import socket
import time

import httpx

from tests.mocks.docusign.conftest import (
    ConnectListener,
    act,
    create,
    deliveries,
    settle,
    wait_until,
)
from tests.mocks.venue_thread import VenueThread


def test_a_5xx_is_retried_with_retry_count_and_growing_gaps(
    docusign: VenueThread, control: httpx.Client, rest: httpx.Client, listener: ConnectListener
) -> None:
    listener.script = [500, 503]
    create(rest, docusign)
    wait_until(lambda: len(listener.hits) == 3)
    settle(control)
    assert [(h.status, h.payload["retryCount"]) for h in listener.hits] == [(500, 0), (503, 1), (200, 2)]
    assert all(h.verified for h in listener.hits)  # each retry is signed over its own body
    assert len({h.raw for h in listener.hits}) == 3  # ... which differs only in retryCount
    gaps = [b.at - a.at for a, b in itertools.pairwise(listener.hits)]
    assert gaps[0] >= 0.045 and gaps[1] >= 0.095, gaps  # 50 ms, then 100 ms
    assert [(d["attempt"], d["status"], d["outcome"]) for d in deliveries(control)] == [
        (1, 500, "retrying"),
        (2, 503, "retrying"),
        (3, 200, "delivered"),
    ]


def test_gives_up_after_max_attempts_and_records_it(
    docusign: VenueThread, control: httpx.Client, rest: httpx.Client, listener: ConnectListener
) -> None:
    assert control.put("/docusign/retry", json={"max_attempts": 3}).json()["gaps_ms"] == [50, 100]
    listener.script = [500] * 10
    envelope_id = create(rest, docusign)
    wait_until(lambda: len(listener.hits) == 3)
    settle(control)
    time.sleep(0.3)
    assert len(listener.hits) == 3  # nothing after giving up
    assert [d["outcome"] for d in deliveries(control)] == ["retrying", "retrying", "gave_up"]
    [gave_up] = control.get("/events", params={"kind": "delivery_gave_up"}).json()["events"]
    assert (gave_up["envelope_id"], gave_up["event"], gave_up["attempt"]) == (envelope_id, "envelope-sent", 3)


def test_a_timeout_is_retried(
    docusign: VenueThread, control: httpx.Client, rest: httpx.Client, listener: ConnectListener
) -> None:
    assert control.put("/docusign/retry", json={"timeout_ms": 200}).status_code == 200
    listener.delays = [0.6]  # the first answer comes too late
    create(rest, docusign)
    wait_until(lambda: len(listener.hits) == 2)
    settle(control)
    first, second = deliveries(control)
    assert first["status"] is None and "timeout" in first["response"] and first["outcome"] == "retrying"
    assert (second["status"], second["retry_count"], second["outcome"]) == (200, 1, "delivered")


def test_a_refused_connection_is_retried_then_given_up(
    docusign: VenueThread, control: httpx.Client, rest: httpx.Client
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    r = control.post("/docusign/listeners", json={"url": f"http://127.0.0.1:{port}/connect"})
    assert r.status_code == 201
    create(rest, docusign)
    settle(control)
    records = deliveries(control)
    assert [(d["attempt"], d["status"], d["outcome"]) for d in records] == [
        (1, None, "retrying"),
        (2, None, "retrying"),
        (3, None, "retrying"),
        (4, None, "gave_up"),
    ]
    assert all("ConnectError" in d["response"] for d in records)


def test_a_slow_listener_never_blocks_the_rest_surface(
    docusign: VenueThread, control: httpx.Client, rest: httpx.Client, listener: ConnectListener
) -> None:
    listener.delays = [1.0]
    envelope_id = create(rest, docusign)
    wait_until(lambda: len(listener.hits) == 1)  # the sent event is in flight, unanswered
    started = time.monotonic()
    assert rest.get(f"/envelopes/{envelope_id}").json()["status"] == "sent"
    other = create(rest, docusign, email="bob@firm.test")
    act(control, other, "deliver")
    assert time.monotonic() - started < 0.8
    assert control.get("/docusign/outbox").json()["pending"] >= 1
    wait_until(lambda: len(listener.hits) == 3)
    # one listener's deliveries go out one at a time, in the order the events happened
    assert [(h.envelope_id, h.event) for h in listener.hits] == [
        (envelope_id, "envelope-sent"),
        (other, "envelope-sent"),
        (other, "envelope-delivered"),
    ]

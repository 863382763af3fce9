"""Every DocuSign fault, armed through the shared fault book and observed where a middleware would."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime, timedelta

import docusign_esign as ds
import httpx
import pytest

from tests.mocks.docusign.conftest import (
    ConnectListener,
    act,
    arm,
    create,
    deliveries,
    fired,
    mock_of,
    sdk_api,
    settle,
    wait_until,
)
from tests.mocks.venue_thread import VenueThread


def test_duplicate_delivers_the_same_body_twice(
    docusign: VenueThread, control: httpx.Client, rest: httpx.Client, listener: ConnectListener
) -> None:
    arm(control, "duplicate", params={"event": "envelope-delivered"}, count=1)
    envelope_id = create(rest, docusign)
    act(control, envelope_id, "deliver")
    wait_until(lambda: len(listener.hits) == 3)
    settle(control)
    assert listener.events() == ["envelope-sent", "envelope-delivered", "envelope-delivered"]
    assert listener.hits[1].raw == listener.hits[2].raw and all(h.verified for h in listener.hits)
    [shot] = fired(control, "duplicate")
    assert (shot["event"], shot["envelope_id"]) == ("envelope-delivered", envelope_id)
    dupes = [d for d in deliveries(control) if d["faults"] == ["duplicate"]]
    assert len(dupes) == 2 and {d["event_id"] for d in dupes} == {f"{envelope_id}:envelope-delivered"}


def test_reorder_delivers_an_event_after_the_next_one(
    docusign: VenueThread, control: httpx.Client, rest: httpx.Client, listener: ConnectListener
) -> None:
    arm(control, "reorder", params={"event": "envelope-delivered"})
    envelope_id = create(rest, docusign)
    act(control, envelope_id, "complete")
    wait_until(lambda: len(listener.hits) == 3)
    assert listener.events() == ["envelope-sent", "envelope-completed", "envelope-delivered"]
    late = listener.hits[2].payload["data"]["envelopeSummary"]
    assert late["status"] == "delivered"  # the summary as it was when the event happened
    assert all(h.verified for h in listener.hits)
    assert rest.get(f"/envelopes/{envelope_id}").json()["status"] == "completed"
    assert len(fired(control, "reorder")) == 1


def test_a_held_event_goes_alone_when_no_next_one_comes(
    docusign: VenueThread, control: httpx.Client, rest: httpx.Client, listener: ConnectListener
) -> None:
    arm(control, "reorder", params={"hold_ms": 200}, count=1)
    started = time.monotonic()
    create(rest, docusign)
    assert control.get("/docusign/outbox").json() == {"pending": 1, "held": 1}
    wait_until(lambda: len(listener.hits) == 1)
    assert listener.hits[0].at - started >= 0.19 and listener.events() == ["envelope-sent"]
    assert len(control.get("/events", params={"kind": "reorder_released_alone"}).json()["events"]) == 1


def test_bad_signature_is_refused_and_the_retry_verifies(
    docusign: VenueThread, control: httpx.Client, rest: httpx.Client, listener: ConnectListener
) -> None:
    arm(control, "bad_signature", count=1)
    create(rest, docusign)
    wait_until(lambda: len(listener.hits) == 2)
    first, retry = listener.hits
    assert not first.verified and first.status == 401  # the middleware refused the forged HMAC
    assert "X-DocuSign-Signature-1" in first.signatures  # well-formed, just wrong
    assert retry.verified and retry.payload["retryCount"] == 1
    assert [(d["attempt"], d["status"], d["outcome"]) for d in deliveries(control)] == [
        (1, 401, "retrying"),
        (2, 200, "delivered"),
    ]
    assert fired(control, "bad_signature")[0]["event"] == "envelope-sent"


def test_lost_then_retried_with_growing_gaps(
    docusign: VenueThread, control: httpx.Client, rest: httpx.Client, listener: ConnectListener
) -> None:
    assert control.put("/docusign/retry", json={"base_delay_ms": 100, "max_attempts": 5}).status_code == 200
    arm(control, "lost_then_retried", count=1)
    listener.script = [500]  # the first attempt that arrives fails too
    create(rest, docusign)
    wait_until(lambda: len(listener.hits) == 2)
    settle(control)
    # the first attempt never reached the listener; the two that did say so in retryCount
    assert [h.payload["retryCount"] for h in listener.hits] == [1, 2]
    assert [h.status for h in listener.hits] == [500, 200]
    records = deliveries(control)
    assert [(d["attempt"], d["retry_count"], d["status"]) for d in records] == [
        (1, 0, None),
        (2, 1, 500),
        (3, 2, 200),
    ]
    assert "lost_then_retried" in records[0]["response"] and records[0]["faults"] == ["lost_then_retried"]
    gaps = [b["sent_at"] - a["sent_at"] for a, b in itertools.pairwise(records)]
    assert gaps[0] >= 0.095 and gaps[1] >= 0.195, gaps  # 100 ms, then 200 ms
    assert gaps[1] > gaps[0] * 1.5, gaps
    seen = listener.hits[1].at - listener.hits[0].at
    assert seen >= 0.19, seen


def test_never_delivered_leaves_the_poll_as_the_only_witness(
    docusign: VenueThread, control: httpx.Client, rest: httpx.Client, listener: ConnectListener
) -> None:
    arm(control, "never_delivered")  # default: the completed event
    since = (datetime.now(UTC) - timedelta(seconds=5)).isoformat()
    envelope_id = create(rest, docusign)
    act(control, envelope_id, "complete")
    settle(control)
    time.sleep(0.2)
    assert listener.events() == ["envelope-sent", "envelope-delivered"]
    # what a middleware's fallback poll sees, through the SDK
    account = mock_of(docusign).account.account_id
    changes = sdk_api(docusign).list_status_changes(account, from_date=since)
    [polled] = changes.envelopes
    assert (polled.envelope_id, polled.status) == (envelope_id, "completed")
    assert polled.completed_date_time is not None
    [shot] = fired(control, "never_delivered")
    assert (shot["event"], shot["envelope_id"]) == ("envelope-completed", envelope_id)
    history = control.get("/ledger").json()["envelopes"][0]["history"]
    assert history[-1]["status"] == "completed" and history[-1]["suppressed_by"] == "never_delivered"
    assert "envelope-completed" not in {d["event_type"] for d in deliveries(control)}


def test_slow_answers_one_path_only(control: httpx.Client, rest: httpx.Client) -> None:
    arm(control, "slow", params={"delay_ms": 300, "path": "/restapi/v2.1/accounts/"}, count=1)
    started = time.monotonic()
    assert rest.get("/envelopes", params={"from_date": "2020-01-01"}).status_code == 200
    assert time.monotonic() - started >= 0.29
    started = time.monotonic()
    assert rest.get("/envelopes", params={"from_date": "2020-01-01"}).status_code == 200
    assert time.monotonic() - started < 0.25
    assert fired(control, "slow")[0]["path"].startswith("/restapi/v2.1/accounts/")


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({}, 503, "UNSPECIFIED_ERROR"),
        ({"status": 429}, 429, "HOURLY_APIINVOCATION_LIMIT_EXCEEDED"),
        ({"status": 500, "error_code": "UNSPECIFIED_ERROR"}, 500, "UNSPECIFIED_ERROR"),
    ],
)
def test_forced_status_answers_a_docusign_error(
    docusign: VenueThread, control: httpx.Client, params: dict[str, object], status: int, code: str
) -> None:
    arm(control, "status", params=params, count=1)
    account = mock_of(docusign).account.account_id
    api = sdk_api(docusign)
    with pytest.raises(ds.ApiException) as failed:
        api.list_status_changes(account, from_date="2020-01-01")
    assert failed.value.status == status and code in failed.value.body.decode()
    assert api.list_status_changes(account, from_date="2020-01-01").total_set_size == "0"
    assert len(fired(control, "status")) == 1


def test_connect_faults_wait_for_the_event_they_name(
    docusign: VenueThread, control: httpx.Client, rest: httpx.Client, listener: ConnectListener
) -> None:
    arm(control, "duplicate", params={"event": "envelope-voided"})
    envelope_id = create(rest, docusign)
    act(control, envelope_id, "deliver")
    wait_until(lambda: len(listener.hits) == 2)
    assert fired(control, "duplicate") == []  # sent and delivered went through untouched
    act(control, envelope_id, "void", reason="Changed desk")
    wait_until(lambda: len(listener.hits) == 4)
    assert listener.events()[2:] == ["envelope-voided", "envelope-voided"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"fault": "duplicate", "params": {"event": "envelope-signed"}}, "params.event"),
        ({"fault": "bad_signature", "params": {"attempts": 0}}, "params.attempts"),
        ({"fault": "status", "params": {"status": 302}}, "params.status"),
        ({"fault": "reorder", "params": {"hold_ms": "soon"}}, "params.hold_ms"),
        ({"fault": "lost"}, "fault"),
        # once armed as None: the next REST answer was a 500 (TypeError); found by the fuzz suite
        ({"fault": "status", "params": {"status": None}}, "params.status"),
        ({"fault": "slow", "params": {"delay_ms": None}}, "params.delay_ms"),
    ],
)
def test_bad_arm_requests_name_the_field(control: httpx.Client, body: dict[str, object], field: str) -> None:
    r = control.post("/faults", json=body)
    assert r.status_code == 400 and r.json()["field"] == field, r.text

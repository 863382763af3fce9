"""Every emitted event verifies with the stripe library; tampered, stale, wrong-secret ones fail."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import httpx
import pytest
import stripe

from mocks.stripe import EVENT_TYPES, StripeEmitter, secret_from_seed
from tests.mocks.stripe.conftest import Receiver
from tests.mocks.venue_thread import VenueThread

ONE_SHOT = {"max_attempts": 1}


def send(control: httpx.Client, receiver: Receiver, **body: Any) -> dict[str, Any]:
    r = control.post("/send", json={"url": receiver.url, **body})
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


def test_secret_is_whsec_and_fixed_by_the_seed(emitter: VenueThread, control: httpx.Client) -> None:
    info = control.get("/stripe").json()
    assert info["secret"].startswith("whsec_") and len(info["secret"]) > 30
    assert info["secret"] == secret_from_seed(5) != secret_from_seed(6)
    assert info["old_secret"] != info["secret"]
    assert set(info["event_types"]) == set(EVENT_TYPES)


def test_every_event_type_verifies_with_construct_event(control: httpx.Client, receiver: Receiver) -> None:
    result = send(control, receiver, types=list(EVENT_TYPES), customer="cus_TESTTRADER01",
                  metadata={"trader_id": "T-1"})  # fmt: skip
    assert [h.verified for h in receiver.hits] == [True] * len(EVENT_TYPES), [h.error for h in receiver.hits]
    assert [h.event_type for h in receiver.hits] == list(EVENT_TYPES)
    assert [d["status"] for d in result["deliveries"]] == [200] * len(EVENT_TYPES)
    events = [json.loads(h.raw) for h in receiver.hits]
    now = time.time()
    for event in events:
        assert event["id"].startswith("evt_") and event["object"] == "event"
        assert event["api_version"] and abs(event["created"] - now) < 60
        assert event["data"]["object"]["customer"] == "cus_TESTTRADER01"
        assert event["livemode"] is False
    by_type = {e["type"]: e["data"]["object"] for e in events}
    sub = by_type["customer.subscription.created"]
    assert sub["id"].startswith("sub_") and sub["status"] == "active"
    assert by_type["checkout.session.completed"]["subscription"] == sub["id"]
    assert by_type["invoice.paid"]["subscription"] == sub["id"] and by_type["invoice.paid"]["paid"] is True
    assert by_type["invoice.payment_failed"]["status"] == "open"
    assert by_type["customer.subscription.deleted"]["status"] == "canceled"
    assert by_type["customer.subscription.updated"]["metadata"] == {"trader_id": "T-1"}
    updated = next(e for e in events if e["type"] == "customer.subscription.updated")
    assert "previous_attributes" in updated["data"]
    assert len({e["id"] for e in events}) == len(events)


def test_signature_is_hmac_sha256_of_t_dot_body(control: httpx.Client, receiver: Receiver) -> None:
    send(control, receiver, type="invoice.paid")
    [hit] = receiver.hits
    parts = dict(p.split("=", 1) for p in hit.signature.split(","))
    expected = hmac.new(
        receiver.secret.encode(), f"{parts['t']}.".encode() + hit.raw, hashlib.sha256
    ).hexdigest()
    assert parts["v1"] == expected
    assert abs(int(parts["t"]) - time.time()) < 60


def test_events_are_seeded() -> None:
    a, b, c = StripeEmitter(seed=1), StripeEmitter(seed=1), StripeEmitter(seed=2)
    ids = [[e["id"] for e in m.build(list(EVENT_TYPES))] for m in (a, b, c)]
    assert ids[0] == ids[1] != ids[2]


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("tampered_body", "No signatures found matching"),
        ("bad_signature", "No signatures found matching"),
        ("stale_timestamp", "Timestamp outside the tolerance zone"),
    ],
)
def test_faulty_signatures_fail_construct_event(
    control: httpx.Client, receiver: Receiver, fault: str, message: str
) -> None:
    result = send(control, receiver, type="invoice.paid", faults=[fault], retry=ONE_SHOT)
    [hit] = receiver.hits
    assert not hit.verified and message in hit.error
    [delivery] = result["deliveries"]
    assert delivery["status"] == 400 and delivery["faults"] == [fault]
    # the same event without the fault verifies: it is the fault, not the payload
    send(control, receiver, type="invoice.paid", retry=ONE_SHOT)
    assert receiver.hits[-1].verified


def test_stale_timestamp_age_is_a_parameter(control: httpx.Client, receiver: Receiver) -> None:
    send(control, receiver, type="invoice.paid", retry=ONE_SHOT,
         faults=[{"fault": "stale_timestamp", "params": {"age_s": 301}}])  # fmt: skip
    [hit] = receiver.hits
    t = int(hit.signature.split(",")[0][2:])
    assert 300 < time.time() - t < 330
    assert not hit.verified
    # with the tolerance switched off the signature itself is good
    stripe.WebhookSignature.verify_header(hit.raw.decode(), hit.signature, receiver.secret, tolerance=None)


def test_wrong_secret_fails(emitter: VenueThread, control: httpx.Client, receiver: Receiver) -> None:
    receiver.secret = secret_from_seed(999)
    send(control, receiver, type="checkout.session.completed", retry=ONE_SHOT)
    [hit] = receiver.hits
    assert not hit.verified and "No signatures found matching" in hit.error


def test_rotated_secret_has_two_v1_and_verifies_with_either(
    emitter: VenueThread, control: httpx.Client, receiver: Receiver
) -> None:
    send(control, receiver, type="customer.subscription.created", faults=["rotated_secret"], retry=ONE_SHOT)
    [hit] = receiver.hits
    assert hit.verified  # with the new secret
    v1 = [p[3:] for p in hit.signature.split(",") if p.startswith("v1=")]
    assert len(v1) == 2
    venue = emitter.venue
    assert isinstance(venue, StripeEmitter)
    payload = hit.raw.decode()
    for secret in (venue.secret, venue.old_secret):
        assert stripe.WebhookSignature.verify_header(payload, hit.signature, secret, tolerance=300)
    # the first v1 is the *old* secret's: a receiver reading only the first entry would fail
    t = hit.signature.split(",")[0][2:]
    first_ok = hmac.new(venue.secret.encode(), f"{t}.{payload}".encode(), hashlib.sha256).hexdigest()
    assert v1[0] != first_ok and v1[1] == first_ok


def test_armed_fault_applies_to_the_next_send_only(control: httpx.Client, receiver: Receiver) -> None:
    assert control.post("/faults", json={"fault": "bad_signature", "count": 1}).status_code == 201
    first = send(control, receiver, type="invoice.paid", retry=ONE_SHOT)
    second = send(control, receiver, type="invoice.paid", retry=ONE_SHOT)
    assert [h.verified for h in receiver.hits] == [False, True]
    assert first["deliveries"][0]["faults"] == ["bad_signature"] and second["deliveries"][0]["faults"] == []

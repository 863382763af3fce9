"""Signing-secret rotation on the Stripe emitter: during the grace period each delivery carries the previous
and the current secret's v1 (and verifies with either, by the stripe library); after it only the current."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
import stripe

from mocks.stripe import StripeEmitter, secret_from_seed
from tests.mocks.stripe.conftest import Hit, Receiver
from tests.mocks.venue_thread import VenueThread

GRACE_S = 0.4
ONE_SHOT = {"max_attempts": 1}


def venue_of(vt: VenueThread) -> StripeEmitter:
    assert isinstance(vt.venue, StripeEmitter)
    return vt.venue


def send(control: httpx.Client, receiver: Receiver, **body: Any) -> dict[str, Any]:
    r = control.post("/send", json={"url": receiver.url, "type": "invoice.paid", **body})
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


def rotate(control: httpx.Client, grace_s: float) -> dict[str, Any]:
    r = control.post("/stripe/credentials/rotate", json={"grace_s": grace_s})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def verifies(hit: Hit, secret: str) -> bool:
    try:
        return bool(
            stripe.WebhookSignature.verify_header(hit.raw.decode(), hit.signature, secret, tolerance=300)
        )
    except stripe.SignatureVerificationError:
        return False


def v1_count(hit: Hit) -> int:
    return sum(1 for part in hit.signature.split(",") if part.startswith("v1="))


def signed_with(control: httpx.Client) -> list[list[int]]:
    return [e["signed_with"] for e in control.get("/events", params={"kind": "delivery"}).json()["events"]]


def wait_past(deadline: float) -> None:
    time.sleep(max(deadline - time.time(), 0) + 0.05)


def test_in_grace_either_secret_verifies_after_it_only_the_new(
    emitter: VenueThread, control: httpx.Client, receiver: Receiver
) -> None:
    old = venue_of(emitter).secret
    send(control, receiver, retry=ONE_SHOT)
    body = rotate(control, GRACE_S)
    new = body["value"]
    assert (body["credential"], body["generation"]) == ("webhook_secret", 1)
    assert new.startswith("whsec_") and new != old
    assert control.get("/stripe").json()["secret"] == new  # describe() reports the current secret
    send(control, receiver, retry=ONE_SHOT)
    wait_past(body["previous_valid_until"])
    receiver.secret = new
    send(control, receiver, retry=ONE_SHOT)
    before, during, after = receiver.hits
    assert v1_count(before) == 1 and verifies(before, old) and not verifies(before, new)
    assert v1_count(during) == 2 and verifies(during, old) and verifies(during, new)
    assert not verifies(during, secret_from_seed(999))
    assert v1_count(after) == 1 and verifies(after, new) and not verifies(after, old)
    assert [h.verified for h in receiver.hits] == [True, True, True]  # construct_event, in the receiver
    assert signed_with(control) == [[0], [0, 1], [1]]
    rotations = control.get("/events", params={"kind": "credential_rotated"}).json()["events"]
    assert [(e["credential"], e["generation"], e["grace_s"]) for e in rotations] == [
        ("webhook_secret", 1, GRACE_S)
    ]


def test_a_retry_after_the_grace_ends_is_signed_by_the_new_secret_only(
    emitter: VenueThread, control: httpx.Client, receiver: Receiver
) -> None:
    body = rotate(control, 0.3)
    receiver.secret = body["value"]
    receiver.script = [500]  # the first attempt fails; the retry comes after the grace period
    result = send(control, receiver, retry={"max_attempts": 2, "base_delay_ms": 500, "max_delay_ms": 500})
    assert [d["status"] for d in result["deliveries"]] == [500, 200]
    first, retry = receiver.hits
    assert (v1_count(first), v1_count(retry)) == (2, 1)
    assert verifies(retry, body["value"]) and not verifies(retry, venue_of(emitter).old_secret)
    assert signed_with(control) == [[0, 1], [1]]


def test_rotated_secret_fault_uses_the_previous_generation_once_there_is_one(
    emitter: VenueThread, control: httpx.Client, receiver: Receiver
) -> None:
    venue = venue_of(emitter)
    gen0 = venue.secret
    send(control, receiver, faults=["rotated_secret"], retry=ONE_SHOT)
    body = rotate(control, 0)
    assert control.get("/stripe").json()["old_secret"] == gen0
    receiver.secret = body["value"]
    send(control, receiver, faults=["rotated_secret"], retry=ONE_SHOT)
    seeded, rotated = receiver.hits
    assert verifies(seeded, secret_from_seed(5, "previous")) and verifies(seeded, gen0)
    assert v1_count(rotated) == 2 and verifies(rotated, gen0) and verifies(rotated, body["value"])
    # the seeded stand-in is no generation of the secret, so only generation 0 is listed for it
    assert signed_with(control) == [[0], [0, 1]]


def test_bad_signature_in_grace_matches_neither_secret(
    emitter: VenueThread, control: httpx.Client, receiver: Receiver
) -> None:
    old = venue_of(emitter).secret
    new = rotate(control, 30)["value"]
    send(control, receiver, faults=["bad_signature"], retry=ONE_SHOT)
    [hit] = receiver.hits
    assert v1_count(hit) == 2 and not verifies(hit, old) and not verifies(hit, new)
    assert signed_with(control) == [[]]


def test_reset_restores_generation_zero(
    emitter: VenueThread, control: httpx.Client, receiver: Receiver
) -> None:
    original = venue_of(emitter).secret
    first = rotate(control, 30)["value"]
    rotate(control, 30)
    assert control.get("/stripe/credentials").json()["generation"] == 2
    assert control.post("/reset").status_code == 204
    shown = control.get("/stripe/credentials")
    assert shown.json() == {"name": "webhook_secret", "generation": 0, "previous_valid_until": None}
    assert control.get("/stripe").json()["secret"] == original
    send(control, receiver, retry=ONE_SHOT)
    [hit] = receiver.hits
    assert v1_count(hit) == 1 and verifies(hit, original)
    assert signed_with(control) == [[0]]
    assert rotate(control, 0)["value"] == first  # the same seed, the same sequence


@pytest.mark.parametrize(
    ("content", "field"),
    [
        ('{"grace_s": -1}', "grace_s"),
        ('{"grace_s": 3600.5}', "grace_s"),
        ('{"grace_s": [1]}', "grace_s"),
        ('{"grace_s": 1, "value": "whsec_x"}', "value"),
        ("7", "body"),
        ("nope", "body"),
    ],
)
def test_bad_rotate_bodies_are_400_naming_the_field(
    emitter: VenueThread, control: httpx.Client, content: str, field: str
) -> None:
    reply = control.post("/stripe/credentials/rotate", content=content)
    assert reply.status_code == 400 and reply.json()["field"] == field
    shown = control.get("/stripe/credentials")
    assert shown.json()["generation"] == 0 and venue_of(emitter).secret not in shown.text


def test_credentials_view_never_shows_a_secret(emitter: VenueThread, control: httpx.Client) -> None:
    old = venue_of(emitter).secret
    new = rotate(control, 30)["value"]
    shown = control.get("/stripe/credentials")
    assert shown.json()["generation"] == 1 and shown.json()["previous_valid_until"] > time.time()
    assert old not in shown.text and new not in shown.text and "whsec_" not in shown.text

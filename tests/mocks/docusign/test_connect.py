"""Lifecycle events delivered to a loopback listener, verified with hmac + base64 as a middleware does."""

from __future__ import annotations

import re

import httpx

from mocks.docusign import signature, signature_headers, verify
from tests.mocks.docusign.conftest import (
    ConnectListener,
    act,
    create,
    deliveries,
    middleware_verifies,
    mock_of,
    settle,
    start_listener,
    wait_until,
)
from tests.mocks.venue_thread import VenueThread


def test_a_signed_envelope_produces_sent_delivered_completed(
    docusign: VenueThread, control: httpx.Client, rest: httpx.Client, listener: ConnectListener
) -> None:
    venue = mock_of(docusign)
    envelope_id = create(rest, docusign)
    act(control, envelope_id, "complete")  # from sent: the signer opens it, then signs
    wait_until(lambda: len(listener.hits) == 3)
    assert listener.events() == ["envelope-sent", "envelope-delivered", "envelope-completed"]
    assert all(h.verified and h.status == 200 for h in listener.hits)
    configuration_id = control.get("/docusign").json()["listeners"][0]["configurationId"]
    for hit in listener.hits:
        assert list(hit.signatures) == ["X-DocuSign-Signature-1"]
        assert hit.headers["Content-Type"].startswith("application/json")
        payload = hit.payload
        assert list(payload) == [
            "event",
            "apiVersion",
            "uri",
            "retryCount",
            "configurationId",
            "generatedDateTime",
            "data",
        ]
        assert payload["apiVersion"] == "v2.1" and payload["retryCount"] == 0
        assert payload["configurationId"] == configuration_id
        assert payload["uri"] == f"/restapi/v2.1/accounts/{venue.account.account_id}/envelopes/{envelope_id}"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z", payload["generatedDateTime"])
        data = payload["data"]
        assert (data["accountId"], data["userId"], data["envelopeId"]) == (
            venue.account.account_id,
            venue.account.user_id,
            envelope_id,
        )
        summary = data["envelopeSummary"]
        assert summary["status"] == hit.event.removeprefix("envelope-")
        assert summary["emailSubject"] == "Please sign your trader agreement"
        assert summary["recipients"]["signers"][0]["email"] == "ann@firm.test"
    completed = listener.hits[2].payload["data"]["envelopeSummary"]
    assert completed["completedDateTime"] >= completed["deliveredDateTime"] >= completed["sentDateTime"]
    # the ledger: the envelope's whole history, and one delivered attempt per event
    ledger = control.get("/ledger").json()
    envelope = next(e for e in ledger["envelopes"] if e["envelope_id"] == envelope_id)
    assert [(c["status"], c["event"]) for c in envelope["history"]] == [
        ("created", None),
        ("sent", "envelope-sent"),
        ("delivered", "envelope-delivered"),
        ("completed", "envelope-completed"),
    ]
    assert envelope["recipients"][0]["email"] == "ann@firm.test"
    assert [(d["event_type"], d["attempt"], d["status"], d["outcome"]) for d in ledger["deliveries"]] == [
        ("envelope-sent", 1, 200, "delivered"),
        ("envelope-delivered", 1, 200, "delivered"),
        ("envelope-completed", 1, 200, "delivered"),
    ]
    assert all(d["envelope_id"] == envelope_id for d in ledger["deliveries"])


def test_decline_and_void_events(
    control: httpx.Client, rest: httpx.Client, listener: ConnectListener, docusign: VenueThread
) -> None:
    declined = create(rest, docusign)
    act(control, declined, "decline", reason="Terms not agreed")
    voided = create(rest, docusign, email="bob@firm.test")
    r = rest.put(
        f"/envelopes/{voided}", json={"status": "voided", "voidedReason": "Sent to the wrong trader"}
    )
    assert r.status_code == 200 and r.json() == {"envelopeId": voided}
    wait_until(lambda: len(listener.hits) == 5)
    by_envelope = {
        e: [h.event for h in listener.hits if h.envelope_id == e] for e in (declined, voided)
    }  # fmt: skip
    assert by_envelope == {
        declined: ["envelope-sent", "envelope-delivered", "envelope-declined"],
        voided: ["envelope-sent", "envelope-voided"],
    }
    decline_hit = next(h for h in listener.hits if h.event == "envelope-declined")
    signer = decline_hit.payload["data"]["envelopeSummary"]["recipients"]["signers"][0]
    assert (signer["status"], signer["declinedReason"]) == ("declined", "Terms not agreed")
    void_hit = next(h for h in listener.hits if h.event == "envelope-voided")
    assert void_hit.payload["data"]["envelopeSummary"]["voidedReason"] == "Sent to the wrong trader"
    assert all(h.verified for h in listener.hits)


def test_a_draft_is_silent_until_sent(
    control: httpx.Client, rest: httpx.Client, listener: ConnectListener, docusign: VenueThread
) -> None:
    draft = create(rest, docusign, status="created")
    settle(control)
    assert listener.hits == []
    assert rest.put(f"/envelopes/{draft}", json={"status": "sent"}).status_code == 200
    wait_until(lambda: len(listener.hits) == 1)
    assert listener.events() == ["envelope-sent"] and listener.hits[0].verified


def test_key_rotation_sends_two_headers_and_either_key_verifies(
    docusign: VenueThread, control: httpx.Client, rest: httpx.Client
) -> None:
    old_key = mock_of(docusign).hmac_key_list[0]
    r = control.post("/docusign/hmac/rotate")
    assert r.status_code == 201 and r.json()["header"] == 2
    new_key = r.json()["added"]
    assert r.json()["keys"] == [old_key, new_key] and new_key != old_key
    knows_old = start_listener(docusign, control, keys=[old_key])
    knows_new = start_listener(docusign, control, keys=[new_key])
    try:
        create(rest, docusign)
        wait_until(lambda: len(knows_old.hits) == 1 and len(knows_new.hits) == 1)
        for hit in (knows_old.hits[0], knows_new.hits[0]):
            assert sorted(hit.signatures) == ["X-DocuSign-Signature-1", "X-DocuSign-Signature-2"]
            assert hit.verified
            # each header is the signature of one key, in key order
            one, two = hit.signatures["X-DocuSign-Signature-1"], hit.signatures["X-DocuSign-Signature-2"]
            assert middleware_verifies([old_key], hit.raw, {"X-DocuSign-Signature-1": one})
            assert middleware_verifies([new_key], hit.raw, {"X-DocuSign-Signature-2": two})
            assert not middleware_verifies([new_key], hit.raw, {"X-DocuSign-Signature-1": one})
        # the old key retired: one header, and a middleware still holding only the old key refuses
        assert control.put("/docusign/hmac", json={"keys": [new_key]}).status_code == 200
        create(rest, docusign, email="bob@firm.test")
        wait_until(lambda: len(knows_new.hits) == 2)
        settle(control)
        assert list(knows_new.hits[1].signatures) == ["X-DocuSign-Signature-1"] and knows_new.hits[1].verified
        assert [h.verified for h in knows_old.hits[1:]] == [False] * 4  # refused, retried, given up
    finally:
        docusign.run(knows_old.stop())
        docusign.run(knows_new.stop())


def test_every_listener_gets_every_event(
    docusign: VenueThread, control: httpx.Client, rest: httpx.Client, listener: ConnectListener
) -> None:
    second = start_listener(docusign, control)
    try:
        envelope_id = create(rest, docusign)
        act(control, envelope_id, "deliver")
        wait_until(lambda: len(listener.hits) == 2 and len(second.hits) == 2)
        assert listener.events() == second.events() == ["envelope-sent", "envelope-delivered"]
        ids = {listener.hits[0].payload["configurationId"], second.hits[0].payload["configurationId"]}
        assert len(ids) == 2  # each message names its own Connect configuration
        assert len(deliveries(control)) == 4
    finally:
        docusign.run(second.stop())


def test_signature_matches_an_independent_hmac() -> None:
    # computed with `openssl dgst -sha256 -hmac KEY -binary | base64`, the key used as its text
    body = b'{"event":"envelope-sent"}'
    key = "k3y/ROTATION+base64="
    assert signature(key, body) == "1SQ79tgTo82wWAmj8E7YtPGBvS4RT+G14pdmVAr1Eo8="
    headers = signature_headers(["other-key", key], body)
    assert list(headers) == ["X-DocuSign-Signature-1", "X-DocuSign-Signature-2"]
    assert verify([key], body, headers) and not verify([key], body + b" ", headers)
    wrong = signature_headers([key], body, wrong=True)
    assert len(wrong["X-DocuSign-Signature-1"]) == 44 and not verify([key], body, wrong)

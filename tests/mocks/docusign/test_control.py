"""The DocuSign control extras: listeners (loopback only), keys, templates, signer actions, reset."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from mocks.docusign import DocuSignMock
from tests.mocks.docusign.conftest import FAST, ConnectListener, act, arm, create, settle, wait_until
from tests.mocks.venue_thread import VenueThread


@pytest.mark.parametrize(
    "url",
    [
        "http://203.0.113.5/connect",
        "https://middleware.example.com/webhooks/docusign",
        "http://10.0.0.8:8080/x",
        "ftp://127.0.0.1/x",
        "http://[::1/x",
        "not a url",
        # loopback, but no URL httpx can send to: once accepted, and each delivery to it died unrecorded
        # (InvalidURL, OverflowError: neither an httpx.HTTPError); found by tests/fuzz/test_docusign_fuzz.py
        "http://127.0.0.1:abc/connect",
        "http://127.0.0.1:99999/connect",
        "http://127.0.0.1:-1/connect",
        "http://127.0.0.1/\x00",
        "http://127.0.0.1:9/" + "a" * 70_000,
    ],
)
def test_non_loopback_listeners_are_refused(control: httpx.Client, url: str) -> None:
    r = control.post("/docusign/listeners", json={"url": url})
    assert r.status_code == 400 and r.json()["field"] == "url", r.text
    assert control.get("/docusign").json()["listeners"] == []


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "127.0.0.2"])
def test_loopback_listeners_are_accepted(control: httpx.Client, host: str) -> None:
    r = control.post("/docusign/listeners", json={"url": f"http://{host}:9/connect"})
    assert r.status_code == 201 and isinstance(r.json()["configurationId"], int)


def test_allowlisted_hosts_and_constructor_listeners() -> None:
    DocuSignMock(seed=1, allowed_hosts=("hooks.firm.test",), listeners=("https://hooks.firm.test/ds",))
    with pytest.raises(ValueError, match="loopback"):
        DocuSignMock(seed=1, listeners=("https://hooks.firm.test/ds",))


def test_listeners_can_be_removed(control: httpx.Client) -> None:
    ids = [
        control.post("/docusign/listeners", json={"url": f"http://127.0.0.1:{p}/c"}).json() for p in (9, 10)
    ]
    r = control.delete("/docusign/listeners", params={"configurationId": ids[0]["configurationId"]})
    assert r.json() == {"removed": 1}
    assert control.get("/docusign").json()["listeners"] == [ids[1]]
    # past int()'s 4300-digit limit: once a 500 when a listener was there to compare with (the fuzz suite)
    r = control.delete("/docusign/listeners", params={"configurationId": "9" * 5000})
    assert r.status_code == 400 and r.json()["field"] == "configurationId", r.text
    assert control.get("/docusign").json()["listeners"] == [ids[1]]
    assert control.delete("/docusign/listeners").json() == {"removed": 1}


def test_a_template_added_at_run_time_can_be_used(
    control: httpx.Client, rest: httpx.Client, listener: ConnectListener
) -> None:
    r = control.post("/docusign/templates", json={"name": "Payout Form", "roles": ["Trader", "Witness"]})
    assert r.status_code == 201
    template = r.json()
    roles = [
        {"roleName": "Trader", "name": "Ann Trader", "email": "ann@firm.test"},
        {"roleName": "Witness", "name": "Wes Witness", "email": "wes@firm.test"},
    ]
    created = rest.post(
        "/envelopes", json={"templateId": template["templateId"], "templateRoles": roles, "status": "sent"}
    )
    assert created.status_code == 201, created.text
    got = rest.get(f"/envelopes/{created.json()['envelopeId']}", params={"include": "recipients"}).json()
    assert got["emailSubject"] == "Please sign: Payout Form"
    assert [(s["recipientId"], s["roleName"]) for s in got["recipients"]["signers"]] == [
        ("1", "Trader"),
        ("2", "Witness"),
    ]
    one_missing = {"templateId": template["templateId"], "templateRoles": roles[:1], "status": "sent"}
    refused = rest.post("/envelopes", json=one_missing)
    assert refused.status_code == 400 and refused.json()["errorCode"] == "INVALID_EMAIL_ADDRESS_FOR_RECIPIENT"


def test_signer_actions_follow_the_lifecycle(
    docusign: VenueThread, control: httpx.Client, rest: httpx.Client
) -> None:
    envelope_id = create(rest, docusign)
    assert act(control, envelope_id, "deliver")["events"] == ["envelope-delivered"]
    done = act(control, envelope_id, "complete")
    assert done["events"] == ["envelope-completed"] and done["envelope"]["status"] == "completed"
    for action in ("deliver", "decline", "void", "complete"):
        r = control.post(f"/docusign/envelopes/{envelope_id}/{action}")
        assert r.status_code == 409 and r.json()["field"] == "action", r.text
    draft = create(rest, docusign, status="created")
    assert control.post(f"/docusign/envelopes/{draft}/void").status_code == 409  # drafts are not voided
    assert control.post(f"/docusign/envelopes/{envelope_id}/sign").status_code == 404
    assert control.post("/docusign/envelopes/nope/deliver").status_code == 404
    r = control.post(f"/docusign/envelopes/{draft}/deliver", json={"reason": 3})
    assert r.status_code == 400 and r.json()["field"] == "reason"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/docusign/tokens", {"tokens": []}, "tokens"),
        ("/docusign/tokens", {"tokens": ["ok", " padded "]}, "tokens[1]"),
        ("/docusign/tokens", {"token": "x"}, "token"),
        ("/docusign/hmac", {"keys": "one"}, "keys"),
        ("/docusign/hmac", {"keys": [""]}, "keys[0]"),
        ("/docusign/retry", {"max_attempts": 0}, "retry.max_attempts"),
        ("/docusign/retry", {"gap": 1}, "retry.gap"),
        ("/docusign/templates", {"name": "T", "roles": []}, "roles"),
        ("/docusign/templates", {"name": "T", "roles": ["A", "A"]}, "roles"),
        ("/docusign/templates", {"roles": ["A"]}, "name"),
        ("/docusign/listeners", [], "body"),
    ],
)
def test_bad_control_bodies_name_the_field(control: httpx.Client, path: str, body: Any, field: str) -> None:
    method = "POST" if path in ("/docusign/templates", "/docusign/listeners") else "PUT"
    r = control.request(method, path, json=body)
    assert r.status_code == 400 and r.json()["field"] == field, r.text


def test_a_key_or_token_with_a_lone_surrogate_is_refused_and_changes_nothing(control: httpx.Client) -> None:
    """JSON's `\\ud800` is a string Python holds but cannot encode: accepted as an HMAC key, it crashed
    the signing of every delivery after it (the fuzz suite found it)."""
    before = control.get("/docusign").json()
    cases = [
        ("/docusign/hmac", b'{"keys": ["ok", "\\ud800"]}', "keys[1]"),
        ("/docusign/tokens", b'{"tokens": ["\\udfff"]}', "tokens[0]"),
    ]
    for path, body, field in cases:
        r = control.put(path, content=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 400 and r.json()["field"] == field, r.text
        assert "lone surrogate" in r.json()["error"], r.text
    assert control.get("/docusign").json() == before


def test_reset_goes_back_to_the_seed(
    docusign: VenueThread, control: httpx.Client, rest: httpx.Client
) -> None:
    initial = control.get("/docusign").json()
    first = create(rest, docusign)
    control.post("/docusign/listeners", json={"url": "http://127.0.0.1:9/c"})
    rotated = control.post("/docusign/hmac/rotate").json()["added"]
    control.put("/docusign/retry", json={"max_attempts": 2})
    arm(control, "duplicate")
    settle(control)
    assert control.post("/reset").status_code == 204
    assert control.get("/docusign").json() == initial  # tokens, keys, listeners, templates, retry
    assert control.get("/faults").json()["armed"] == []
    ledger = control.get("/ledger").json()
    assert ledger["envelopes"] == [] and ledger["deliveries"] == []
    assert control.get("/events").json()["events"] == []
    assert create(rest, docusign) == first  # the same seed gives the same ids
    assert control.post("/docusign/hmac/rotate").json()["added"] == rotated  # seeded keys too


def test_reset_cancels_deliveries_under_way(
    docusign: VenueThread, control: httpx.Client, rest: httpx.Client, listener: ConnectListener
) -> None:
    listener.script = [500] * 10
    create(rest, docusign)
    wait_until(lambda: len(listener.hits) == 1)
    assert control.post("/reset").status_code == 204
    assert control.get("/docusign/outbox").json() == {"pending": 0, "held": 0}
    hits = len(listener.hits)
    time.sleep(0.3)  # past every retry gap the cancelled delivery had left
    assert len(listener.hits) == hits


def test_two_mocks_with_one_seed_agree() -> None:
    a, b = DocuSignMock(seed=8, retry=FAST), DocuSignMock(seed=8, retry=FAST)
    assert a.describe() == b.describe() and a.account == b.account
    assert DocuSignMock(seed=9).account != a.account

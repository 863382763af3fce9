"""App-secret rotation on the TT mock: the old secret gets a token during the grace period and a 401
after it, the new one gets tokens, tokens already issued outlive the rotation, reset restores it."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from mocks.tt import TTMock
from tests.mocks.tt.conftest import TTClient, make_client
from tests.mocks.venue_thread import VenueThread

GRACE_S = 0.4


def venue_of(tt: VenueThread) -> TTMock:
    assert isinstance(tt.venue, TTMock)
    return tt.venue


def token_events(control: httpx.Client) -> list[tuple[int, Any, Any]]:
    found = control.get("/events", params={"kind": "token_request"}).json()["events"]
    return [(e["status"], e["credential"], e["generation"]) for e in found]


def test_old_secret_gets_a_token_in_grace_and_401_after(tt: VenueThread, control: httpx.Client) -> None:
    venue = venue_of(tt)
    old_client = make_client(tt)  # holds the generation-0 secret
    old_secret = old_client.app_secret
    new_client = wrong = None
    try:
        assert old_client.get_token().status_code == 200
        issued_before = old_client.token
        rotated = control.post("/tt/credentials/rotate", json={"grace_s": GRACE_S})
        assert rotated.status_code == 200, rotated.text
        body = rotated.json()
        assert (body["credential"], body["generation"]) == ("app_secret", 1)
        new_secret = body["value"]
        assert new_secret != old_secret and len(new_secret) == len(old_secret)
        assert venue.describe()["app_secret"] == new_secret == venue.config.app_secret

        assert old_client.get_token().status_code == 200  # in grace
        assert old_client.get("ttaccount", "accounts").status_code == 200
        new_client = make_client(tt)
        assert new_client.app_secret == new_secret
        assert new_client.get_token().status_code == 200

        time.sleep(max(body["previous_valid_until"] - time.time(), 0) + 0.05)
        refused = old_client.get_token()
        assert refused.status_code == 401 and "access_token" not in refused.json()
        wrong = TTClient(venue.url, venue.config.env, venue.config.app_key, "not-the-secret")
        assert wrong.get_token().status_code == 401  # the same answer as a revoked secret
        assert new_client.get_token().status_code == 200
        # rotation revokes no token: the one issued before it still serves requests
        old_client.token = issued_before
        assert old_client.get("ttaccount", "accounts").status_code == 200
    finally:
        for c in (old_client, new_client, wrong):
            if c is not None:
                c.close()
    assert token_events(control) == [
        (200, "current", 0),
        (200, "previous", 0),
        (200, "current", 1),
        (401, "revoked", 0),
        (401, "wrong", None),
        (200, "current", 1),
    ]
    rotations = control.get("/events", params={"kind": "credential_rotated"}).json()["events"]
    assert [(e["credential"], e["generation"], e["grace_s"]) for e in rotations] == [
        ("app_secret", 1, GRACE_S)
    ]
    shown = control.get("/tt/credentials")
    assert shown.json() == {"name": "app_secret", "generation": 1, "previous_valid_until": None}
    assert new_secret not in shown.text and old_secret not in shown.text
    assert new_secret not in control.get("/tt/config").text


def test_requests_refused_before_the_secret_is_read_say_so(tt: VenueThread, control: httpx.Client) -> None:
    venue = venue_of(tt)
    with httpx.Client(base_url=tt.url, timeout=5) as http:
        r = http.post(
            "/ttid/ext_uat_cert/token",
            content="grant_type=password",
            headers={"x-api-key": venue.config.app_key, "Content-Type": "application/x-www-form-urlencoded"},
        )
    assert r.status_code == 400
    assert token_events(control) == [(400, None, None)]


def test_reset_restores_generation_zero_and_config_cannot_set_the_secret(
    tt: VenueThread, control: httpx.Client
) -> None:
    venue = venue_of(tt)
    original = venue.config.app_secret
    new = control.post("/tt/credentials/rotate", json={"grace_s": 0}).json()["value"]
    patched = control.post("/tt/config", json={"app_secret": "mine"})
    assert patched.status_code == 400 and patched.json()["field"] == "app_secret"
    assert venue.config.app_secret == new
    assert control.post("/reset").status_code == 204
    assert control.get("/tt/credentials").json()["generation"] == 0
    assert venue.describe()["app_secret"] == original
    c = make_client(tt)
    try:
        assert c.get_token().status_code == 200
        c.app_secret = new
        assert c.get_token().status_code == 401
    finally:
        c.close()
    assert token_events(control) == [(200, "current", 0), (401, "wrong", None)]
    # the same seed gives the same rotated secret again
    assert control.post("/tt/credentials/rotate").json()["value"] == new


@pytest.mark.parametrize(
    ("content", "field"),
    [
        ('{"grace_s": -0.5}', "grace_s"),
        ('{"grace_s": 1e9}', "grace_s"),
        ('{"grace_s": false}', "grace_s"),
        ('{"secret": "x"}', "secret"),
        ('"grace"', "body"),
        ("{", "body"),
    ],
)
def test_bad_rotate_bodies_are_400_naming_the_field(
    tt: VenueThread, control: httpx.Client, content: str, field: str
) -> None:
    reply = control.post("/tt/credentials/rotate", content=content)
    assert reply.status_code == 400 and reply.json()["field"] == field
    assert control.get("/tt/credentials").json()["generation"] == 0
    assert not control.get("/events", params={"kind": "credential_rotated"}).json()["events"]

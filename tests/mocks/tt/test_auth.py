"""ttid tokens and the gateway's request checks: 401, 403, requestId, case-sensitive paths."""

from __future__ import annotations

import time

import httpx
import pytest

from mocks.tt import TTMock, valid_request_id
from tests.mocks.tt.conftest import TTClient, make_client
from tests.mocks.venue_thread import VenueThread


def test_token_response_shape(tt: VenueThread) -> None:
    c = make_client(tt)
    try:
        r = c.get_token()
        assert r.status_code == 200
        body = r.json()
        assert body["token_type"].lower() == "bearer"
        assert isinstance(body["access_token"], str) and len(body["access_token"]) >= 32
        assert body["seconds_until_expiry"] == 7200
        # each token request gets a fresh token, and both work
        first = c.token
        assert c.get_token().status_code == 200 and c.token != first
        assert c.get("ttaccount", "accounts").status_code == 200
    finally:
        c.close()


def test_token_lifecycle_with_short_expiry(tt: VenueThread, control: httpx.Client) -> None:
    assert control.post("/tt/config", json={"token_ttl_s": 1}).status_code == 200
    c = make_client(tt)
    try:
        assert c.get_token().status_code == 200
        assert c.token_response["seconds_until_expiry"] == 1
        assert c.get("ttpds", "instruments").status_code == 200
        time.sleep(1.1)
        expired = c.get("ttpds", "instruments")
        assert expired.status_code == 401
        assert "expired" in expired.json()["message"]
        # the documented remedy: fetch a new token before (or after) it expires
        assert c.get_token().status_code == 200
        assert c.get("ttpds", "instruments").status_code == 200
    finally:
        c.close()


@pytest.mark.parametrize(
    ("content", "headers", "status"),
    [
        ("grant_type=user_app&app_key={key}:wrong", {}, 401),
        ("grant_type=user_app&app_key=other:{secret}", {}, 403),
        ("grant_type=password&app_key={key}:{secret}", {}, 400),
        ("grant_type=user_app&app_key={key}", {}, 400),
        ("grant_type=user_app", {}, 400),
        ('{{"grant_type": "user_app"}}', {"Content-Type": "application/json"}, 400),
    ],
)
def test_bad_token_requests(tt: VenueThread, content: str, headers: dict[str, str], status: int) -> None:
    venue = tt.venue
    assert isinstance(venue, TTMock)
    key, secret = venue.config.app_key, venue.config.app_secret
    sent = {"x-api-key": key, "Content-Type": "application/x-www-form-urlencoded", **headers}
    with httpx.Client(base_url=tt.url, timeout=5) as http:
        r = http.post(
            "/ttid/ext_uat_cert/token", content=content.format(key=key, secret=secret), headers=sent
        )
    assert r.status_code == status
    assert "access_token" not in r.json()


def test_token_needs_the_api_key_header(tt: VenueThread) -> None:
    venue = tt.venue
    assert isinstance(venue, TTMock)
    body = f"grant_type=user_app&app_key={venue.config.app_key}:{venue.config.app_secret}"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    with httpx.Client(base_url=tt.url, timeout=5) as http:
        assert http.post("/ttid/ext_uat_cert/token", content=body, headers=form).status_code == 403
        wrong = {**form, "x-api-key": "not-the-key"}
        assert http.post("/ttid/ext_uat_cert/token", content=body, headers=wrong).status_code == 403


def test_missing_or_unknown_bearer_is_401(client: TTClient) -> None:
    path = "/ttaccount/ext_uat_cert/accounts"
    params = {"requestId": client.request_id()}
    key = {"x-api-key": client.app_key}
    assert client.http.get(path, params=params, headers=key).status_code == 401
    bad = {**key, "Authorization": "Bearer " + "0" * 64}
    assert client.http.get(path, params=params, headers=bad).status_code == 401
    basic = {**key, "Authorization": f"Basic {client.token}"}
    assert client.http.get(path, params=params, headers=basic).status_code == 401
    assert client.get("ttaccount", "accounts").status_code == 200


def test_missing_or_wrong_api_key_is_403_even_with_a_token(client: TTClient) -> None:
    path = "/ttaccount/ext_uat_cert/accounts"
    params = {"requestId": client.request_id()}
    bearer = {"Authorization": f"Bearer {client.token}"}
    assert client.http.get(path, params=params, headers=bearer).status_code == 403
    wrong = {**bearer, "x-api-key": "nope"}
    assert client.http.get(path, params=params, headers=wrong).status_code == 403


def test_uppercase_service_is_403(client: TTClient) -> None:
    for service in ("TTAccount", "TTACCOUNT", "Ttledger"):
        r = client.http.get(
            f"/{service}/ext_uat_cert/accounts",
            params={"requestId": client.request_id()},
            headers=client.headers(),
        )
        assert r.status_code == 403, service
    assert client.get("ttaccount", "accounts").status_code == 200


def test_unknown_environment_is_404(client: TTClient) -> None:
    r = client.http.get(
        "/ttaccount/ext_prod_live/accounts",
        params={"requestId": client.request_id()},
        headers=client.headers(),
    )
    assert r.status_code == 404
    assert "ext_uat_cert" in r.json()["message"]


@pytest.mark.parametrize(
    "request_id",
    [
        "",
        "no-guid",
        "app--guid-only-no-company",
        "my app-firm--1234",
        "app-fi$rm--1234",
        "app-firm--",
        "a-b--c/d",
    ],
)
def test_malformed_request_id_is_400(client: TTClient, request_id: str) -> None:
    r = client.get("ttaccount", "accounts", requestId=request_id)
    assert r.status_code == 400
    assert "requestId" in r.json()["message"]


def test_missing_request_id_is_400(client: TTClient) -> None:
    r = client.http.get("/ttaccount/ext_uat_cert/accounts", headers=client.headers())
    assert r.status_code == 400


def test_request_id_rules() -> None:
    assert valid_request_id("stackuat-firm--0f9c2d4e-1b2a-4c3d-8e9f-001122334455")
    assert valid_request_id("my_app-my_company--abc123")
    for bad in (
        "app-firm",
        "app-firm--",
        "-firm--x",
        "app---x",
        "app-firm--x y",
        "app-firm--é",
        "app-firm--x#",
    ):
        assert not valid_request_id(bad), bad

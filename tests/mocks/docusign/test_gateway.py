"""Bearer-token auth, the account check and DocuSign-shaped errors on every failure."""

from __future__ import annotations

import httpx
import pytest

from tests.mocks.docusign.conftest import create, mock_of, rest_client
from tests.mocks.venue_thread import VenueThread


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        (None, "USER_AUTHENTICATION_FAILED"),
        ("", "USER_AUTHENTICATION_FAILED"),
        ("Bearer wrong-token", "AUTHORIZATION_INVALID_TOKEN"),
        ("Bearer", "AUTHORIZATION_INVALID_TOKEN"),
        ("Basic dXNlcjpwYXNz", "AUTHORIZATION_INVALID_TOKEN"),
    ],
)
def test_no_valid_bearer_token_is_a_401(docusign: VenueThread, authorization: str | None, code: str) -> None:
    venue = mock_of(docusign)
    headers = {} if authorization is None else {"Authorization": authorization}
    base = f"{venue.url}/restapi/v2.1/accounts/{venue.account.account_id}"
    for method, path in [("GET", "/envelopes?from_date=2020-01-01"), ("POST", "/envelopes")]:
        r = httpx.request(method, base + path, headers=headers, json={"templateId": "x"}, timeout=5)
        assert r.status_code == 401, r.text
        assert r.json()["errorCode"] == code and r.json()["message"]
        assert r.headers["Content-Type"].startswith("application/json")
        assert r.headers["X-DocuSign-TraceToken"]
    assert venue.ledger.envelopes == {}  # nothing was created


def test_tokens_are_configured_through_the_control_api(
    docusign: VenueThread, control: httpx.Client, rest: httpx.Client
) -> None:
    assert rest.get("/envelopes", params={"from_date": "2020-01-01"}).status_code == 200
    r = control.put("/docusign/tokens", json={"tokens": ["rotated-token-1", "rotated-token-2"]})
    assert r.status_code == 200 and r.json()["tokens"] == ["rotated-token-1", "rotated-token-2"]
    assert rest.get("/envelopes", params={"from_date": "2020-01-01"}).status_code == 401  # the old one
    for token in ("rotated-token-1", "rotated-token-2"):
        with rest_client(docusign, token) as client:
            assert client.get("/envelopes", params={"from_date": "2020-01-01"}).status_code == 200


def test_another_account_is_refused(docusign: VenueThread, rest: httpx.Client) -> None:
    venue = mock_of(docusign)
    token = venue.tokens[0]
    r = httpx.get(
        f"{venue.url}/restapi/v2.1/accounts/00000000-0000-4000-8000-000000000000/envelopes",
        params={"from_date": "2020-01-01"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert r.status_code == 400 and r.json()["errorCode"] == "USER_LACKS_MEMBERSHIP"
    # the account id is a GUID: any case names the same account
    upper = rest_client(docusign)
    upper.base_url = httpx.URL(
        str(upper.base_url).replace(venue.account.account_id, venue.account.account_id.upper())
    )
    with upper:
        assert upper.get("/envelopes", params={"from_date": "2020-01-01"}).status_code == 200


def test_trace_tokens_differ_per_answer(docusign: VenueThread, rest: httpx.Client) -> None:
    envelope_id = create(rest, docusign)
    traces = {rest.get(f"/envelopes/{envelope_id}").headers["X-DocuSign-TraceToken"] for _ in range(3)}
    assert len(traces) == 3


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/nothing-here", 404, "RESOURCE_NOT_FOUND"),
        ("DELETE", "/envelopes", 405, "METHOD_NOT_ALLOWED"),
        ("GET", "/envelopes/not-a-guid", 400, "ENVELOPE_DOES_NOT_EXIST"),
        ("PUT", "/envelopes/00000000-0000-4000-8000-000000000000", 400, "ENVELOPE_DOES_NOT_EXIST"),
        ("GET", "/envelopes?from_date=yesterday", 400, "INVALID_REQUEST_PARAMETER"),
        ("GET", "/envelopes?from_date=2020-01-01&status=signed", 400, "INVALID_REQUEST_PARAMETER"),
        ("GET", "/envelopes?from_date=2020-01-01&count=0", 400, "INVALID_REQUEST_PARAMETER"),
    ],
)
def test_errors_are_docusign_shaped(
    rest: httpx.Client, method: str, path: str, status: int, code: str
) -> None:
    r = rest.request(method, path)
    assert r.status_code == status, r.text
    assert set(r.json()) == {"errorCode", "message"} and r.json()["errorCode"] == code


def test_list_status_changes_pages_and_filters(
    docusign: VenueThread, control: httpx.Client, rest: httpx.Client
) -> None:
    made = [create(rest, docusign, email=f"t{n}@firm.test") for n in range(3)]
    first = rest.get("/envelopes", params={"from_date": "2020-01-01", "count": 2}).json()
    assert (first["resultSetSize"], first["totalSetSize"], first["startPosition"], first["endPosition"]) == (
        "2",
        "3",
        "0",
        "1",
    )
    assert [e["envelopeId"] for e in first["envelopes"]] == made[:2]
    second = rest.get(first["nextUri"]).json()  # relative to the account, as DocuSign gives it
    assert [e["envelopeId"] for e in second["envelopes"]] == made[2:] and second["nextUri"] == ""
    by_id = rest.get("/envelopes", params={"envelope_ids": f"{made[1]},{made[2]}"}).json()
    assert sorted(e["envelopeId"] for e in by_id["envelopes"]) == sorted(made[1:])
    future = rest.get("/envelopes", params={"from_date": "2999-01-01"}).json()
    assert future["totalSetSize"] == "0" and "envelopes" not in future

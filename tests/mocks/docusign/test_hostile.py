"""Garbage in: a clear DocuSign error for the sender, and the mock keeps serving everyone else."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mocks.docusign import DocuSignMock
from tests.mocks.docusign.conftest import FAST, create, mock_of, rest_client, template_id
from tests.mocks.venue_thread import VenueThread


@pytest.fixture(scope="module")
def shared() -> Iterator[VenueThread]:
    with VenueThread(DocuSignMock(seed=5, retry=FAST)) as vt:
        yield vt


@pytest.fixture(scope="module")
def good(shared: VenueThread) -> Iterator[httpx.Client]:
    """A well-behaved client on its own connection, checked after every piece of garbage."""
    with rest_client(shared) as client:
        yield client


@pytest.fixture(scope="module")
def controller(shared: VenueThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=shared.control_url, timeout=5) as client:
        yield client


@pytest.fixture(scope="module")
def attacker(shared: VenueThread) -> Iterator[httpx.Client]:
    with rest_client(shared) as client:
        yield client


def still_served(vt: VenueThread, good: httpx.Client) -> None:
    envelope_id = create(good, vt)
    assert good.get(f"/envelopes/{envelope_id}").json()["status"] == "sent"


DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"{not json", "INVALID_REQUEST_BODY"),
        (b"", "INVALID_REQUEST_BODY"),
        (b"[1, 2, 3]", "INVALID_REQUEST_BODY"),
        (b"\xff\xfe\x00garbage", "INVALID_REQUEST_BODY"),
        (DEEP, "INVALID_REQUEST_BODY"),
        (b'{"templateId": 42, "status": "sent"}', "TEMPLATE_ID_INVALID"),
        (b'{"status": "sent"}', "ENVELOPE_IS_INCOMPLETE"),
        (b'{"documents": [{"documentBase64": "JVBERi0="}], "status": "sent"}', "INVALID_REQUEST_BODY"),
        (b'{"templateId": "TEMPLATE", "templateRoles": "Trader", "status": "sent"}', "INVALID_REQUEST_BODY"),
        (b'{"templateId": "TEMPLATE", "templateRoles": [7], "status": "sent"}', "INVALID_REQUEST_BODY"),
        (b'{"templateId": "TEMPLATE", "status": "completed"}', "INVALID_REQUEST_PARAMETER"),
        (b'{"templateId": "TEMPLATE", "status": "sent"}', "INVALID_EMAIL_ADDRESS_FOR_RECIPIENT"),
        (
            b'{"templateId": "TEMPLATE", "status": "sent", '
            b'"templateRoles": [{"roleName": "Trader", "name": "A", "email": "not-an-email"}]}',
            "INVALID_EMAIL_ADDRESS_FOR_RECIPIENT",
        ),
        (
            b'{"templateId": "TEMPLATE", "status": "sent", '
            b'"templateRoles": [{"roleName": "Trader", "name": " ", "email": "a@firm.test"}]}',
            "INVALID_USERNAME_FOR_RECIPIENT",
        ),
    ],
)
def test_bad_create_bodies(
    shared: VenueThread, attacker: httpx.Client, good: httpx.Client, content: bytes, code: str
) -> None:
    before = len(mock_of(shared).ledger.envelopes)
    body = content.replace(b"TEMPLATE", template_id(shared).encode())
    r = attacker.post("/envelopes", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    assert r.json()["errorCode"] == code and r.json()["message"]
    assert len(mock_of(shared).ledger.envelopes) == before
    still_served(shared, good)


def test_a_huge_body_is_refused(shared: VenueThread, attacker: httpx.Client, good: httpx.Client) -> None:
    huge = b'{"templateId": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    r = attacker.post("/envelopes", content=huge, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["errorCode"] == "REQUEST_ENTITY_TOO_LARGE"
    still_served(shared, good)


def test_bad_updates(shared: VenueThread, attacker: httpx.Client, good: httpx.Client) -> None:
    envelope_id = create(good, shared)
    cases: list[tuple[Any, str]] = [
        ({"status": 5}, "INVALID_REQUEST_BODY"),
        ({"status": "completed"}, "INVALID_REQUEST_PARAMETER"),
        ({"status": "voided", "voidedReason": ""}, "INVALID_REQUEST_PARAMETER"),
        ({"status": "sent"}, "ENVELOPE_INVALID_STATUS"),
        ("voided", "INVALID_REQUEST_BODY"),
    ]
    for body, code in cases:
        r = attacker.put(f"/envelopes/{envelope_id}", json=body)
        assert r.status_code == 400 and r.json()["errorCode"] == code, (body, r.text)
    assert good.get(f"/envelopes/{envelope_id}").json()["status"] == "sent"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(junk=st.binary(min_size=1, max_size=512))
def test_raw_garbage_on_the_socket(shared: VenueThread, good: httpx.Client, junk: bytes) -> None:
    venue = mock_of(shared)
    with socket.create_connection((venue.host, venue.port), timeout=2) as sock:
        sock.sendall(junk)
        sock.shutdown(socket.SHUT_WR)
        try:
            reply = sock.recv(64)
        except (TimeoutError, ConnectionResetError):
            reply = b""
    assert not reply.startswith(b"HTTP/1.1 5")
    assert good.get("/envelopes", params={"from_date": "2020-01-01", "count": 1}).status_code == 200


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)
KEYS = ["templateId", "templateRoles", "status", "emailSubject", "voidedReason", "documents", "x"]
ROLE = st.fixed_dictionaries({}, optional={k: json_values for k in ("roleName", "name", "email")})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    method=st.sampled_from(["POST", "PUT"]),
    body=st.dictionaries(st.sampled_from(KEYS), json_values | st.lists(ROLE, max_size=3), max_size=4)
    | json_values,
    real_template=st.booleans(),
)
def test_hostile_bodies_never_500(
    shared: VenueThread,
    attacker: httpx.Client,
    good: httpx.Client,
    method: str,
    body: Any,
    real_template: bool,
) -> None:
    if isinstance(body, dict) and real_template:
        body["templateId"] = template_id(shared)
    path = (
        "/envelopes"
        if method == "POST"
        else f"/envelopes/{next(iter(mock_of(shared).ledger.envelopes), 'x')}"
    )
    r = attacker.request(method, path, content=json.dumps(body), headers={"Content-Type": "application/json"})
    assert r.status_code in (200, 201, 400), (r.status_code, r.text[:300])
    if r.status_code == 400:
        assert isinstance(r.json()["errorCode"], str)
    assert good.get("/envelopes", params={"from_date": "2020-01-01", "count": 1}).status_code == 200


QUERY_KEYS = ["from_date", "to_date", "status", "envelope_ids", "count", "start_position", "include", "x"]
QUERY_VALUES = (
    st.text(max_size=30)
    | st.integers().map(str)
    | st.sampled_from(["2020-01-01", "2020-01-01T00:00:00.1234567Z", "any", "sent,voided", "recipients"])
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.dictionaries(st.sampled_from(QUERY_KEYS), QUERY_VALUES, max_size=5))
def test_hostile_poll_queries_never_500(
    shared: VenueThread, attacker: httpx.Client, good: httpx.Client, query: dict[str, str]
) -> None:
    r = attacker.get("/envelopes", params=query)
    assert r.status_code in (200, 400), (r.status_code, r.text[:300])
    if r.status_code == 400:
        assert r.json()["errorCode"] == "INVALID_REQUEST_PARAMETER"
    else:
        assert int(r.json()["resultSetSize"]) == len(r.json().get("envelopes", []))
    assert good.get("/envelopes", params={"from_date": "2020-01-01", "count": 1}).status_code == 200


CONTROL_PATHS = [
    ("PUT", "/docusign/tokens"),
    ("PUT", "/docusign/hmac"),
    ("PUT", "/docusign/retry"),
    ("POST", "/docusign/listeners"),
    ("POST", "/docusign/templates"),
    ("POST", "/docusign/envelopes/ENVELOPE/complete"),
    ("POST", "/faults"),
]
CONTROL_KEYS = ["tokens", "keys", "url", "name", "roles", "emailSubject", "templateId", "reason", "fault",
                "params", "max_attempts", "base_delay_ms", "timeout_ms"]  # fmt: skip


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    target=st.sampled_from(CONTROL_PATHS),
    body=st.dictionaries(st.sampled_from(CONTROL_KEYS), json_values, max_size=3) | json_values,
    listener_id=st.text(max_size=12),
)
def test_hostile_control_requests(
    shared: VenueThread,
    controller: httpx.Client,
    good: httpx.Client,
    target: tuple[str, str],
    body: Any,
    listener_id: str,
) -> None:
    method, path = target
    path = path.replace("ENVELOPE", next(iter(mock_of(shared).ledger.envelopes), "none"))
    r = controller.request(
        method, path, content=json.dumps(body), headers={"Content-Type": "application/json"}
    )
    assert r.status_code in (200, 201, 400, 404, 409), (r.status_code, r.text[:300])
    if r.status_code == 400:
        assert isinstance(r.json()["field"], str)
    gone = controller.delete("/docusign/listeners", params={"configurationId": listener_id})
    assert gone.status_code in (200, 400)
    # put things back so the good client is judged against a working mock
    assert controller.post("/reset").status_code == 204
    still_served(shared, good)

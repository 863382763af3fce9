"""Garbage to the MT5 mock and its control API: a clear error answer, never a 500, others still served."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mocks.mt5 import MT5Mock
from tests.mocks.mt5.conftest import Manager, retcode
from tests.mocks.venue_thread import VenueThread


@pytest.fixture(scope="module")
def shared() -> Iterator[tuple[VenueThread, Manager]]:
    with VenueThread(MT5Mock(seed=3)) as vt:
        good = Manager(vt.url)
        assert retcode(good.handshake()) == "0 Done"
        try:
            yield vt, good
        finally:
            good.close()


@pytest.fixture(scope="module")
def attacker(shared: tuple[VenueThread, Manager]) -> Iterator[Manager]:
    m = Manager(shared[0].url)
    try:
        yield m
    finally:
        m.close()


@pytest.fixture(scope="module")
def controller(shared: tuple[VenueThread, Manager]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=shared[0].control_url, timeout=5) as http:
        yield http


def served(good: Manager) -> bool:
    """The good client still gets answers (after a new handshake, if a reset closed its connection)."""
    if good.get("/api/test/access").status_code == 403:
        assert retcode(good.handshake()) == "0 Done"
    return good.get("/api/user/get", login=500000).status_code == 200


PATHS = ["/api/auth/start", "/api/auth/answer", "/api/test/access", "/api/user/add", "/api/user/get",
         "/api/user/update", "/api/trade/balance", "/api/deal/get", "/api/deal/get_batch",
         "/api/position/get_batch", "/api/", "/", "/API/user/get", "/api/user/get/..",
         "/api/x%00"]  # fmt: skip
KEYS = ["login", "type", "balance", "comment", "from", "to", "ticket", "version", "agent", "srv_rand_answer",
        "cli_rand", "name", "group", "leverage", "pass_main", "check_margin"]  # fmt: skip
text = st.text(max_size=40)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    authenticated=st.booleans(),
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS"]),
    path=st.sampled_from(PATHS),
    query=st.dictionaries(st.sampled_from(KEYS), text | st.integers().map(str), max_size=5),
    body=st.binary(max_size=300) | st.text(max_size=200).map(str.encode),
    content_type=st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain", ""]),
)
def test_hostile_requests(
    shared: tuple[VenueThread, Manager],
    attacker: Manager,
    authenticated: bool,
    method: str,
    path: str,
    query: dict[str, str],
    body: bytes,
    content_type: str,
) -> None:
    good = shared[1]
    if authenticated and attacker.get("/api/test/access").status_code != 200:
        assert retcode(attacker.handshake()) == "0 Done"
    headers = {"Content-Type": content_type} if content_type else {}
    r = attacker.http.request(method, path, params=query, content=body, headers=headers)
    assert r.status_code < 500, (r.status_code, r.text[:200])
    if method != "HEAD":
        assert retcode(r).split(" ", 1)[0].isdigit()  # always a retcode body
    assert served(good)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)
USER_FIELDS = ["Login", "Name", "Group", "Leverage", "PassMain", "PassInvestor", "Email", "Balance", "x"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=st.sampled_from(["/api/user/add", "/api/user/update"]),
    body=st.dictionaries(st.sampled_from(USER_FIELDS), json_values, max_size=6) | json_values,
)
def test_hostile_json_bodies(
    shared: tuple[VenueThread, Manager], attacker: Manager, path: str, body: object
) -> None:
    if attacker.get("/api/test/access").status_code != 200:
        assert retcode(attacker.handshake()) == "0 Done"
    r = attacker.http.post(path, content=json.dumps(body))
    assert r.status_code in (200, 400), (r.status_code, r.text[:200])
    assert retcode(r) in ("0 Done", "3 Invalid parameters", "3004 Login already exists", "13 Not found")
    assert served(shared[1])


def test_non_json_body_and_huge_body(shared: tuple[VenueThread, Manager], attacker: Manager) -> None:
    if attacker.get("/api/test/access").status_code != 200:
        assert retcode(attacker.handshake()) == "0 Done"
    r = attacker.http.post("/api/user/add", content=b"{not json")
    assert r.status_code == 400 and r.json() == {"retcode": "3 Invalid parameters"}
    huge = b'{"Name": "' + b"x" * (70 * 1024) + b'"}'
    r = attacker.http.post("/api/user/add", content=huge)
    assert r.status_code == 413 and r.json() == {"retcode": "3 Invalid parameters"}
    assert served(shared[1])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(junk=st.binary(min_size=1, max_size=512))
def test_raw_garbage_on_the_socket(shared: tuple[VenueThread, Manager], junk: bytes) -> None:
    vt, good = shared
    with socket.create_connection((vt.venue.host, vt.venue.port), timeout=2) as sock:
        sock.sendall(junk)
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(2)
        try:
            reply = sock.recv(64)
        except (TimeoutError, ConnectionResetError):
            reply = b""
    assert not reply.startswith(b"HTTP/1.1 5")
    assert served(good)


CONFIG_FIELDS = ["managers", "login_first", "login_last", "seeded_users", "tls", "max_body_bytes"]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=st.sampled_from(["/mt5/config", "/faults"]),
    body=st.dictionaries(
        st.sampled_from([*CONFIG_FIELDS, "fault", "params", "count"]), json_values, max_size=4
    )
    | json_values,
)
def test_hostile_control_requests(
    shared: tuple[VenueThread, Manager], controller: httpx.Client, path: str, body: object
) -> None:
    r = controller.post(path, content=json.dumps(body), headers={"Content-Type": "application/json"})
    assert r.status_code in (200, 201, 400), (r.status_code, r.text[:200])
    if r.status_code == 400:
        assert isinstance(r.json()["field"], str)
    assert controller.post("/reset").status_code == 204
    assert served(shared[1])

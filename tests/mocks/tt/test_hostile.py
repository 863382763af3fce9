"""Malformed requests to the TT mock and its control API: never a 500, others keep being served."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mocks.tt import TTConfig, TTMock
from tests.mocks.tt.conftest import TTClient, make_client
from tests.mocks.venue_thread import VenueThread


@pytest.fixture(scope="module")
def shared() -> Iterator[tuple[VenueThread, TTClient]]:
    venue = TTMock(seed=3, config=TTConfig(rate_per_s=100_000, rate_per_day=10**9))
    with VenueThread(venue) as vt:
        good = make_client(vt)
        assert good.get_token().status_code == 200
        try:
            yield vt, good
        finally:
            good.close()


@pytest.fixture(scope="module")
def controller(shared: tuple[VenueThread, TTClient]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=shared[0].control_url, timeout=5) as http:
        yield http


@pytest.fixture(scope="module")
def attacker(shared: tuple[VenueThread, TTClient]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=shared[0].url, timeout=5) as http:
        yield http


SERVICES = ["ttid", "ttaccount", "ttledger", "ttmonitor", "ttpds", "TTLedger", "ttuser", "x", ""]
ENVS = ["ext_uat_cert", "ext_prod_live", "", "..", "%00"]
TAILS = ["token", "accounts", "account", "account/1/risklimits", "fills", "orders", "orders/x", "position",
         "position/abc", "instruments", "instrument/1", "", "a/b/c"]  # fmt: skip
QUERY_KEYS = [
    "requestId",
    "minTimestamp",
    "maxTimestamp",
    "accountId",
    "accountIds",
    "nextPageKey",
    "productId",
]
text = st.text(max_size=30)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]),
    service=st.sampled_from(SERVICES),
    env=st.sampled_from(ENVS),
    tail=st.sampled_from(TAILS),
    query=st.dictionaries(st.sampled_from(QUERY_KEYS), text | st.integers().map(str), max_size=4),
    auth=st.sampled_from(["good", "none", "garbage", "basic"]),
    key=st.sampled_from(["good", "none", "bad"]),
    body=st.binary(max_size=300) | st.text(max_size=200).map(str.encode),
    content_type=st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain", ""]),
)
def test_hostile_requests_to_tt(
    shared: tuple[VenueThread, TTClient],
    attacker: httpx.Client,
    method: str,
    service: str,
    env: str,
    tail: str,
    query: dict[str, str],
    auth: str,
    key: str,
    body: bytes,
    content_type: str,
) -> None:
    good = shared[1]
    headers = {}
    if content_type:
        headers["Content-Type"] = content_type
    if key != "none":
        headers["x-api-key"] = good.app_key if key == "good" else "bad-key"
    if auth == "good":
        headers["Authorization"] = f"Bearer {good.token}"
    elif auth == "garbage":
        headers["Authorization"] = "Bearer \x7f\x01 zz"
    elif auth == "basic":
        headers["Authorization"] = "Basic Zm9vOmJhcg=="
    r = attacker.request(method, f"/{service}/{env}/{tail}", params=query, content=body, headers=headers)
    assert r.status_code < 500, (r.status_code, r.text[:200])
    assert good.get("ttpds", "instruments").status_code == 200


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(junk=st.binary(min_size=1, max_size=512))
def test_raw_garbage_on_the_socket(shared: tuple[VenueThread, TTClient], junk: bytes) -> None:
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
    assert good.get("ttpds", "instruments").status_code == 200


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)
FILL_FIELDS = ["account", "count", "symbol", "start_ns", "step_ns", "x"]
CONFIG_FIELDS = [
    "token_ttl_s", "plan", "rate_per_s", "rate_per_day", "rate_limit_status", "rate_limit_body",
    "rate_limit_retry_after", "redirect", "post_min_interval_s", "post_max_items", "page_size", "env",
]  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=st.sampled_from(["/tt/fills", "/tt/config", "/faults"]),
    body=st.dictionaries(
        st.sampled_from(FILL_FIELDS + CONFIG_FIELDS + ["fault", "params"]), json_values, max_size=4
    )
    | json_values,
)
def test_hostile_control_requests(
    shared: tuple[VenueThread, TTClient], controller: httpx.Client, path: str, body: object
) -> None:
    good = shared[1]
    control = controller
    r = control.post(path, content=json.dumps(body), headers={"Content-Type": "application/json"})
    assert r.status_code in (200, 201, 400), (r.status_code, r.text[:200])
    if r.status_code == 400:
        assert isinstance(r.json()["field"], str)
    # put things back (faults, settings, data) so the good client is judged against a working venue
    assert control.post("/reset").status_code == 204
    if good.get("ttpds", "instruments").status_code == 401:
        assert good.get_token().status_code == 200
    assert good.get("ttpds", "instruments").status_code == 200

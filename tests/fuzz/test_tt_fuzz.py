"""The TT mock's request parsing under 10,000 malformed requests, in-process, and a few hundred live.

In-process, requests go through aiohttp's test client to the mock's own application (gateway middleware,
token service, JSON bodies, query parameters) on a private loop. Each starts from a request a documented
TT client would send and is broken a little: the token form (`grant_type=user_app&app_key=KEY:SECRET`)
truncated or re-encoded, account and risk-limit JSON with wrong types, unknown keys, huge numbers and deep
nesting, query parameters that are not integers, requestIds and bearer tokens that are almost right.

What the mock must answer (endpoints.py, gateway.py, auth.py): never a 5xx, never an exception logged;
an error is a 4xx whose JSON body carries a `message` (TT's shape), or aiohttp's own `NNN: Reason` text
for a route or method that does not exist and a body over the size limit. A well-formed client on its
own connection keeps getting its instruments and new tokens throughout and afterwards.

The live test sends a few hundred of the same requests, byte-mutated as whole HTTP messages (request
line and headers included), over real sockets while a bystander is served on another connection.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import aiohttp
import httpx
import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import example, given

from mocks.tt import TTConfig, TTMock
from tests.mocks.venue_thread import VenueThread

from . import gen as st
from .gen import seeded
from .mutate import (
    FUZZ,
    LIVE,
    MIN_EXAMPLES,
    Tally,
    apply_ops,
    byte_ops,
    deep,
    error_records,
    event_loop,
    mutated_json,
)

pytestmark = pytest.mark.fuzz

ENV = "ext_uat_cert"
LOGGERS = ("aiohttp.server", "aiohttp.web", "aiohttp.access", "mocks.tt", "mocks.common", "asyncio")
ALLOWED = {200, 400, 401, 403, 404, 405, 413}


class Request:
    """One HTTP request, as data: what the strategies build and both suites send."""

    def __init__(
        self, method: str, path: str, query: list[tuple[str, str]], headers: dict[str, str], body: bytes
    ):
        self.method, self.path, self.query, self.headers, self.body = method, path, query, headers, body

    def __repr__(self) -> str:
        return f"Request({self.method} {self.path} {self.query} {self.headers} {self.body[:200]!r})"

    def wire(self, host: str) -> bytes:
        """The request as bytes on a socket (for the live test)."""
        target = quote(self.path, safe="/%") + (
            "?" + "&".join(f"{quote(k)}={quote(v)}" for k, v in self.query) if self.query else ""
        )
        lines = [f"{self.method} {target} HTTP/1.1", f"Host: {host}", "Connection: close"]
        lines += [f"{k}: {v}" for k, v in self.headers.items()]
        lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


# -- strategies -------------------------------------------------------------------------------------
WEIRD_QUERY = ["", "-1", "0", "1e3", "1.5", "0x10", " 1", "1_000", "٣", "9" * 30, "9" * 5000, "NaN", "%00",
               "a,b,,", ",", "\x00", "é", "true", "[]", "null"]  # fmt: skip
query_values = st.sampled_from(WEIRD_QUERY) | st.integers().map(str) | st.text(max_size=12)
QUERY_KEYS = ["minTimestamp", "maxTimestamp", "accountId", "accountIds", "nextPageKey", "productId",
              "orderId", "requestId", "ttRedirected", "x"]  # fmt: skip
REQUEST_IDS = ["stackuat-firm--0f8e", "stackuat-firm--", "stackuat--guid", "-firm--g", "a-b--c d", "a-b--c$",
               "a-b--é", "a-b--" + "g" * 300, "", "a-b--c\x7f", "a-b----"]  # fmt: skip
GETS = ["ttaccount/{env}/accounts", "ttaccount/{env}/account/{id}", "ttaccount/{env}/account/{id}/risklimits",
        "ttledger/{env}/fills", "ttledger/{env}/orders", "ttledger/{env}/orders/{id}",
        "ttledger/{env}/orderdata", "ttmonitor/{env}/position", "ttmonitor/{env}/position/{id}",
        "ttpds/{env}/instruments", "ttpds/{env}/instrument/{id}"]  # fmt: skip
IDS = ["1", "0", "-1", "999999999999999999999", "x", "%2e%2e", "..", "é", "%ff", "a" * 500, " ", "1%00"]
ENVS = [ENV, ENV, ENV, ENV, "ext_prod_live", "EXT_UAT_CERT", "", "%00"]
SERVICES_CASE = ["ttaccount", "TTAccount", "ttuser", "nope"]
CONTENT_TYPES = ["application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=bogus",
                 "application/json", "text/plain", "", "multipart/form-data; boundary=x"]  # fmt: skip
AUTH = ["good", "good", "good", "none", "Bearer", "Bearer ", "bearer GOOD", "Basic Zm9vOmJhcg==",
        "Bearer 0000", "Bearer GOOD0", "Bearer \t GOOD", "GOOD", "Bearer GOOD GOOD"]  # fmt: skip

valid_account = st.fixed_dictionaries(
    {"name": st.sampled_from(["desk-1", "trader 2", "é"]), "description": st.just("d")},
    optional={"parentId": st.sampled_from(["1", 1, None])},
)
account_bodies = st.one_of(
    valid_account,
    st.lists(valid_account, min_size=1, max_size=3),
    st.fixed_dictionaries({"accounts": st.lists(valid_account, min_size=1, max_size=3)}),
)
valid_limit = st.fixed_dictionaries(
    {},
    optional={
        "productId": st.sampled_from([1, "ES"]),
        "maxOrderQty": st.sampled_from([0, 10, 2.5]),
        "maxPosition": st.just(5),
        "maxLongShort": st.just(5),
        "creditLimit": st.just(1000.0),
    },
)
limit_bodies = st.one_of(
    st.fixed_dictionaries({"riskLimits": st.lists(valid_limit, max_size=3)}),
    st.lists(valid_limit, max_size=3),
)
FORM = "grant_type=user_app&app_key={key}:{secret}"
form_edits = st.sampled_from([
    "", "grant_type=user_app", "app_key={key}:{secret}", FORM + "&grant_type=user_app", FORM + "&app_key=x:y",
    "grant_type=client_credentials&app_key={key}:{secret}", "grant_type=user_app&app_key={key}",
    "grant_type=user_app&app_key={key}:", "grant_type=user_app&app_key=:{secret}",
    "grant_type=user_app&app_key=%zz",
    "grant_type=user_app&app_key={key}%3A{secret}", "grant_type=user_app&app_key={key}:{secret}%ff",
    "grant_type=user%5Fapp&app_key={key}:{secret}", "grant_type&app_key", "&&&=&=", "a=" + "b" * 5000,
    FORM.replace("&", ";"), FORM + "&" + "x=1&" * 300,
])  # fmt: skip


class S:
    """The request's parts, built once (building strategies inside the composite is the slow part)."""

    kind = st.sampled_from(["token", "token", "create", "limits", "query", "query", "auth", "method"])
    env = st.sampled_from(ENVS)
    key_mode = st.sampled_from(["good"] * 6 + ["none", "bad", "upper"])
    mutate_form = st.booleans()
    form_ops = st.lists(byte_ops, min_size=1, max_size=3)
    content_type = st.sampled_from(CONTENT_TYPES[:2] * 3 + CONTENT_TYPES)
    auth = st.sampled_from(AUTH)
    request_id = st.sampled_from(REQUEST_IDS) | st.text(max_size=10)
    accounts = mutated_json(account_bodies)
    limits = mutated_json(limit_bodies)
    account = st.sampled_from(["{id}"] * 4 + IDS)
    get = st.sampled_from(GETS)
    method = st.sampled_from(["PUT", "DELETE", "PATCH", "POST", "OPTIONS", "HEAD"])
    junk = st.binary(max_size=32)
    query = st.lists(st.tuples(st.sampled_from(QUERY_KEYS), query_values), min_size=1, max_size=4)
    rename = st.integers(0, 7)
    service = st.sampled_from(SERVICES_CASE)


@st.composite
def tt_requests(draw: st.DrawFn) -> tuple[str, Request]:
    kind = draw(S.kind)
    env = draw(S.env)
    headers = {"x-api-key": "KEY"}
    key_mode = draw(S.key_mode)
    if key_mode == "none":
        del headers["x-api-key"]
    elif key_mode == "bad":
        headers["x-api-key"] = "KEY0"
    elif key_mode == "upper":
        headers["X-API-KEY"] = headers.pop("x-api-key")
    query: list[tuple[str, str]] = []
    if kind == "token":
        body = draw(form_edits).encode()
        if draw(S.mutate_form):
            body = apply_ops(FORM.encode(), draw(S.form_ops))
        ctype = draw(S.content_type)
        if ctype:
            headers["Content-Type"] = ctype
        return kind, Request("POST", f"/ttid/{env}/token", query, headers, body)
    headers["Authorization"] = draw(S.auth) if kind == "auth" else "good"
    query.append(("requestId", draw(S.request_id) if kind == "auth" else "stackuat-firm--0f8e"))
    if kind == "create":
        headers["Content-Type"] = "application/json"
        return kind, Request("POST", f"/ttaccount/{env}/account", query, headers, draw(S.accounts))
    account = draw(S.account)
    if kind == "limits":
        headers["Content-Type"] = "application/json"
        path = f"/ttaccount/{env}/account/{account}/risklimits"
        return kind, Request("POST", path, query, headers, draw(S.limits))
    path = "/" + draw(S.get).format(env=env, id=account)
    if kind == "method":
        return kind, Request(draw(S.method), path, query, headers, draw(S.junk))
    if kind == "query":
        query += draw(S.query)
        if draw(S.rename) == 0:
            path = path.replace("ttaccount", draw(S.service), 1)
    return kind, Request("GET", path, query, headers, b"")


REQUESTS = tt_requests()
FORM_HEADERS = {"x-api-key": "KEY", "Content-Type": "application/x-www-form-urlencoded"}


def _create(body: bytes) -> tuple[str, Request]:
    headers = {"x-api-key": "KEY", "Authorization": "good", "Content-Type": "application/json"}
    return "create", Request("POST", f"/ttaccount/{ENV}/account", [("requestId", "a-b--c")], headers, body)


def _bind(request: Request, venue: TTMock, token: str, account: str) -> Request:
    """Fill the placeholders with the running mock's key, secret, token and an account id."""
    key, secret = venue.config.app_key, venue.config.app_secret

    def sub(text: str) -> str:
        return text.replace("{key}", key).replace("{secret}", secret).replace("{id}", account)

    headers = {}
    for name, value in request.headers.items():
        value = value.replace("KEY", key)
        if name == "Authorization":
            value = f"Bearer {token}" if value == "good" else value.replace("GOOD", token)
        headers[name] = value
    body = request.body.replace(b"{key}", key.encode()).replace(b"{secret}", secret.encode())
    query = [(k, sub(v)) for k, v in request.query]
    return Request(request.method, sub(request.path), query, headers, body)


def check_answer(status: int, content_type: str, body: bytes, request: Request) -> str:
    """The shape every answer must have; returns a short name for the tally."""
    assert status in ALLOWED, (status, body[:300], request)
    if request.method == "HEAD":  # the same status, no body
        return str(status)
    if status == 200:
        payload = json.loads(body)
        assert payload["status"] == "Ok", payload
        return "200"
    if content_type == "application/json":
        payload = json.loads(body)
        assert isinstance(payload["message"], str) and payload["message"], payload
        assert payload.get("status", "Failed") == "Failed", payload
        return str(status)
    # aiohttp's own answers: a request line over its 8 KiB limit, no such route or method, a body
    # over the size limit. Each says what is wrong.
    text = body.decode()
    if status == 400:
        assert sum(len(k) + len(v) for k, v in request.query) > 4000, (body[:300], request)
        assert text.startswith("Got more than 8190 bytes"), text[:300]
    elif status == 413:
        assert text.startswith("Maximum request body size"), text[:300]
    else:
        assert status in (404, 405) and text.startswith(f"{status}: "), (status, text[:300], request)
    return f"{status}-aiohttp"


# -- the in-process suite ---------------------------------------------------------------------------
def test_tt_parsers_survive_10k_malformed_requests() -> None:
    with event_loop() as loop, error_records(*LOGGERS) as errors:
        venue = TTMock(seed=3, config=TTConfig(rate_per_s=10**9, rate_per_day=10**12))
        client, bystander = loop.run_until_complete(_clients(venue))
        try:
            _in_process(loop, venue, client, bystander, errors)
        finally:
            loop.run_until_complete(bystander.close())
            loop.run_until_complete(client.close())


async def _clients(venue: TTMock) -> tuple[TestClient[Any, Any], aiohttp.ClientSession]:
    """The fuzzing client and, on its own connection pool, the bystander."""
    client: TestClient[Any, Any] = TestClient(TestServer(venue.app))
    await client.start_server()
    return client, aiohttp.ClientSession()


def _in_process(
    loop: asyncio.AbstractEventLoop,
    venue: TTMock,
    client: TestClient[Any, Any],
    bystander: aiohttp.ClientSession,
    errors: Any,
) -> None:
    tally = Tally()
    state: dict[str, str] = {}

    def run(coro: Any) -> Any:
        return loop.run_until_complete(coro)

    async def token(http: aiohttp.ClientSession) -> str:
        key, secret = venue.config.app_key, venue.config.app_secret
        async with http.post(
            client.make_url(f"/ttid/{ENV}/token"),
            data=f"grant_type=user_app&app_key={key}:{secret}",
            headers={"x-api-key": key, "Content-Type": "application/x-www-form-urlencoded"},
        ) as r:
            assert r.status == 200, await r.text()
            value: str = (await r.json())["access_token"]
            return value

    async def instruments(http: aiohttp.ClientSession, bearer: str) -> None:
        async with http.get(
            client.make_url(f"/ttpds/{ENV}/instruments"),
            params={"requestId": "stackuat-firm--check"},
            headers={"x-api-key": venue.config.app_key, "Authorization": f"Bearer {bearer}"},
        ) as r:
            assert r.status == 200, await r.text()
            assert (await r.json())["instruments"]

    def bystander_served() -> None:
        run(instruments(bystander, state["bystander"]))
        assert run(token(bystander))

    async def send(request: Request) -> tuple[int, str, bytes]:
        async with client.request(
            request.method,
            request.path,
            params=request.query,
            headers=request.headers,
            data=io.BytesIO(request.body) if len(request.body) > 1 << 20 else request.body,
        ) as r:
            return r.status, r.content_type, await r.read()

    state["token"] = run(token(client.session))
    state["bystander"] = run(token(bystander))
    state["account"] = str(next(iter(venue.state.accounts)))
    bystander_served()

    @FUZZ
    @given(case=seeded(REQUESTS))
    # a parentId that is a list or an object once reached a dict lookup and answered 500 (unhashable)
    @example(case=_create(b'{"name": "desk", "parentId": [1]}'))
    @example(case=_create(b'[{"name": "desk", "parentId": {"id": 1}}]'))
    @example(case=_create(deep("[", 3000)))
    @example(case=_create(b"{" * 200_000))
    @example(case=_create(b"[" + b"1," * 2_200_000 + b"1]"))  # over the 4 MiB limit: 413
    @example(case=_create(b'{"name": "\\ud800", "parentId": 1e999}'))
    @example(case=("token", Request("POST", f"/ttid/{ENV}/token", [], FORM_HEADERS, FORM.encode() + b"\xff")))
    def fuzz(case: tuple[str, Request]) -> None:
        kind, raw = case
        request = _bind(raw, venue, state["token"], state["account"])
        status, content_type, body = run(send(request))
        tally.add(f"{kind}:{check_answer(status, content_type, body, request)}")
        assert not errors.take(), request
        if tally.total % 500 == 0:
            bystander_served()
            if len(venue.state.accounts) > 2000:  # keep list endpoints small: start over, same seed
                run(venue.reset())
                state["token"] = run(token(client.session))
                state["bystander"] = run(token(bystander))
                state["account"] = str(next(iter(venue.state.accounts)))

    fuzz()
    bystander_served()
    assert not errors.take()
    print(f"\ntt in-process: {tally.total} requests {dict(sorted(tally.kinds.items()))}")
    assert tally.total >= MIN_EXAMPLES
    for kind in ("token", "create", "limits", "query", "auth", "method"):
        assert sum(n for k, n in tally.kinds.items() if k.startswith(kind)) >= 300, tally.kinds
    assert sum(n for k, n in tally.kinds.items() if k.endswith(":400")) >= 1000, tally.kinds


# -- live, over real sockets ------------------------------------------------------------------------
@pytest.fixture
def live_tt() -> Iterator[VenueThread]:
    with VenueThread(TTMock(seed=3, config=TTConfig(rate_per_s=10**9, rate_per_day=10**12))) as vt:
        yield vt


def _token(http: httpx.Client, venue: TTMock) -> str:
    key, secret = venue.config.app_key, venue.config.app_secret
    r = http.post(
        f"/ttid/{ENV}/token",
        content=f"grant_type=user_app&app_key={key}:{secret}",
        headers={"x-api-key": key, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 200, r.text
    value: str = r.json()["access_token"]
    return value


def _exchange(host: str, port: int, data: bytes) -> bytes:
    with socket.create_connection((host, port), timeout=3) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def test_tt_live_malformed_requests_and_a_bystander(live_tt: VenueThread) -> None:
    venue = live_tt.venue
    assert isinstance(venue, TTMock)
    tally = Tally()
    host = f"{venue.host}:{venue.port}"
    with error_records(*LOGGERS) as errors, httpx.Client(base_url=venue.url, timeout=5) as good:
        bearer = _token(good, venue)

        def bystander_served() -> None:
            r = good.get(
                f"/ttpds/{ENV}/instruments",
                params={"requestId": "stackuat-firm--live"},
                headers={"x-api-key": venue.config.app_key, "Authorization": f"Bearer {bearer}"},
            )
            assert r.status_code == 200 and r.json()["instruments"], r.text

        @LIVE
        @given(case_and_ops=seeded(st.tuples(REQUESTS, st.lists(byte_ops, max_size=2))))
        def fuzz(case_and_ops: tuple[tuple[str, Request], list[tuple[Any, ...]]]) -> None:
            case, ops = case_and_ops
            request = _bind(case[1], venue, bearer, str(next(iter(venue.state.accounts))))
            data = apply_ops(request.wire(host), ops)  # the whole HTTP message, headers included
            reply = _exchange(venue.host, venue.port, data)
            tally.add("request")
            if reply:  # aiohttp may drop a connection whose request line it cannot read: a close
                head = reply.split(b"\r\n", 1)[0]
                assert re.fullmatch(rb"HTTP/1\.[01] [24]\d\d .*", head), (head, data[:300])
            assert not errors.take(), data[:300]
            if tally.total % 10 == 0:
                bystander_served()

        fuzz()
        bystander_served()
        assert _token(good, venue)
        assert not errors.take()
    print(f"\ntt live: {tally.total} requests")
    assert tally.total >= 300

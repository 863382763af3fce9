"""The embedded Toxiproxy's HTTP API under 10,000 malformed requests, in-process, and a few hundred live.

The server (harness/faults/embedded) is a low-level aiohttp `web.Server` around `ToxiproxyApi`, not an
application; in-process, aiohttp's test client drives a `RawTestServer` of that same handler on a private
loop. Each request starts from one a Toxiproxy client would send and is broken a little: proxy bodies for
POST /proxies, arrays for POST /populate, toxic bodies for POST /proxies/{p}/toxics (the extension types
packet_loss and corrupt with attributes outside their ranges included), PATCH and POST updates of proxies
and toxics, objects with duplicate and case-folded keys, odd paths and methods; then JSON mutations (wrong
types, unknown keys, huge numbers, deep nesting) and byte mutations (truncation, invalid UTF-8).

What the server must answer (api.py, errors.py, reference §1): never an exception logged, and a 500 only
where Toxiproxy answers one, for a listen address that does not parse, resolve or bind, with Go's words;
every other error is Toxiproxy's body `{"error": msg, "status": code}` and a newline (text/plain), or
/populate's own JSON with the proxies done so far; an unknown path gets `404 page not found`, a known one
with the wrong method an empty 405, a browser a 403. Toxics it accepts stay within their ranges. A bystander
proxy in front of an echo server keeps echoing, on a connection opened at the start and on new ones, and
GET /version and GET /proxies keep answering.

Fuzzed `listen` addresses are harmless: every body sent where a proxy can be created or updated (and
every live one) is decoded as the server will decode it, as a create, a populate and an update alike;
one that would bind anything but 127.0.0.1 port 0 (or an address that does not parse) has its listen
pinned to 127.0.0.1:0. Fuzz proxies are swept (deleted, then
POST /reset) every few hundred requests, so listeners do not pile up.

The live test sends a few hundred of the same requests, their request line and headers byte-mutated,
and raw broken requests, over real sockets to a running EmbeddedToxiproxy while the bystander echoes.
"""

from __future__ import annotations

import asyncio
import io
import json
import random
import re
import socket
import socketserver
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, cast
from urllib.parse import quote, unquote

import httpx
import pytest
from aiohttp.test_utils import RawTestServer, TestClient
from hypothesis import example, given
from yarl import URL

from harness.faults.embedded import VERSION, ApiError, EmbeddedToxiproxy, errors, extensions, gojson
from harness.faults.embedded.api import ToxiproxyApi
from harness.faults.embedded.collection import ProxyCollection, ProxyInput
from harness.faults.embedded.gofields import INT64_MAX, INT64_MIN
from harness.faults.embedded.proxy import split_host_port
from harness.faults.embedded.toxics import TOXIC_TYPES

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

LOGGERS = ("aiohttp.server", "aiohttp.web", "harness.toxiproxy", "asyncio")
SAFE_LISTEN = "127.0.0.1:0"
BYSTANDER = "bystander"
FIXTURE = "fz"  # a fuzz proxy with one toxic of several types, so updates reach the decoders
FIXTURE_TOXICS: list[dict[str, Any]] = [
    {"name": "lat", "type": "latency", "attributes": {"latency": 5, "jitter": 1}},
    {"name": "loss", "type": "packet_loss", "stream": "upstream", "attributes": {"bad_loss_ppm": 1000}},
    {"name": "bits", "type": "corrupt", "attributes": {"byte_ppm": 10}},
    {"name": "slice", "type": "slicer", "stream": "upstream", "attributes": {"average_size": 8}},
    {"name": "cap", "type": "limit_data", "attributes": {"bytes": 1 << 20}},
    {"name": "tmo", "type": "timeout", "toxicity": 0, "attributes": {"timeout": 10}},
]
# Inclusive bounds every accepted toxic must keep (toxics.py enforces these; None: unbounded).
RANGES: dict[str, dict[str, tuple[int, int | None]]] = {
    **extensions.RANGES,
    "slicer": {"average_size": (1, None)},
    "bandwidth": {"rate": (0, None)},
}
TOXIPROXY_ERRORS = {
    400: re.compile(
        "bad request body: .+|missing required field: (name|upstream)( at proxy [1-9][0-9]*)?|"
        + re.escape(errors.INVALID_STREAM)
        + "|"
        + re.escape(errors.INVALID_TOXIC_TYPE),
        re.S,
    ),
    404: re.compile(f"{errors.PROXY_NOT_FOUND}|{errors.TOXIC_NOT_FOUND}"),
    409: re.compile(f"{errors.PROXY_EXISTS}|{errors.TOXIC_EXISTS}"),
    # Toxiproxy's only 500s: a listen address that does not parse, resolve or bind (Go's words).
    500: re.compile(
        r"(listen tcp: |listen tcp \S+: bind: )?(address |lookup ).+|listen tcp \S+: bind: .+", re.S
    ),
}
BINDING = re.compile(r"/proxies|/populate|/reset|/proxies/[^/]+")  # the routes that may bind


# -- strategies -------------------------------------------------------------------------------------
# Valid bodies come from fixed pools built here, so hypothesis picks one in a single draw and spends
# its draws on breaking it (a body built field by field costs dozens of draws, the time of a request).
_rng = random.Random(8474)
NAMES = [FIXTURE, "fz-1", "fz-1", "fz_2", "Fz", "fz.3", "fé", "fz 4", "fz/5", "fz%6", "fz?7", "",
         "fz-" + "x" * 200]  # fmt: skip
LISTENS = [SAFE_LISTEN] * 6 + ["127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:" + "9" * 25,
           "127.0.0.1:nope", "127.0.0.1", "127.0.0.1:0:0", "[127.0.0.1]:0", "127.0.0.1:00"]  # fmt: skip
# Upstreams are never dialled: nothing connects to a fuzz proxy.
UPSTREAMS = ["127.0.0.1:9", "127.0.0.1:9", "localhost:9", "upstream.invalid:80", "[::1]:9", "127.0.0.1", "",
             ":9"]  # fmt: skip
TOXIC_NAMES = [t["name"] for t in FIXTURE_TOXICS] + ["latency_downstream", "packet_loss_upstream", "nope"]
STREAMS = ["downstream", "upstream", "UpStream", "DOWNSTREAM"] * 2 + ["", "sideways"]
TOXICITIES = [0, 1, 0.5, 1.0, -1, 2, 1e-45, 3.4e38, 3.5e38, 10**40]
ATTRIBUTE_VALUES = [0, 1, 5, 100, 1448, 10**6, 10**6 + 1, -1, 2**31, INT64_MAX, INT64_MAX + 1, INT64_MIN,
                    INT64_MIN - 1, 10**30]  # fmt: skip
ALL_ATTRIBUTES = sorted({key for _, keys in TOXIC_TYPES.values() for key in keys})
# The extensions four times over: their ranges are the checks Toxiproxy does not have.
TYPE_CHOICES = [*TOXIC_TYPES, *sorted(extensions.EXTENSION_TYPES) * 4, "bogus", "LATENCY", ""]


def _attribute(toxic_type: str, key: str) -> int:
    low, high = RANGES.get(toxic_type, {}).get(key, (None, None))
    roll = _rng.random()
    if low is not None and roll < 0.4:  # just outside the range
        return _rng.choice([low - 1, (high if high is not None else INT64_MAX) + 1])
    return _rng.choice(ATTRIBUTE_VALUES) if roll < 0.6 else _rng.randint(-5, 2_000_000)


def _attributes(toxic_type: str) -> dict[str, int]:
    keys = list(TOXIC_TYPES[toxic_type][1]) if toxic_type in TOXIC_TYPES else ALL_ATTRIBUTES
    return {key: _attribute(toxic_type, key) for key in _rng.sample(keys, _rng.randint(0, len(keys)))}


def _optional(body: dict[str, Any], chance: float, key: str, value: Any) -> dict[str, Any]:
    if _rng.random() < chance:
        body[key] = value
    return body


def _proxy_body() -> dict[str, Any]:
    body = {"name": _rng.choice(NAMES), "listen": _rng.choice(LISTENS), "upstream": _rng.choice(UPSTREAMS)}
    return _optional(body, 0.4, "enabled", _rng.random() < 0.7)


def _proxy_patch() -> dict[str, Any]:
    body: dict[str, Any] = {}
    for key, values in (
        ("listen", LISTENS),
        ("upstream", UPSTREAMS),
        ("enabled", [True, False]),
        ("name", NAMES),
    ):
        _optional(body, 0.5, key, _rng.choice(values))
    return body


def _toxic_body() -> dict[str, Any]:
    toxic_type = _rng.choice(TYPE_CHOICES)
    body: dict[str, Any] = {"type": toxic_type}
    # Mostly a fresh name: a taken one is refused (409) before the attributes are decoded.
    fresh = f"t{_rng.randrange(10**9)}"
    _optional(body, 0.9, "name", fresh if _rng.random() < 0.8 else _rng.choice([*TOXIC_NAMES, ""]))
    _optional(body, 0.5, "stream", _rng.choice(STREAMS))
    _optional(body, 0.4, "toxicity", _rng.choice(TOXICITIES))
    return _optional(body, 0.85, "attributes", _attributes(toxic_type))


def _toxic_patch() -> dict[str, Any]:
    body: dict[str, Any] = {}
    # The fixture's toxics include one of each extension: their keys most often, so ranges are hit.
    toxic_type = _rng.choice([*sorted(extensions.EXTENSION_TYPES), _rng.choice(TYPE_CHOICES)])
    _optional(body, 0.85, "attributes", _attributes(toxic_type))
    return _optional(body, 0.4, "toxicity", _rng.choice(TOXICITIES))


POOLS: dict[str, list[Any]] = {
    "create": [_proxy_body() for _ in range(256)],
    "populate": [[_proxy_body() for _ in range(_rng.randint(0, 4))] for _ in range(128)],
    "toxic": [_toxic_body() for _ in range(1024)],
    "toxic_update": [_toxic_patch() for _ in range(512)],
    "proxy_update": [_proxy_patch() for _ in range(256)],
}

# Objects written by hand, so keys repeat (Go decodes every occurrence) and differ only in case.
DUPE_KEYS = ["name", "Name", "NAME", "listen", "Listen", "upstream", "enabled", "type", "Type", "stream",
             "toxicity", "attributes", "Attributes", "x"]  # fmt: skip
DUPE_ATTRIBUTES = ["latency", "LATENCY", "segment_size", "good_loss_ppm", "rto_ms", "byte_ppm",
                   "average_size", "rate", "bytes", "seed"]  # fmt: skip
DUPE_VALUES = ['"fz-1"', '"fz"', '"127.0.0.1:0"', '"127.0.0.1:99999"', '"127.0.0.1:9"', '"packet_loss"',
               '"corrupt"', '"latency"', '"upstream"', '"UPSTREAM"', "true", "false", "null", "1", "0", "0.5",
               "100.0", "1e999", "-1", "1000001", "18446744073709551616", '""', "[]", "{}", '"\\ud800"',
               '"\\u0000"']  # fmt: skip


def _object_text(pairs: list[tuple[str, str]]) -> str:
    return "{" + ",".join(f"{json.dumps(key)}:{value}" for key, value in pairs) + "}"


_DUPE_ATTRIBUTE_OBJECTS = [
    _object_text(
        [(_rng.choice(DUPE_ATTRIBUTES), _rng.choice(DUPE_VALUES)) for _ in range(_rng.randint(1, 5))]
    )
    for _ in range(64)
]
DUPE_PAIRS = [(key, value) for key in DUPE_KEYS for value in DUPE_VALUES] + [
    (key, text) for key in ("attributes", "Attributes", "ATTRIBUTES") for text in _DUPE_ATTRIBUTE_OBJECTS
]

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE")
METHODS = [*HTTP_METHODS, "FOO", "get"]
ODD_PATHS = ["/", "/proxies/", "/PROXIES", "/proxies/{p}/", "/proxies/{p}/toxics/",
             "/proxies/{p}/toxics/{t}/", "/proxies/{p}/toxics/{t}/x", "/proxies/{p}/Toxics", "/version/",
             "/Version", "/metrics", "/reset", "/reset/", "/populate", "/populate/", "/proxies/{p}/{t}",
             "/proxies/{p}/toxics/{t}", "/proxies/{p}", "/proxies/{p}/toxics", "/version", "/proxies",
             "/proxies;x", "/proxies?x=1", "/proxies/{p}?x", "/%70roxies", "/proxies%2F{p}",
             "/proxies/{p}%2Ftoxics", "/./proxies", "/proxies/../version", "//proxies", "/proxies//toxics",
             "/proxies/{p}/toxics//"]  # fmt: skip
ODD_BODIES = [b"", b"{}", b"[]", b"null", b"\xff", b'{"type":"noop"}', b'{"enabled":true}',
              b'{"name":"fz-1","listen":"127.0.0.1:0","upstream":"127.0.0.1:9"}']  # fmt: skip
TARGETS = [FIXTURE] * 24 + [quote(n, safe="") for n in ("fz-1", "Fz", "nope", "fé", "fz 4", "fz?7")] + [
    "%ff", "%2F", "..", ".", "%2e%2e", "%00", "fz%2F5", "fz%256", "%66%7a"]  # fmt: skip
TOXIC_TARGETS = [quote(n) for n in TOXIC_NAMES] * 3 + ["%ff", "..", "%2F", "lat%00"]
UPDATE_METHODS = ["PATCH", "PATCH", "POST"]  # POST is Toxiproxy's deprecated spelling of PATCH
ROUTES: dict[str, list[tuple[str, str]]] = {
    "create": [("POST", "/proxies")],
    "populate": [("POST", "/populate")],
    "toxic": [("POST", f"/proxies/{p}/toxics") for p in TARGETS],
    "toxic_update": [
        (m, f"/proxies/{p}/toxics/{t}") for m in UPDATE_METHODS for p in TARGETS for t in TOXIC_TARGETS
    ],
    "proxy_update": [(m, f"/proxies/{p}") for m in UPDATE_METHODS for p in TARGETS],
}
ROUTES["path"] = [
    (m, path.replace("{p}", p).replace("{t}", t))
    for m in METHODS
    for path in ODD_PATHS
    for p in [FIXTURE, FIXTURE, "nope", "%ff", ".."]
    for t in ["lat", "loss", "nope", "%2e"]
]
BROWSERS = ["Mozilla/5.0 (X11; Linux x86_64)", "Mozilla/", "mozilla/5.0", "Wget/1.21", " Mozilla/5.0"]


class Request:
    """One API request as data; `path` is already percent-encoded, as it goes on the wire."""

    def __init__(self, kind: str, method: str, path: str, body: bytes, agent: str = "toxiproxy-fuzz") -> None:
        self.kind, self.method, self.path, self.body, self.agent = kind, method, path, body, agent

    def __repr__(self) -> str:
        return f"Request({self.kind}: {self.method} {self.path} UA={self.agent!r} {self.body[:300]!r})"

    def head(self, host: str) -> bytes:
        lines = [f"{self.method} {self.path or '/'} HTTP/1.1", f"Host: {host}", f"User-Agent: {self.agent}",
                 "Connection: close", f"Content-Length: {len(self.body)}"]  # fmt: skip
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")


BODY_KINDS = ["create", "populate", "toxic", "toxic_update", "proxy_update"]


class S:
    """The parts of a request, built once (building strategies inside the composite is the slow part)."""

    # The rare kinds first: hypothesis favours the front of a list a little.
    kind = st.sampled_from(["path"] * 5 + ["browser"] + ["dupes"] * 3 + ["create"] * 6 + ["populate"] * 6
                           + ["toxic"] * 12 + ["toxic_update"] * 6 + ["proxy_update"] * 6)  # fmt: skip
    routes = {kind: st.sampled_from(routes) for kind, routes in ROUTES.items()}
    mutated = {kind: mutated_json(st.sampled_from(POOLS[kind])) for kind in BODY_KINDS}
    intact = {
        kind: st.sampled_from([json.dumps(body).encode() for body in POOLS[kind]]) for kind in BODY_KINDS
    }
    intact_or_not = st.booleans()  # True: the valid body as it is, so the deepest checks run too
    dupes = st.lists(st.sampled_from(DUPE_PAIRS), min_size=2, max_size=7).map(_object_text)
    dupes_as = st.sampled_from(BODY_KINDS)
    odd_body = st.sampled_from(ODD_BODIES)
    any_kind = st.sampled_from([*BODY_KINDS, "path"])
    browser = st.sampled_from(BROWSERS)


def _request(kind: str, method: str, path: str, body: bytes, agent: str = "toxiproxy-fuzz") -> Request:
    """Toxic routes never bind, so their bodies skip `harmless` (a dot segment could reroute one)."""
    may_bind = not kind.removeprefix("dupes-").startswith("toxic") or "/." in path
    return Request(kind, method, path, harmless(body) if may_bind else body, agent)


@st.composite
def api_requests(draw: st.DrawFn) -> Request:
    kind = draw(S.kind)
    if kind in ("path", "browser"):
        method, path = draw(S.routes[draw(S.any_kind) if kind == "browser" else kind])
        agent = draw(S.browser) if kind == "browser" else "toxiproxy-fuzz"
        return _request(kind, method, path, draw(S.odd_body), agent)
    if kind == "dupes":
        as_kind = draw(S.dupes_as)
        method, path = draw(S.routes[as_kind])
        body = draw(S.dupes)
        text = f"[{body}]" if as_kind == "populate" else body
        return _request(f"dupes-{as_kind}", method, path, text.encode())
    method, path = draw(S.routes[kind])
    return _request(kind, method, path, draw(S.intact[kind] if draw(S.intact_or_not) else S.mutated[kind]))


REQUESTS = api_requests()


# -- keeping listen addresses harmless ---------------------------------------------------------------
_KEEP = "\x00keep\x00"


class _Current:
    """What an update keeps when its body leaves listen or upstream out."""

    listen = _KEEP
    upstream = _KEEP


def _safe_listen(listen: str) -> bool:
    try:
        host, port = split_host_port(listen)
    except ApiError:
        return True  # refused before anything resolves or binds
    return host == "127.0.0.1" and port == 0


def binds_safely(doc: Any) -> bool:
    """Whether `doc`, sent as a create, a populate or an update, binds only 127.0.0.1 port 0."""
    for item in doc if isinstance(doc, list) else [doc]:
        try:
            spec = ProxyInput.decode(item, defaults=cast(Any, _Current))
        except ApiError:
            continue  # a body that does not decode changes nothing (populate checks every item first)
        if spec.name == BYSTANDER:
            return False
        if spec.listen == _KEEP:
            # An update keeps the proxy's address; a create or populate binds "": every interface.
            if spec.name and spec.upstream not in ("", _KEEP):
                return False
        elif not _safe_listen(spec.listen):
            return False
    return True


def _pin(item: Any) -> Any:
    if not isinstance(item, dict):
        return item
    pairs = [
        (key, SAFE_LISTEN if key.lower() == "listen" else "fz-1" if value == BYSTANDER else value)
        for key, value in gojson.pairs_of(item)
    ]
    if not any(key.lower() == "listen" for key, _ in pairs):
        pairs.append(("listen", SAFE_LISTEN))
    return gojson.GoObject(pairs)


def _encode(value: Any) -> str:
    """JSON text of a decoded body: number literals as sent, repeated keys kept."""
    if isinstance(value, gojson.FloatLiteral):
        return str.__str__(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{_encode(v)}" for k, v in gojson.pairs_of(value)) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_encode(v) for v in value) + "]"
    return json.dumps(value)


def harmless(body: bytes) -> bytes:
    """`body`, or, when the server would bind anything else with it, the same body with every
    listen pinned to 127.0.0.1:0 (and a name that is the bystander's renamed)."""
    try:
        doc = gojson.loads(body)
    except ApiError:
        return body
    if binds_safely(doc):
        return body
    try:
        fixed = _encode([_pin(i) for i in doc] if isinstance(doc, list) else _pin(doc)).encode()
    except RecursionError:
        fixed = b"{}"
    if not binds_safely(gojson.loads(fixed)):
        fixed = b"{}"
    return fixed


# -- what every answer must look like -------------------------------------------------------------------
def _check_toxic(toxic: Any) -> None:
    shape = {"attributes", "name", "type", "stream", "toxicity"}
    if toxic.get("type") in extensions.EFFECTS:  # an extension toxic also counts what it did
        assert set(toxic.get("effects", {})) == set(extensions.EFFECTS[toxic["type"]]), toxic
        assert all(isinstance(n, int) and n >= 0 for n in toxic["effects"].values()), toxic
        shape.add("effects")
    assert set(toxic) == shape, toxic
    assert toxic["type"] in TOXIC_TYPES and toxic["stream"].lower() in ("upstream", "downstream"), toxic
    assert isinstance(toxic["toxicity"], int | float), toxic
    for key, value in toxic["attributes"].items():
        assert isinstance(value, int) and INT64_MIN <= value <= INT64_MAX, toxic
        low, high = RANGES.get(toxic["type"], {}).get(key, (INT64_MIN, None))
        assert low <= value and (high is None or value <= high), ("accepted out of range", toxic)


def _check_proxy(proxy: Any) -> None:
    assert {"name", "listen", "upstream", "enabled", "toxics"} <= set(proxy), proxy
    if proxy["enabled"]:  # a fuzzed listen never binds anything but 127.0.0.1
        host, _, port = proxy["listen"].rpartition(":")
        assert host == "127.0.0.1" and int(port) > 0, proxy
    for toxic in proxy["toxics"]:
        _check_toxic(toxic)


def _check_success(status: int, content_type: str, body: bytes) -> None:
    """A 2xx, told apart by its shape (the path as sent may be encoded or odd: `/%70roxies`)."""
    if status == 204:
        assert body == b"", body[:300]
        return
    if body.startswith(b'{"version"'):
        assert body == f'{{"version": "{VERSION}"}}\n'.encode() and content_type.startswith(
            "application/json"
        )
        return
    assert content_type == "application/json", content_type
    payload = json.loads(body)
    if isinstance(payload, list):  # a proxy's toxics
        for toxic in payload:
            _check_toxic(toxic)
    elif set(payload) == {"proxies"} and not isinstance(payload["proxies"], dict):  # /populate
        assert status == 201, payload
        for proxy in payload["proxies"] or []:
            _check_proxy(proxy)
    elif isinstance(payload.get("upstream"), str):
        _check_proxy(payload)
    elif isinstance(payload.get("type"), str):
        _check_toxic(payload)
    else:  # GET /proxies: name -> proxy
        for proxy in payload.values():
            _check_proxy(proxy)


def check_answer(request: Request, status: int, headers: Mapping[str, str], body: bytes) -> str:
    """The shape every answer must have; returns a short name for the tally."""
    assert status in (200, 201, 204, 400, 403, 404, 405, 409, 500), (status, body[:300], request)
    request_id = headers.get("X-Toxiproxy-Request-Id")
    if request.method.upper() == "HEAD":  # no route takes HEAD, and HEAD answers have no body
        assert status in (404, 405), (status, request)
        return f"{status}-head"
    if status == 405:  # a known path, the wrong method: Go's router answers before the middleware
        assert body == b"" and request_id is None, (body[:300], request)
        return "405"
    if status == 400 and request_id is None and request.method.upper() not in HTTP_METHODS:
        # aiohttp's HTTP parser refuses a method it does not know (Go's takes any token): a 400 of its own
        assert body.startswith(b"Invalid method encountered"), body[:300]
        return "400-http"
    if status == 404 and body == b"404 page not found\n":
        assert request_id is None, request
        return "404-path"
    assert request_id is not None and re.fullmatch("[0-9a-f]{32}", request_id), (headers, request)
    browser = request.agent.strip(" \t").startswith("Mozilla/")  # header values lose their blanks
    if status == 403 or browser:
        assert status == 403 and browser and body == b"User agent not allowed\n", (
            status,
            body[:300],
            request,
        )
        return "403"
    content_type = headers.get("Content-Type", "")
    if status < 400:
        _check_success(status, content_type, body)
        return str(status)
    payload = json.loads(body)
    if request.path.split("?")[0] == "/populate":  # /populate answers errors in its own reply shape
        assert content_type == "application/json" and set(payload) == {"error", "status", "proxies"}, payload
        for proxy in payload["proxies"] or []:
            _check_proxy(proxy)
    else:  # Go's http.Error: the JSON, a newline, and a text/plain content type
        assert content_type == "text/plain; charset=utf-8" and body.endswith(b"}\n"), (content_type, body)
        assert set(payload) == {"error", "status"}, payload
    assert payload["status"] == status and TOXIPROXY_ERRORS[status].fullmatch(payload["error"]), (
        payload,
        request,
    )
    if status == 500:
        assert BINDING.fullmatch(unquote(request.path.split("?")[0])), (payload, request)
        return "500-listen"
    return f"{status}-range" if " must be " in payload["error"] else str(status)


# -- the bystander ------------------------------------------------------------------------------------
async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


def _payload(n: int) -> bytes:
    return bytes((n * 7 + i) % 251 for i in range(1000 + n % 3000))


# -- the in-process suite ---------------------------------------------------------------------------
def test_toxiproxy_api_survives_10k_malformed_requests() -> None:
    with event_loop() as loop, error_records(*LOGGERS) as errors_seen:
        collection = ProxyCollection(seed=11)
        echo = loop.run_until_complete(asyncio.start_server(_echo, "127.0.0.1", 0))

        async def start() -> TestClient[Any, Any]:
            client: TestClient[Any, Any] = TestClient(
                RawTestServer(ToxiproxyApi(collection), access_log=None)
            )
            await client.start_server()
            return client

        client = loop.run_until_complete(start())
        try:
            _in_process(loop, collection, client, echo.sockets[0].getsockname()[1], errors_seen)
        finally:
            loop.run_until_complete(client.close())
            collection.close()
            echo.close()
            loop.run_until_complete(echo.wait_closed())


def _in_process(
    loop: asyncio.AbstractEventLoop,
    collection: ProxyCollection,
    client: TestClient[Any, Any],
    echo_port: int,
    errors_seen: Any,
) -> None:
    tally = Tally()
    base = str(client.make_url("/")).rstrip("/")

    def run(coro: Any) -> Any:
        return loop.run_until_complete(coro)

    async def call(method: str, path: str, body: Any = None) -> tuple[int, Any]:
        async with client.request(method, path, json=body) as r:
            data = await r.read()
        is_json = data and r.content_type.startswith("application/json")
        return r.status, json.loads(data) if is_json else data

    async def send(request: Request) -> tuple[int, Mapping[str, str], bytes]:
        url = URL(base + (request.path or "/"), encoded=True)
        headers = {"User-Agent": request.agent}
        data = io.BytesIO(request.body) if len(request.body) > 1 << 20 else request.body
        async with client.session.request(request.method, url, headers=headers, data=data) as r:
            return r.status, r.headers, await r.read()

    async def fixture() -> None:
        if FIXTURE in collection.proxies:
            assert (await call("DELETE", f"/proxies/{FIXTURE}"))[0] == 204
        body = {"name": FIXTURE, "listen": SAFE_LISTEN, "upstream": "127.0.0.1:9"}
        assert (await call("POST", "/proxies", body))[0] == 201
        for toxic in FIXTURE_TOXICS:
            status, answer = await call("POST", f"/proxies/{FIXTURE}/toxics", toxic)
            assert status == 200, answer

    status, created = run(call("POST", "/proxies", {"name": BYSTANDER, "listen": SAFE_LISTEN,
                                                    "upstream": f"127.0.0.1:{echo_port}"}))  # fmt: skip
    assert status == 201, created
    port = int(created["listen"].rpartition(":")[2])
    reader, writer = run(asyncio.open_connection("127.0.0.1", port))  # open all along

    async def echoes(n: int) -> None:
        payload = _payload(n)
        writer.write(payload)
        assert await asyncio.wait_for(reader.readexactly(len(payload)), 5) == payload
        fresh_reader, fresh_writer = await asyncio.open_connection("127.0.0.1", port)
        fresh_writer.write(payload[::-1])
        assert await asyncio.wait_for(fresh_reader.readexactly(len(payload)), 5) == payload[::-1]
        fresh_writer.close()

    async def bystander_served(n: int) -> None:
        await echoes(n)
        status, version = await call("GET", "/version")
        assert status == 200 and version == {"version": VERSION}, version
        status, proxies = await call("GET", "/proxies")
        assert status == 200 and proxies[BYSTANDER] == created, proxies.get(BYSTANDER)
        for proxy in proxies.values():
            _check_proxy(proxy)

    async def sweep() -> None:
        """Delete every fuzz proxy, reset, and put the fixture back."""
        for name in [n for n in collection.proxies if n != BYSTANDER]:
            if re.fullmatch(r"(?!\.\.?$)[\w.-]+", name, re.A):
                assert (await call("DELETE", f"/proxies/{name}"))[0] == 204, name
            else:  # no path reaches it (a "/" in it, say), as with Toxiproxy
                await collection.delete(name)
        assert (await call("POST", "/reset"))[0] == 204
        await fixture()
        await bystander_served(tally.total)

    run(fixture())
    run(bystander_served(0))

    def case(kind: str, method: str, path: str, body: bytes) -> Request:
        return Request(kind, method, path, harmless(body))

    big = b'{"name": "fz-big", "listen": "127.0.0.1:0", "upstream": "' + b"u" * (2 << 20) + b'"}'

    @FUZZ
    @given(request=seeded(REQUESTS))
    @example(request=case("create", "POST", "/proxies", big))  # over aiohttp's 1 MiB default: Go has no limit
    @example(request=case("toxic", "POST", "/proxies/fz/toxics", b'{"type":"packet_loss","attributes":'
                          b'{"good_loss_ppm":1000001,"segment_size":0}}'))  # fmt: skip
    @example(request=case("toxic", "POST", "/proxies/fz/toxics", b'{"type":"corrupt","name":"c",'
                          b'"attributes":{"byte_ppm":-1}}'))  # fmt: skip
    @example(request=case("toxic", "POST", "/proxies/fz/toxics", b'{"type":"slicer","name":"s0"}'))
    @example(request=case("toxic", "POST", "/proxies/fz/toxics", b'{"type":"latency","name":"l2",'
                          b'"toxicity":1e39,"attributes":{"latency":100.0}}'))  # fmt: skip
    @example(request=case("toxic_update", "PATCH", "/proxies/fz/toxics/loss", b'{"attributes":'
                          b'{"rto_ms":0,"bad_loss_ppm":1000001},"toxicity":"1"}'))  # fmt: skip
    # float32 overflow was stored as an infinite toxicity, and every answer listing it was a 500
    @example(request=case("toxic", "POST", "/proxies/fz/toxics", b'{"type":"noop","toxicity":3.5e38}'))
    @example(request=case("toxic", "POST", "/proxies/fz/toxics", deep('{"attributes":', 12000)))
    @example(request=case("populate", "POST", "/populate", deep("[", 3000)))
    @example(request=case("create", "POST", "/proxies", b"{" * 200_000))
    @example(
        request=case("create", "POST", "/proxies", b'{"name":"fz\xff","listen":"127.0.0.1:0","upstream":"u"}')
    )
    @example(
        request=case(
            "create", "POST", "/proxies", b'{"name":"\\ud800","listen":"127.0.0.1:0","upstream":"u"}'
        )
    )
    @example(request=case("create", "POST", "/proxies", b'{"name":"fz-1","listen":"127.0.0.1:99999",'
                          b'"listen":"127.0.0.1:0","upstream":"u"} trailing'))  # fmt: skip
    @example(request=case("populate", "POST", "/populate", b"[]"))
    @example(request=case("populate", "POST", "/populate", b'[{"name":"fz-1","listen":"127.0.0.1:0",'
                          b'"upstream":"u"},{"name":"fz-2","listen":"127.0.0.1:99999",'
                          b'"upstream":"u"}]'))  # fmt: skip
    @example(
        request=case("proxy_update", "PATCH", "/proxies/fz", b'{"listen":"127.0.0.1:x","enabled":false}')
    )
    @example(request=case("create", "POST", "/proxies", b" \t\r\n"))
    def fuzz(request: Request) -> None:
        status, headers, body = run(send(request))
        tally.add(f"{request.kind}:{check_answer(request, status, headers, body)}")
        assert not errors_seen.take(), request
        if tally.total % 250 == 0 or len(collection.proxies) > 40:
            run(sweep())
        elif FIXTURE not in collection.proxies or len(collection.proxies[FIXTURE].all_toxics()) < 4:
            run(fixture())  # a populate or a DELETE took it: updates need it to get past the 404

    try:
        fuzz()
        run(sweep())
        run(bystander_served(tally.total))
    finally:
        writer.close()
    assert not errors_seen.take()
    print(f"\ntoxiproxy in-process: {tally.total} requests {dict(sorted(tally.kinds.items()))}")
    assert tally.total >= MIN_EXAMPLES

    def count(pattern: str) -> int:
        return sum(n for kind, n in tally.kinds.items() if re.fullmatch(pattern, kind))

    for kind in ("create", "populate", "toxic", "toxic_update", "proxy_update", "dupes-.*", "path"):
        assert count(f"{kind}:.*") >= 300, (kind, tally.kinds)
    # refused, deep inside: 119 range refusals alone, 94 on a loaded box (hypothesis, derandomized, still
    # adapts to how long examples take), so the bound leaves room below both
    assert count(".*:400") >= 3000 and count(".*:400-range") >= 50, tally.kinds
    assert count("toxic:200") >= 100 and count("toxic_update:200") >= 150, tally.kinds  # accepted, in range
    assert count("(create|populate):201") >= 150 and count(".*:500-listen") >= 100, tally.kinds
    assert count(".*:(404|404-path|405|409)") >= 500 and count("browser:403") >= 20, tally.kinds


# -- live, over real sockets ------------------------------------------------------------------------
RAW = [
    b"GET /version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    b"GET\r\n\r\n",
    b"GET /version HTTP/9.9\r\n\r\n",
    b"GET /version\r\n\r\n",
    b"\x00\x01\x02\r\n\r\n",
    b"GET /vers\xffion HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    b"GET * HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET http://x/proxies HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    b"GET /proxies HTTP/1.1\r\nHost: x\r\nBad Header\r\nConnection: close\r\n\r\n",
    b"GET /proxies HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\nConnection: close\r\n\r\n",
    b"GET /proxies HTTP/1.1\r\nHost: x\r\n folded: yes\r\nConnection: close\r\n\r\n",
    b"GET /proxies HTTP/1.1\nHost: x\nConnection: close\n\n",
    b"GET /proxies HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 9000 + b"\r\n\r\n",
    b"GET /" + b"p" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /version HTTP/1.0\r\n\r\n",
    b"POST /reset HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    b"POST /reset HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    b"POST /proxies HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
    b"POST /proxies HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"POST /proxies HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    b'5\r\n{"nam\r\n3\r\ne":1\r\n1\r\n}\r\n0\r\n\r\n',
    # a body shorter than its Content-Length: the server waits, then the client goes away
    b'POST /proxies HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"name":',
    b'POST /proxies/fz/toxics HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n\r\n{"type":"corrupt"',
    b"DELETE /proxies/fz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
    b"OPTIONS /proxies HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    b"GET /proxies HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
    b"POST /populate HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n[]"
    b"POST /reset HTTP/1.1\r\nHost: x\r\n\r\n",  # a second request pipelined behind the first
]


def _read_reply(sock: socket.socket, quiet: float) -> tuple[bytes, bool]:
    """What the server answers: (bytes, complete). After `quiet` seconds of nothing the client
    half-closes, as one whose request is cut short would, and reads on to EOF."""
    buf = b""
    half_closed = False
    sock.settimeout(quiet)
    while True:
        head, sep, rest = buf.partition(b"\r\n\r\n")
        if sep:
            found = re.search(rb"\r\ncontent-length: *(\d+)", head, re.I)
            if found and len(rest) >= int(found[1]):
                return buf, True
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            if half_closed:
                return buf, False
            sock.shutdown(socket.SHUT_WR)
            sock.settimeout(3)
            half_closed = True
            continue
        except ConnectionResetError:
            return buf, False
        if not chunk:
            return buf, bool(sep)
        buf += chunk


def _unfinished(data: bytes) -> bool:
    """A guess that the server is still waiting for more of this request (a head without its
    blank line, a body shorter than its Content-Length): then the client stops waiting sooner.
    Blank lines before a request line are skipped, as RFC 9112 allows."""
    head, sep, body = data.lstrip(b"\r\n").partition(b"\r\n\r\n")
    if not sep:
        return b"\n\n" not in data
    found = re.search(rb"\ncontent-length: *(\d+) *\r?$", head, re.I | re.M)
    return found is not None and int(found[1]) > len(body)


def check_wire_reply(reply: bytes, request: Request | None) -> str:
    head, _, body = reply.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    match = re.fullmatch(r"HTTP/(1\.[01]|0\.9) (\d{3}) .*", status_line)  # 0.9: no version sent
    assert match, status_line
    status = int(match[2])
    headers = dict(line.split(": ", 1) for line in header_lines if ": " in line)
    if status == 400 and not body.startswith(b'{"error":'):
        # aiohttp's HTTP parser refusing a request line or header (Go's net/http does the same)
        assert status_line.startswith("HTTP/1.0 400") and "X-Toxiproxy-Request-Id" not in headers, reply[:300]
        return "400-http"
    if request is None:  # a raw request: only the shape of an API error is known
        assert status in (200, 201, 204, 400, 403, 404, 405, 409, 500), reply[:300]
        if body.startswith(b'{"error":'):
            payload = json.loads(body)
            assert payload["status"] == status and TOXIPROXY_ERRORS[status].fullmatch(payload["error"]), (
                payload
            )
        return str(status)
    return check_answer(request, status, headers, body)


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(65536):
            self.request.sendall(data)


class _EchoServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@contextmanager
def echo_server() -> Iterator[int]:
    server = _EchoServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, name="fuzz-echo", daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def live_toxiproxy() -> Iterator[EmbeddedToxiproxy]:
    with EmbeddedToxiproxy(port=0, seed=11) as server:
        yield server


_live_cases = st.one_of(
    st.tuples(REQUESTS, st.lists(byte_ops, max_size=2)),
    st.tuples(st.sampled_from(RAW), st.lists(byte_ops, max_size=2)),
)


def test_toxiproxy_live_malformed_requests_and_a_bystander(live_toxiproxy: EmbeddedToxiproxy) -> None:
    server = live_toxiproxy
    tally = Tally()
    host = f"{server.host}:{server.port}"
    with (
        error_records(*LOGGERS) as errors_seen,
        echo_server() as echo_port,
        httpx.Client(base_url=server.url, timeout=10) as good,
    ):
        r = good.post(
            "/proxies", json={"name": BYSTANDER, "listen": SAFE_LISTEN, "upstream": f"127.0.0.1:{echo_port}"}
        )
        assert r.status_code == 201, r.text
        created = r.json()
        port = int(created["listen"].rpartition(":")[2])

        def fixture() -> None:
            good.delete(f"/proxies/{FIXTURE}")
            r = good.post(
                "/proxies", json={"name": FIXTURE, "listen": SAFE_LISTEN, "upstream": "127.0.0.1:9"}
            )
            assert r.status_code == 201, r.text
            for toxic in FIXTURE_TOXICS:
                assert good.post(f"/proxies/{FIXTURE}/toxics", json=toxic).status_code == 200

        with socket.create_connection(("127.0.0.1", port), timeout=5) as kept:

            def bystander_served(n: int) -> None:
                payload = _payload(n)
                kept.sendall(payload)
                assert _recv_exact(kept, len(payload)) == payload
                with socket.create_connection(("127.0.0.1", port), timeout=5) as fresh:
                    fresh.sendall(payload[::-1])
                    assert _recv_exact(fresh, len(payload)) == payload[::-1]
                assert good.get("/version").json() == {"version": VERSION}
                proxies = good.get("/proxies").json()
                assert proxies[BYSTANDER] == created, proxies.get(BYSTANDER)

            def sweep() -> None:
                for name in good.get("/proxies").json():
                    if name != BYSTANDER:  # one with a "/" in its name no path reaches, as in Go
                        assert good.delete(f"/proxies/{quote(name, safe='')}").status_code in (204, 404)
                r = good.post("/reset")  # 500 if such a proxy is disabled on a listen that cannot bind
                assert r.status_code == 204 or TOXIPROXY_ERRORS[500].fullmatch(r.json()["error"]), r.text
                fixture()

            fixture()
            bystander_served(0)

            @LIVE
            @given(case=seeded(_live_cases))
            def fuzz(case: tuple[Request | bytes, list[tuple[Any, ...]]]) -> None:
                item, ops = case
                if isinstance(item, Request):
                    request: Request | None = item
                    # a mutated request line may reach a route that binds: every body is made harmless
                    data = apply_ops(item.head(host), ops) + harmless(item.body)
                else:
                    request = None
                    head, sep, body = item.partition(b"\r\n\r\n")
                    data = apply_ops(head, ops) + sep + body
                with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
                    sock.sendall(data)
                    reply, complete = _read_reply(sock, quiet=0.02 if _unfinished(data) else 0.5)
                # no reply: an unfinished request, or a line aiohttp drops the connection over
                kind = check_wire_reply(reply, None if ops else request) if reply else "none"
                tally.add(kind if complete or not reply else f"{kind}-partial")
                assert not errors_seen.take(), data[:300]
                if tally.total % 10 == 0:
                    bystander_served(tally.total)
                if tally.total % 100 == 0:
                    sweep()

            fuzz()
            sweep()
            bystander_served(tally.total)
        assert not errors_seen.take()
    print(f"\ntoxiproxy live: {tally.total} requests {dict(sorted(tally.kinds.items()))}")
    assert tally.total >= 300
    assert sum(n for kind, n in tally.kinds.items() if kind != "none") >= 200, tally.kinds


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    buf = b""
    while len(buf) < size:
        chunk = sock.recv(size - len(buf))
        assert chunk, f"EOF after {len(buf)} of {size} bytes"
        buf += chunk
    return buf

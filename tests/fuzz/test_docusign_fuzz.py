"""The DocuSign mock's request parsing under 10,000 malformed requests, in-process, and a few hundred live.

Two surfaces: the eSignature REST calls a middleware makes (envelope create bodies, envelope ids, the
listStatusChanges query, void and send bodies, the bearer header, the account id in the path) and the
control API the harness drives (the signer's lifecycle moves, Connect listeners, HMAC keys and their
rotation, tokens, the retry policy, templates, faults). Each request starts from a valid one and is
broken a little: wrong JSON types, unknown and dropped fields, deep nesting, huge numbers, invalid
UTF-8, truncation; query values dropped, repeated, re-cased or odd; ids and tokens almost right;
listener URLs that are not loopback, not http, or not URLs httpx can send to.

What the mock must answer (gateway.py, rest.py, errors.py, control.py, mocks/common/control.py): never
a 5xx but the one a `status` fault the fuzz armed was told to answer, and never an ERROR record (a
Connect delivery that dies logs one too); a REST error is `{errorCode, message}` with DocuSign's status
and an X-DocuSign-TraceToken; a control error is the shared `{error, status, field}`, or aiohttp's own
text for a route or method that does not exist. The ledger stays a legal lifecycle: every envelope's
history starts `created` and moves only as `NEXT` allows, a request answered with an error changes no
envelope, a create answered 201 adds the one it names, and every Connect delivery is of an event its
envelope's history holds. A bystander sender keeps creating, reading, voiding and signing envelopes
throughout; at the end its envelope's event reaches a listener with a signature that verifies.

The suite undoes what would only stop it reaching the parsers (`after`): an endless `status` fault, a
`slow` one, a token list without its token. The live test sends a few hundred of the same requests
over real sockets to a mock on its own thread while the bystander is served.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import io
import itertools
import json
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import aiohttp
import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from hypothesis import example, given
from yarl import URL

from mocks.common import ControlServer, EventLog, RetryPolicy
from mocks.docusign import DocuSignMock
from mocks.docusign.envelopes import FINAL, NEXT, DocuSignLedger
from tests.mocks.venue_thread import VenueThread

from . import gen as st
from .gen import seeded
from .mutate import (
    FUZZ,
    LIVE,
    MIN_EXAMPLES,
    QUERY_SAFE,
    Tally,
    bind_body,
    deep,
    encode_query,
    error_records,
    event_loop,
    mostly_valid,
    mutated_json,
    mutated_query,
    query_pairs,
)

pytestmark = pytest.mark.fuzz

LOGGERS = ("aiohttp.server", "aiohttp.web", "aiohttp.access", "mocks.docusign", "mocks.common", "asyncio")
FAST = RetryPolicy(max_attempts=2, base_delay_s=0.01, max_delay_s=0.05, timeout_s=2.0, deadline_s=5.0)
PREFIX = "/restapi/v2.1/accounts/{account}"
REST_STATUSES = {200, 201, 400, 401, 404, 405, 413}
CONTROL_STATUSES = {200, 201, 204, 400, 404, 405, 409, 413}
ERROR_CODE = re.compile(r"[A-Z][A-Z_]+[A-Z]")
KEY = "fuzz-hmac-key"


# -- strategies -------------------------------------------------------------------------------------
# Placeholders ({account}, {envelope}, {template}, {token}, {receiver}, {cid} …) are bound when sent
# (Binder); an upper-case one is the same id upper-cased (DocuSign ids match in any case); {live} is an
# envelope still sent or delivered, which the signer and a void can still move.
ZERO_GUID = "00000000-0000-4000-8000-000000000000"
ACCOUNTS = mostly_valid(
    ["{account}", "{ACCOUNT}"], [ZERO_GUID, "", "%00", "{account}x", "..", "me", "%7Baccount%7D"]
)
ENVELOPES = mostly_valid(["{live}", "{live}", "{envelope}", "{ENVELOPE}"], [
    ZERO_GUID, "x", "%2e%2e", "{envelope}x", "%20{envelope}", "a" * 300, "%ff", "{envelope}%00",
    "{envelope}%2F",
])  # fmt: skip
AUTH = mostly_valid(["Bearer {token}"], [
    "", "Bearer", "Bearer ", "bearer {token}", "BEARER {token}", "Bearer  {token} ", "Basic Zm9vOmJhcg==",
    "Bearer {token}x", "{token}", "Bearer {token} {token}", "Bearer\t{token}", "Token {token}",
    "Bearer " + "x" * 5000, None,
])  # fmt: skip
DATES = mostly_valid(
    ["2000-01-01", "2000-01-01T00:00:00Z", "2025-01-02T03:04:05.1234560Z", "2000-01-01T05:00:00+05:00"],
    ["2000-13-01", "yesterday", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "1700000000", "",
     " ", "2000-01-01T25:00", "%", "2000-01-01T00:00:00+99:00", "9" * 40],
)  # fmt: skip
STATUS_FILTERS = mostly_valid(["sent", "any", "sent,delivered", "completed", "voided,declined", "created"],
                     ["nope", ",", "SENT", "sent,,", "sent,nope"])  # fmt: skip
ENVELOPE_LISTS = mostly_valid(
    ["{envelope}", "{envelope},{envelope}", "{ENVELOPE}"], [",", "x", ",{envelope},", ZERO_GUID]
)
COUNTS = mostly_valid(["1", "2", "10"], ["0", "-1", "1001", "x", "", "1.5", "٣", "9" * 5000])
POSITIONS = mostly_valid(["0", "1", "5"], ["-1", "x", "9" * 20, "1e3"])
INCLUDES = mostly_valid(["recipients", "recipients,documents"], ["", "x", "RECIPIENTS", ",recipients,"])
LIST_QUERY = query_pairs(
    {"from_date": DATES},
    {
        "to_date": DATES,
        "status": STATUS_FILTERS,
        "envelope_ids": ENVELOPE_LISTS,
        "count": COUNTS,
        "start_position": POSITIONS,
        "include": INCLUDES,
    },
)
LIST_BY_IDS = query_pairs({"envelope_ids": ENVELOPE_LISTS}, {"count": COUNTS, "include": INCLUDES})
GET_QUERY = query_pairs({}, {"include": INCLUDES})

EMAILS = mostly_valid(
    ["ann@firm.test", "b.o+b@x.example"], ["ann", "a@b", "", "x" * 100 + "@a.b", "a b@c.d", "@x.y"]
)
role = st.fixed_dictionaries({
    "roleName": mostly_valid(["Trader", "Risk Officer"], ["trader", "", "Nope"]),
    "name": mostly_valid(["Ann Trader", "é", "<b>'; DROP TABLE envelopes; --"], ["", " "]),
    "email": EMAILS,
})  # fmt: skip
create_body = st.fixed_dictionaries(
    {
        "templateId": mostly_valid(["{template}", "{TEMPLATE}"], ["", "x", ZERO_GUID]),
        "templateRoles": st.lists(role, max_size=3),
        "status": mostly_valid(["sent", "created", "SENT", "Created"], ["voided", "completed", "", "any"]),
    },
    optional={
        "emailSubject": mostly_valid(["Please sign", "é" * 50, "x" * 2000], [""]),
        "documents": st.just([]),
    },
)
update_body = st.one_of(
    st.fixed_dictionaries(
        {
            "status": mostly_valid(["voided", "Voided"], ["void", "declined"]),
            "voidedReason": mostly_valid(["changed my mind", " x "], ["", " "]),
        }
    ),
    st.fixed_dictionaries({"status": mostly_valid(["sent"], ["created", "completed"])}),
    st.fixed_dictionaries({"emailSubject": mostly_valid(["New subject"], [""])}),
)
LISTENER_URLS = mostly_valid(
    ["{receiver}", "http://127.0.0.1:1/hook", "http://localhost:{rest_port}/connect", "http://[::1]:1/x"],
    ["https://example.com/hook", "ftp://127.0.0.1/", "http://", "127.0.0.1:1", "http://[::1", "http://10.0.0.1/",
     "http://127.0.0.1:99999/x", "http://127.0.0.1:abc/x", "http://127.0.0.1/\x00", "http://127.0.0.1:-1/",
     "http://127.0.0.1:1/" + "a" * 70_000, "http://user:pw@127.0.0.1:1/", "HTTP://LOCALHOST:1/", ""],
)  # fmt: skip
ACTIONS = mostly_valid(
    ["deliver", "complete", "decline", "void"], ["Deliver", "sign", "%2e%2e", "void%2Fx", "x" * 300]
)
REASONS = mostly_valid(["Declined by the signer", "é"], ["", " ", "x" * 201])
KEYS = st.lists(mostly_valid(["k1", "k2", "a" * 1024], ["", " k", "a" * 1025]), max_size=4)
EVENT = {"event": mostly_valid(["envelope-sent", "envelope-completed"], ["envelope-x", "envelope-created"])}
FAULT_PARAMS = {
    "duplicate": st.fixed_dictionaries({}, optional=EVENT),
    "reorder": st.fixed_dictionaries({"hold_ms": mostly_valid([1, 5], [0, 600_001, 1.5])}, optional=EVENT),
    "bad_signature": st.fixed_dictionaries({"attempts": mostly_valid([1, 2], [0, 21])}, optional=EVENT),
    "lost_then_retried": st.fixed_dictionaries({}, optional=EVENT),
    "never_delivered": st.fixed_dictionaries(EVENT),
    "slow": st.fixed_dictionaries(
        {"delay_ms": mostly_valid([0, 5], [-1, 600_001])}, optional={"path": st.just("/restapi")}
    ),
    "status": st.fixed_dictionaries(
        {"status": mostly_valid([503, 429, 401, 400, 500], [399, 600, "503", None])},
        optional={
            "error_code": mostly_valid(["ACCOUNT_LOCKED", "x" * 300], ["", None]),
            "path": st.just("/restapi"),
        },
    ),
}
COUNT = mostly_valid([1, 2], [0, -1, None])
fault_body = st.one_of(*[
    st.fixed_dictionaries({"fault": st.just(name), "params": params, "count": COUNT})
    for name, params in FAULT_PARAMS.items()
])  # fmt: skip
BODIES = {
    "create": create_body,
    "update": update_body,
    "act": st.fixed_dictionaries({}, optional={"reason": REASONS}),
    "listener": st.fixed_dictionaries({"url": LISTENER_URLS}),
    "hmac": st.fixed_dictionaries({"keys": KEYS}),
    "tokens": st.fixed_dictionaries(
        {"tokens": st.lists(mostly_valid(["{token}", "second-token"], ["", " t"]), max_size=3)}
    ),
    "retry": st.fixed_dictionaries(
        {},
        optional={
            "max_attempts": mostly_valid([1, 2], [0, 21]),
            "base_delay_ms": mostly_valid([0, 10], [-1, 600_001]),
            "max_delay_ms": mostly_valid([50], [3_600_001]),
            "timeout_ms": mostly_valid([1000], [0]),
            "deadline_ms": mostly_valid([5000], [0]),
        },
    ),
    "template": st.fixed_dictionaries(
        {
            "name": mostly_valid(["Fuzz Agreement", "é"], ["", "x" * 101]),
            "roles": st.lists(
                mostly_valid(["Trader", "Witness", "Risk Officer"], ["", " x"]), min_size=1, max_size=3
            ),
        },
        optional={
            "emailSubject": mostly_valid(["Sign"], ["x" * 101]),
            "templateId": mostly_valid(["{newid}"], ["", "{template}"]),
        },
    ),
    "fault": fault_body,
}
CONTROL_READS = ["/docusign", "/docusign/outbox", "/faults", "/health",
                 "/events?kind=fault_fired&since={seq}", "/events?since=x", "/events?since=",
                 "/events?since=" + "9" * 30]  # fmt: skip
ODD_REST = ["/restapi/v2.1/accounts/{account}/envelopes/{envelope}/recipients",
            "/restapi/v2/accounts/{account}", "/restapi/v2.1/accounts/{account}", "/restapi/v2.1/accounts",
            "/restapi/v2.1/accounts/{account}/envelopes/",
            "/restapi/v2.1/accounts/{account}/envelopes/{envelope}/", "/", "/restapi/%ff"]  # fmt: skip
ODD_CONTROL = ["/docusign/envelopes/{envelope}", "/docusign/envelopes/{envelope}/deliver/x", "/docusign/nope",
               "/docusign/hmac/rotate/x", "/docusign/listeners/1", "/ledger/x", "/"]  # fmt: skip
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
CONTENT_TYPES = ["application/json", "application/json", "application/json", "text/plain", None,
                 "application/x-www-form-urlencoded", "application/json; charset=utf-16"]  # fmt: skip
BIG = [
    b'{"templateId": "{template}", "emailSubject": "' + b"x" * (1 << 20) + b'"}',
    b"[" * 200_000,
    deep("[", 3000),
    deep('{"templateRoles":', 1100),
    b'{"templateId": "{template}", "templateRoles": [' + b'{"roleName": "Trader"},' * 20_000 + b"{}]}",
]
CONTROL_PATHS = {"listener": ("POST", "/docusign/listeners"), "hmac": ("PUT", "/docusign/hmac"),
                 "tokens": ("PUT", "/docusign/tokens"), "retry": ("PUT", "/docusign/retry"),
                 "template": ("POST", "/docusign/templates"), "fault": ("POST", "/faults")}  # fmt: skip


class Request:
    """One request, as data; `target` is percent-encoded and may hold placeholders."""

    def __init__(
        self,
        kind: str,
        surface: str,
        method: str,
        target: str,
        body: bytes = b"",
        auth: str | None = "Bearer {token}",
        content_type: str | None = "application/json",
        pick: int = 0,
    ) -> None:
        self.kind, self.surface, self.method, self.target, self.body = kind, surface, method, target, body
        self.auth, self.content_type, self.pick = auth, content_type, pick

    def __repr__(self) -> str:
        return (
            f"Request({self.kind}/{self.surface} {self.method} {self.target[:300]}"
            f" auth={(self.auth or '')[:60]!r} ct={self.content_type} pick={self.pick}"
            f" body={self.body[:300]!r})"
        )


class S:
    """The request's parts, built once (building strategies inside the composite is the slow part)."""

    kind = st.sampled_from(
        ["create"] * 6 + ["get"] * 3 + ["list"] * 4 + ["update"] * 4 + ["auth"] * 2 + ["rest_odd"] * 2
        + ["big"] + ["act"] * 5 + ["listener"] * 2 + ["unlisten"] + ["hmac"] + ["rotate"] + ["tokens"]
        + ["retry"] + ["template"] + ["fault"] * 2 + ["unfault"] + ["read"] + ["control_odd"] * 2
    )  # fmt: skip
    bodies = {
        k: st.one_of(v.map(lambda d: json.dumps(d).encode()), mutated_json(v)) for k, v in BODIES.items()
    }
    account = ACCOUNTS
    envelope = ENVELOPES
    auth = AUTH
    list_query = st.one_of(
        LIST_QUERY.map(encode_query), mutated_query(LIST_QUERY), mutated_query(LIST_BY_IDS)
    )
    get_query = st.one_of(GET_QUERY.map(encode_query), mutated_query(GET_QUERY))
    action = ACTIONS
    content_type = st.sampled_from(CONTENT_TYPES)
    pick = st.integers(0, 1 << 16)
    cid = mostly_valid(["{cid}"], ["", "x", "-1", "0", "9" * 5000, "1.0", "٣", "%00"])
    unfault = mostly_valid(["status", "slow", "duplicate"], ["", "nope", "x" * 300])
    read = st.sampled_from(CONTROL_READS)
    odd_rest = st.sampled_from(ODD_REST)
    odd_control = st.sampled_from(ODD_CONTROL)
    method = st.sampled_from(METHODS)
    junk = st.binary(max_size=40)
    big = st.sampled_from(BIG)


@st.composite
def docusign_requests(draw: st.DrawFn) -> Request:
    kind = draw(S.kind)
    pick = draw(S.pick)
    prefix = PREFIX.replace("{account}", draw(S.account)) if kind == "auth" else PREFIX
    auth = draw(S.auth) if kind == "auth" else "Bearer {token}"
    ctype = draw(S.content_type)
    if kind in ("create", "auth"):
        return Request(
            kind, "rest", "POST", f"{prefix}/envelopes", draw(S.bodies["create"]), auth, ctype, pick
        )
    if kind == "get":
        target = f"{prefix}/envelopes/{draw(S.envelope)}?{draw(S.get_query)}"
        return Request(kind, "rest", "GET", target, b"", auth, None, pick)
    if kind == "list":
        return Request(kind, "rest", "GET", f"{prefix}/envelopes?{draw(S.list_query)}", b"", auth, None, pick)
    if kind == "update":
        body = draw(S.bodies["update"])
        return Request(kind, "rest", "PUT", f"{prefix}/envelopes/{draw(S.envelope)}", body, auth, ctype, pick)
    if kind == "rest_odd":
        return Request(kind, "rest", draw(S.method), draw(S.odd_rest), draw(S.junk), auth, ctype, pick)
    if kind == "big":
        return Request(kind, "rest", "POST", f"{prefix}/envelopes", draw(S.big), auth, ctype, pick)
    # the control API: no Authorization
    if kind == "act":
        target = f"/docusign/envelopes/{draw(S.envelope)}/{draw(S.action)}"
        return Request(kind, "control", "POST", target, draw(S.bodies["act"]), None, ctype, pick)
    if kind == "unlisten":
        target = f"/docusign/listeners?configurationId={draw(S.cid)}"
        return Request(kind, "control", "DELETE", target, b"", None, None, pick)
    if kind == "unfault":
        return Request(kind, "control", "DELETE", f"/faults?fault={draw(S.unfault)}", b"", None, None, pick)
    if kind == "rotate":
        return Request(kind, "control", "POST", "/docusign/hmac/rotate", draw(S.junk), None, ctype, pick)
    if kind == "read":
        return Request(kind, "control", "GET", draw(S.read), b"", None, None, pick)
    if kind == "control_odd":
        return Request(kind, "control", draw(S.method), draw(S.odd_control), draw(S.junk), None, ctype, pick)
    method, path = CONTROL_PATHS[kind]
    return Request(kind, "control", method, path, draw(S.bodies[kind]), None, ctype, pick)


REQUESTS = docusign_requests()


def rest(kind: str, method: str, target: str, body: bytes = b"", auth: str = "Bearer {token}") -> Request:
    return Request(kind, "rest", method, PREFIX + target, body, auth)


def control(kind: str, method: str, target: str, body: Any = None) -> Request:
    raw = body if isinstance(body, bytes) else b"" if body is None else json.dumps(body).encode()
    return Request(kind, "control", method, target, raw, None)


# -- binding placeholders, checking answers and the ledger -------------------------------------------
class Binder:
    """Placeholders to values of the running mock: its account, an envelope, a template, a listener."""

    def __init__(self, venue: DocuSignMock, receiver: str, rest_port: int) -> None:
        self.venue, self.receiver, self.rest_port = venue, receiver, rest_port
        self.fresh = 0

    def __call__(self, text: str, pick: int) -> str:
        if "{" not in text and "%7B" not in text:
            return text
        venue = self.venue
        envelopes = list(venue.ledger.envelopes.values())
        templates = list(venue.templates)
        envelope = envelopes[pick % len(envelopes)].envelope_id if envelopes else ZERO_GUID
        live = [e.envelope_id for e in envelopes if e.status in ("sent", "delivered")]
        template = templates[pick % len(templates)]
        cids = [listener.configuration_id for listener in venue.listeners]
        self.fresh += 1
        values = {
            "account": venue.account.account_id,
            "ACCOUNT": venue.account.account_id.upper(),
            "envelope": envelope,
            "ENVELOPE": envelope.upper(),
            "live": live[pick % len(live)] if live else envelope,
            "template": template,
            "TEMPLATE": template.upper(),
            "token": venue.tokens[0],
            "receiver": self.receiver,
            "rest_port": str(self.rest_port),
            "cid": str(cids[pick % len(cids)]) if cids else "12345678",
            "seq": "999999999",
            "newid": f"fuzz-template-{self.fresh}",
        }
        for name, value in values.items():
            text = text.replace("{" + name + "}", value).replace("%7B" + name + "%7D", value)
        return text

    def target(self, request: Request) -> str:
        """The target with its placeholders bound, escaped where it must be (a `%` escape, broken or
        not, stays as it is)."""
        return quote(self(request.target, request.pick), safe=QUERY_SAFE + "?")

    def headers(self, request: Request) -> dict[str, str]:
        headers = {}
        if request.auth is not None:
            headers["Authorization"] = self(request.auth, request.pick)
        if request.content_type is not None:
            headers["Content-Type"] = request.content_type
        return headers

    def body(self, request: Request) -> bytes:
        if len(request.body) > 1 << 20:
            return request.body
        return bind_body(request.body, lambda text: self(text, request.pick))


class Recorder(EventLog):
    """The venue's event log, also kept whole in a list: what one request logged is `all[mark:]`
    (`since` walks the whole bounded log, too slow to call twice a request)."""

    def __init__(self) -> None:
        super().__init__()
        self.all: list[dict[str, Any]] = []

    def add(self, kind: str, **detail: Any) -> None:
        super().add(kind, **detail)
        self.all.append({"kind": kind, **detail})


def recorded(venue: DocuSignMock) -> Recorder:
    log = Recorder()
    venue.events = log
    return log


def forced_status(
    log: Recorder, mark: int, armed: dict[int, dict[str, Any]], path: str
) -> dict[str, Any] | None:
    """The params of the `status` fault that fired on `path` since `mark`, if one did. (A Connect delivery
    to a listener on the mock's own REST port passes the same gateway, and may take one first.)"""
    fired = [
        e
        for e in log.all[mark:]
        if e["kind"] == "fault_fired" and e["fault"] == "status" and e["path"] == path
    ]
    return armed[fired[0]["id"]] if fired else None


def check_rest(
    request: Request, status: int, headers: Any, body: bytes, forced: dict[str, Any] | None
) -> str:
    """A REST answer's shape; `forced` is the `status` fault that fired on this request, if one did."""
    ctype = headers.get("Content-Type", "")
    if status == 400 and not ctype.startswith("application/json"):  # aiohttp's HTTP parser: no route ran
        assert len(request.target) + len(request.auth or "") > 4000, (body[:300], request)
        return "400-http"
    assert headers.get("X-DocuSign-TraceToken"), (status, dict(headers), request)  # errors too
    if forced is not None:
        assert status == forced["status"], (status, forced, request)
        if request.method != "HEAD":
            payload = json.loads(body)
            assert set(payload) == {"errorCode", "message"}, payload
            assert forced["error_code"] in (None, "", payload["errorCode"]), (payload, forced)
        return f"fault-{status}"
    assert status in REST_STATUSES, (status, body[:300], request)
    if request.method == "HEAD":
        assert not body
        return f"head-{status}"
    assert ctype.startswith("application/json"), (ctype, body[:300], request)
    payload = json.loads(body)
    assert isinstance(payload, dict), payload
    if status >= 400:
        assert set(payload) == {"errorCode", "message"}, payload
        assert ERROR_CODE.fullmatch(payload["errorCode"]), payload
        assert isinstance(payload["message"], str) and payload["message"].strip(), payload
        return f"{status}-{payload['errorCode']}"
    if status == 201:
        assert set(payload) == {"envelopeId", "uri", "statusDateTime", "status"}, payload
        assert payload["status"] in ("created", "sent"), payload
    elif request.method == "PUT":
        assert set(payload) == {"envelopeId"}, payload
    elif "resultSetSize" in payload:  # listStatusChanges: counts as strings, `envelopes` left out when none
        assert all(isinstance(payload[k], str) for k in ("resultSetSize", "startPosition", "totalSetSize"))
        assert int(payload["resultSetSize"]) == len(payload.get("envelopes", [])), payload
    else:
        assert payload["envelopeId"] and payload["status"] in (*NEXT, *FINAL), payload
    return str(status)


def check_control(request: Request, status: int, headers: Any, body: bytes) -> str:
    """A control-API answer's shape: the shared error names its field; aiohttp's own text otherwise."""
    assert status in CONTROL_STATUSES, (status, body[:300], request)
    ctype = headers.get("Content-Type", "")
    if request.method == "HEAD":
        assert not body
        return f"head-{status}"
    if status == 400 and not ctype.startswith("application/json"):  # aiohttp's HTTP parser: no route ran
        assert len(request.target) > 4000, (body[:300], request)
        return "400-http"
    if status in (404, 405, 413) and not ctype.startswith("application/json"):
        text = body.decode()
        assert text.startswith((f"{status}: ", "Maximum request body size")), (text[:300], request)
        return f"{status}-aiohttp"
    if status == 204:
        return "204"
    payload = json.loads(body)
    if status >= 400:
        assert payload["status"] == status and isinstance(payload["error"], str) and payload["error"], payload
        field = payload.get("field")
        assert field is None or isinstance(field, str), payload
        if payload["error"].endswith(": unknown field"):
            return f"{status}-unknown"
        return f"{status}-{str(field).split('.')[0].split('[')[0]}"
    return str(status)


def check_changes(
    request: Request, status: int, body: bytes, forced: Any, changes: list[dict[str, Any]]
) -> None:
    """What one request did to the envelopes: an error nothing; a 201 create the one it names (and its
    send); an update at most one move; the signer's move the events it answers."""
    if status >= 300 or forced is not None or request.kind not in ("create", "auth", "big", "update", "act"):
        assert not changes, (status, changes, request)
    elif request.kind in ("create", "auth", "big"):
        made = json.loads(body)
        kinds = [(e["kind"], e["envelope_id"]) for e in changes]
        assert kinds[0] == ("envelope_created", made["envelopeId"]), (changes, request)
        assert [e.get("status") for e in changes[1:]] == (["sent"] if made["status"] == "sent" else []), (
            changes
        )
    elif request.kind == "update":
        assert len(changes) <= 1, (changes, request)
    else:
        assert [f"envelope-{e['status']}" for e in changes] == json.loads(body)["events"], (changes, request)


def lifecycle_ok(ledger: DocuSignLedger) -> None:
    """Every envelope's history is a legal lifecycle, and every delivery is of an event it holds."""
    events: dict[str, set[str]] = {}
    for envelope_id, envelope in ledger.envelopes.items():
        history = envelope.history
        assert history and history[0].status == "created" and history[0].event is None, envelope
        for before, after in itertools.pairwise(history):
            assert after.status in NEXT.get(before.status, ()), (envelope_id, before.status, after.status)
            assert after.event == f"envelope-{after.status}" and after.at >= before.at, (envelope_id, after)
        assert envelope.status == history[-1].status, envelope
        assert (envelope.voided_reason is not None) == (envelope.status == "voided"), envelope
        events[envelope_id] = {c.event for c in history[1:] if c.event and not c.suppressed_by}
    for delivery in list(ledger.deliveries):
        envelope_id = getattr(delivery, "envelope_id", "")
        assert delivery.event_type in events.get(envelope_id, set()), delivery


def after(
    request: Request,
    status: int,
    body: bytes,
    venue: DocuSignMock,
    token: str,
    armed: dict[int, dict[str, Any]],
    ask: Callable[[Request], Any],
) -> None:
    """Undo what would only keep the next requests from the parsers: a `slow` fault (the suite would
    wait), a `status` fault without a small count (every REST answer would be it), a token list without
    the token the requests carry. Every fault armed is remembered, to tell its answers."""
    if request.kind == "fault" and status == 201:
        fault = json.loads(body)
        armed[fault["id"]] = fault["params"]
        endless = fault["remaining"] is None or fault["remaining"] > 3
        if fault["fault"] == "slow" and (endless or fault["params"]["delay_ms"] > 20):
            ask(control("undo", "DELETE", "/faults?fault=slow"))
        elif fault["fault"] == "status" and endless:
            ask(control("undo", "DELETE", "/faults?fault=status"))
    if request.kind == "tokens" and status == 200 and token not in venue.tokens:
        ask(control("undo", "PUT", "/docusign/tokens", {"tokens": [token]}))


class Bystander:
    """A well-behaved sender on its own connections, with the signer's help through the control API."""

    def __init__(self, venue: DocuSignMock, ask: Callable[[Request, int], Any]) -> None:
        self.venue, self.ask = venue, ask
        self.token = venue.tokens[0]
        self.n = 0

    def rest(self, method: str, target: str, body: Any = None, expect: int = 200) -> Any:
        raw = b"" if body is None else json.dumps(body).encode()
        return self.ask(Request("by", "rest", method, PREFIX + target, raw, f"Bearer {self.token}"), expect)

    def create(self, name: str) -> str:
        trader = next(t for t in self.venue.templates.values() if t.name == "Trader Agreement")
        roles = [{"roleName": "Trader", "name": name, "email": "bea@firm.test"}]
        body = {"templateId": trader.template_id, "status": "sent", "templateRoles": roles}
        envelope_id: str = self.rest("POST", "/envelopes", body, 201)["envelopeId"]
        return envelope_id

    def served(self) -> None:
        """Create, read, poll, then void or sign: each answered, each reflected in the ledger."""
        self.n += 1
        if self.token not in self.venue.tokens:
            self.ask(control("by", "PUT", "/docusign/tokens", {"tokens": [self.token]}), 200)
        for fault in ("status", "slow"):  # armed for everyone: the bystander would get them too
            self.ask(control("by", "DELETE", f"/faults?fault={fault}"), 200)
        envelope_id = self.create(f"Bea Stander {self.n}")
        got = self.rest("GET", f"/envelopes/{envelope_id}?include=recipients")
        assert got["status"] == "sent" and got["recipients"]["signers"][0]["email"] == "bea@firm.test", got
        listed = self.rest("GET", f"/envelopes?envelope_ids={envelope_id}")
        assert [e["envelopeId"] for e in listed["envelopes"]] == [envelope_id], listed
        if self.n % 2:
            self.rest("PUT", f"/envelopes/{envelope_id}", {"status": "voided", "voidedReason": "bystander"})
            assert self.venue.ledger.envelopes[envelope_id].status == "voided"
        else:
            signed = self.ask(control("by", "POST", f"/docusign/envelopes/{envelope_id}/complete"), 200)
            assert signed["events"] == ["envelope-delivered", "envelope-completed"], signed
        lifecycle_ok(self.venue.ledger)


# -- the in-process suite ---------------------------------------------------------------------------
async def _receiver() -> tuple[TestServer, list[tuple[bytes, dict[str, str]]]]:
    """A Connect listener that records what it gets and answers 200."""
    hits: list[tuple[bytes, dict[str, str]]] = []

    async def hook(request: web.Request) -> web.Response:
        hits.append((await request.read(), dict(request.headers)))
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", hook)
    server = TestServer(app)
    await server.start_server()
    return server, hits


class Sender:
    """Sends a Request to the REST surface or the control API, placeholders bound."""

    def __init__(self, http: aiohttp.ClientSession, rest_root: str, control_root: str, bind: Binder) -> None:
        self.http, self.rest_root, self.control_root, self.bind = http, rest_root, control_root, bind

    async def send(self, request: Request) -> tuple[int, Any, bytes, str]:
        """The answer's status, headers and body, and the path the mock saw."""
        root = self.rest_root if request.surface == "rest" else self.control_root
        url = URL(root + self.bind.target(request), encoded=True)
        body = self.bind.body(request)
        data: Any = io.BytesIO(body) if len(body) > 1 << 20 else body
        async with self.http.request(request.method, url, headers=self.bind.headers(request), data=data) as r:
            return r.status, r.headers, await r.read(), url.path


def test_docusign_parsers_survive_10k_malformed_requests() -> None:
    with event_loop() as loop, error_records(*LOGGERS) as errors:

        async def setup() -> Any:
            receiver, hits = await _receiver()
            venue = DocuSignMock(
                seed=13, retry=FAST, listeners=(f"http://127.0.0.1:{receiver.port}/connect",)
            )
            await venue.outbox.open()
            servers = [TestServer(venue.app), TestServer(ControlServer(venue).app), receiver]
            for server in servers[:2]:
                await server.start_server()
            return venue, servers, hits, [aiohttp.ClientSession(), aiohttp.ClientSession()]

        venue, servers, hits, sessions = loop.run_until_complete(setup())
        try:
            _in_process(loop, venue, servers, sessions, hits, errors)
        finally:
            for session in sessions:
                loop.run_until_complete(session.close())
            loop.run_until_complete(venue.outbox.close())
            for server in servers:
                loop.run_until_complete(server.close())


def _in_process(
    loop: asyncio.AbstractEventLoop,
    venue: DocuSignMock,
    servers: list[TestServer],
    sessions: list[aiohttp.ClientSession],
    hits: list[tuple[bytes, dict[str, str]]],
    errors: Any,
) -> None:
    tally = Tally()
    log = recorded(venue)
    rest_server, control_server, receiver = servers
    assert rest_server.port is not None
    receiver_url = f"http://127.0.0.1:{receiver.port}/connect"
    bind = Binder(venue, receiver_url, rest_server.port)
    roots = str(rest_server.make_url("")), str(control_server.make_url(""))
    fuzzer, good = Sender(sessions[0], *roots, bind), Sender(sessions[1], *roots, bind)  # own connections
    armed: dict[int, dict[str, Any]] = {}  # the faults the fuzz armed, by id
    token = venue.tokens[0]

    def run(coro: Any) -> Any:
        return loop.run_until_complete(coro)

    def ask(request: Request, expect: int = 200) -> Any:
        status, _, body, _ = run(good.send(request))
        assert status == expect, (status, body[:300], request)
        return json.loads(body) if body else None

    bystander = Bystander(venue, ask)
    bystander.served()

    def create(body: bytes) -> Request:
        return rest("create", "POST", "/envelopes", body)

    def arm(body: bytes) -> Request:
        return control("fault", "POST", "/faults", body)

    @FUZZ
    @given(request=seeded(REQUESTS))
    # once a 500: a configurationId past int()'s 4300 digits, with a listener to compare it with
    @example(request=control("unlisten", "DELETE", "/docusign/listeners?configurationId=" + "9" * 5000))
    # once accepted, then every delivery to them died unrecorded: loopback URLs httpx cannot send to
    @example(request=control("listener", "POST", "/docusign/listeners", {"url": "http://127.0.0.1:abc/x"}))
    @example(request=control("listener", "POST", "/docusign/listeners", {"url": "http://127.0.0.1:99999/x"}))
    # once armed as None, then a 500 on the next REST request
    @example(request=arm(b'{"fault": "status", "params": {"status": null}, "count": 1}'))
    @example(request=arm(b'{"fault": "status", "params": {"status": 503}, "count": 1}'))
    @example(request=create(b'{"templateId": "{template}", "status": "sent", "templateRoles": '
                            b'[{"roleName": "Trader", "name": "A", "email": "a@b.test"}]}'))  # fmt: skip
    @example(request=create(b'{"templateId": ["{template}"]}'))
    @example(request=create(deep("[", 100_000)))
    @example(request=rest("list", "GET", "/envelopes?from_date=0001-01-01T00:00:00%2B14:00&start_position=1"))
    def fuzz(request: Request) -> None:
        mark = len(log.all)
        status, headers, body, path = run(fuzzer.send(request))
        forced = forced_status(log, mark, armed, path)
        if request.surface == "rest":
            label = check_rest(request, status, headers, body, forced)
        else:
            label = check_control(request, status, headers, body)
        changes = [e for e in log.all[mark:] if e["kind"] in ("envelope_created", "envelope_status")]
        check_changes(request, status, body, forced, changes)
        assert not errors.take(), request
        tally.add(f"{request.kind}:{label}")
        after(request, status, body, venue, token, armed, ask)
        if tally.total % 250 == 0:
            lifecycle_ok(venue.ledger)
        if tally.total % 500 == 0:
            bystander.served()
            if len(venue.ledger.envelopes) > 400:  # keep polls small: start over, same seed
                run(venue.reset())
                armed.clear()

    fuzz()
    bystander.served()
    assert not errors.take()
    _connect_still_works(loop, ask, bystander, receiver_url, hits)
    lifecycle_ok(venue.ledger)
    assert not errors.take()
    deliveries = sum(1 for e in log.all if e["kind"] == "delivery")
    print(f"\ndocusign in-process: {tally.total} requests, {deliveries} Connect delivery attempts"
          f" {dict(sorted(tally.kinds.items()))}")  # fmt: skip
    assert tally.total >= MIN_EXAMPLES and deliveries >= 500
    # About half of what the derandomized run reaches: deep answers, not refusals at the door.
    floors = {
        "create:201": 150, "auth:201": 45, "get:200": 300, "list:200": 270, "update:200": 80, "act:200": 25,
        "create:400-INVALID_REQUEST_BODY": 220, "create:400-TEMPLATE_ID_INVALID": 150,
        "create:400-INVALID_EMAIL_ADDRESS_FOR_RECIPIENT": 110, "create:400-INVALID_REQUEST_PARAMETER": 85,
        "create:400-ENVELOPE_IS_INCOMPLETE": 10, "create:400-INVALID_USERNAME_FOR_RECIPIENT": 4,
        "get:400-ENVELOPE_DOES_NOT_EXIST": 45, "list:400-INVALID_REQUEST_PARAMETER": 250,
        "update:400-ENVELOPE_CANNOT_VOID_INVALID_STATE": 15, "update:400-ENVELOPE_INVALID_STATUS": 12,
        "update:400-ENVELOPE_DOES_NOT_EXIST": 50, "auth:401-AUTHORIZATION_INVALID_TOKEN": 28,
        "auth:401-USER_AUTHENTICATION_FAILED": 6, "auth:400-USER_LACKS_MEMBERSHIP": 40,
        "big:413-REQUEST_ENTITY_TOO_LARGE": 8, "rest_odd:404-RESOURCE_NOT_FOUND": 70,
        "act:409-action": 130, "act:404-envelope_id": 90, "act:404-action": 100, "listener:201": 35,
        "listener:400-url": 80, "unlisten:200": 30, "unlisten:400-configurationId": 7, "hmac:200": 50,
        "hmac:400-keys": 38, "rotate:201": 50, "tokens:200": 20, "tokens:400-tokens": 55, "retry:200": 40,
        "retry:400-retry": 50, "template:201": 18, "template:400-roles": 45, "template:400-name": 25,
        "fault:201": 80, "fault:400-params": 18, "unfault:200": 45, "read:200": 25,
        "control_odd:404-aiohttp": 70,
    }  # fmt: skip
    short = {
        k: (tally.kinds.get(k, 0), floor) for k, floor in floors.items() if tally.kinds.get(k, 0) < floor
    }
    assert not short, short
    assert sum(n for k, n in tally.kinds.items() if ":fault-" in k) >= 20, tally.kinds  # forced answers


def _connect_still_works(
    loop: asyncio.AbstractEventLoop,
    ask: Callable[[Request, int], Any],
    bystander: Bystander,
    receiver_url: str,
    hits: list[tuple[bytes, dict[str, str]]],
) -> None:
    """After the fuzz: one listener, one key, fast retries; the bystander's event arrives signed with it."""
    ask(control("end", "DELETE", "/faults"), 200)
    ask(control("end", "DELETE", "/docusign/listeners"), 200)
    ask(control("end", "POST", "/docusign/listeners", {"url": receiver_url}), 201)
    ask(control("end", "PUT", "/docusign/hmac", {"keys": [KEY]}), 200)
    ask(
        control(
            "end", "PUT", "/docusign/retry", {"max_attempts": 2, "base_delay_ms": 10, "timeout_ms": 2000}
        ),
        200,
    )
    # Only what arrives from here: the venue was reset to its seed during the fuzz, so envelope ids
    # repeat, and a long run's earlier deliveries of this id are in `hits` too.
    mark = len(hits)
    envelope_id = bystander.create("Cy Connect")

    def arrived() -> list[tuple[bytes, dict[str, str]]]:
        return [h for h in hits[mark:] if json.loads(h[0]).get("data", {}).get("envelopeId") == envelope_id]

    for _ in range(500):
        if arrived():
            break
        loop.run_until_complete(asyncio.sleep(0.01))
    raw, headers = arrived()[0]
    expected = base64.b64encode(hmac.new(KEY.encode(), raw, hashlib.sha256).digest()).decode()
    assert headers["X-DocuSign-Signature-1"] == expected and json.loads(raw)["event"] == "envelope-sent"


# -- live, over real sockets ------------------------------------------------------------------------
@pytest.fixture
def live_docusign() -> Iterator[VenueThread]:
    with VenueThread(DocuSignMock(seed=13, retry=FAST)) as vt:
        yield vt


def test_docusign_live_malformed_requests_and_a_bystander(live_docusign: VenueThread) -> None:
    venue = live_docusign.venue
    assert isinstance(venue, DocuSignMock)
    tally = Tally()
    log = recorded(venue)
    receiver, _ = live_docusign.run(_receiver())
    bind = Binder(venue, f"http://127.0.0.1:{receiver.port}/connect", venue.port)
    roots = {"rest": venue.url, "control": live_docusign.control_url}
    armed: dict[int, dict[str, Any]] = {}
    try:
        with (
            error_records(*LOGGERS) as errors,
            httpx.Client(timeout=10) as attacker,
            httpx.Client(timeout=10) as good,  # the bystander's connections
        ):

            def ask(request: Request, expect: int = 200) -> Any:
                r = good.request(
                    request.method, roots[request.surface] + bind.target(request),
                    headers=bind.headers(request), content=bind.body(request),
                )  # fmt: skip
                assert r.status_code == expect, (r.status_code, r.text[:300], request)
                return r.json() if r.content else None

            ask(control("setup", "POST", "/docusign/listeners", {"url": bind.receiver}), 201)
            bystander = Bystander(venue, ask)

            @LIVE
            @given(request=seeded(REQUESTS))
            def fuzz(request: Request) -> None:
                mark = len(log.all)
                url = roots[request.surface] + bind.target(request)
                try:
                    r = attacker.request(
                        request.method, url, headers=bind.headers(request), content=bind.body(request)
                    )
                except (httpx.InvalidURL, httpx.UnsupportedProtocol, httpx.LocalProtocolError):
                    tally.add("client-refused")  # httpx will not send it: nothing reached the mock
                    return
                forced = forced_status(log, mark, armed, httpx.URL(url).path)
                if request.surface == "rest":
                    label = check_rest(request, r.status_code, r.headers, r.content, forced)
                else:
                    label = check_control(request, r.status_code, r.headers, r.content)
                tally.add(f"{request.kind}:{label}")
                assert not errors.take(), request
                after(request, r.status_code, r.content, venue, bystander.token, armed, ask)
                if tally.total % 10 == 0:
                    bystander.served()

            bystander.served()
            fuzz()
            bystander.served()
            assert not errors.take()
            lifecycle_ok(venue.ledger)
    finally:
        live_docusign.run(receiver.close())
    print(f"\ndocusign live: {tally.total} requests {dict(sorted(tally.kinds.items()))}")
    assert tally.total >= 300
    assert sum(n for k, n in tally.kinds.items() if k.endswith((":200", ":201"))) >= 50, tally.kinds

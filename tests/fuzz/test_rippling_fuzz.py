"""The Rippling mock's request parsing under 10,000 malformed requests, in-process, and a few hundred live.

Two surfaces: the REST calls a middleware makes (hire, read, look up, page, terminate workers; create and
look up pay items; the bearer header) and the control API the harness drives (webhook listeners, tokens,
the retry policy, faults). Each request starts from a valid one and is broken a little: wrong JSON types,
unknown and dropped fields, deep nesting, huge numbers, invalid UTF-8, truncation; query values dropped,
repeated or odd; ids and tokens almost right; listener URLs that are not loopback, not http, or not URLs
httpx can send to.

What the mock must answer: never a 5xx but the one a `status` fault the fuzz armed was told to answer,
and never an ERROR record (a webhook delivery that dies logs one too); a REST error is
`{error, message, status, field?}` (a 400 `validation_error` always names its field); a control error is
the shared `{error, status, field}`, or aiohttp's own text for a route or method that does not exist.
A request answered with an error changes nothing; a 201 hire adds the one worker it names, a 201 pay item
the one item, a 200 update one change. The ledger stays consistent: every pay item names a worker, every
terminated worker has a termination date, every delivery is of a worker the ledger holds. A bystander
keeps hiring, looking up, paying and terminating throughout; at the end its webhook reaches a receiver.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, quote

import aiohttp
import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from hypothesis import example, given
from yarl import URL

from mocks.common import ControlServer, EventLog, RetryPolicy
from mocks.rippling import RipplingLedger, RipplingMock
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

pytestmark = [pytest.mark.slow, pytest.mark.fuzz]

LOGGERS = ("aiohttp.server", "aiohttp.web", "aiohttp.access", "mocks.rippling", "mocks.common", "asyncio")
FAST = RetryPolicy(max_attempts=2, base_delay_s=0.01, max_delay_s=0.05, timeout_s=2.0, deadline_s=5.0)
REST_STATUSES = {200, 201, 400, 401, 404, 405, 409, 413}
CONTROL_STATUSES = {200, 201, 204, 400, 404, 405, 413}
CHANGES = ("worker_created", "worker_updated", "pay_item_created")
ZERO = "0" * 24

# -- strategies -------------------------------------------------------------------------------------
# Placeholders ({token}, {worker}, {item}, {receiver}, {lid} …) are bound when sent (Binder); an
# upper-case one is the same id upper-cased (ids match in any case).
WORKERS = mostly_valid(["{worker}", "{worker}", "{WORKER}"], [
    ZERO, "x", "%2e%2e", "{worker}x", "%20{worker}", "a" * 300, "%ff", "{worker}%00", "{worker}%2F",
])  # fmt: skip
ITEMS = mostly_valid(["{item}", "{ITEM}"], [ZERO, "", "{worker}", "%ff", "{item}x"])
AUTH = mostly_valid(["Bearer {token}"], [
    "", "Bearer", "bearer {token}", "BEARER {token}", "Bearer  {token} ", "Basic Zm9vOmJhcg==",
    "Bearer {token}x", "{token}", "Bearer {token} {token}", "Bearer\t{token}", "Token {token}",
    "Bearer " + "x" * 5000, None,
])  # fmt: skip
EMAILS = mostly_valid(
    ["ann@firm.test", "b.o+b@x.example", "{email}"], ["ann", "a@b", "", "x" * 300 + "@a.b", "a b@c.d", "@x.y"]
)
NAMES = mostly_valid(["Ann", "é", "<b>'; DROP TABLE workers; --"], ["", " ", "\x00", "x" * 101])
DATES = mostly_valid(["2026-01-05", "2000-02-29"], ["2026-02-30", "yesterday", "2026-1-5", "", "20260105"])
hire_body = st.fixed_dictionaries(
    {"first_name": NAMES, "last_name": NAMES, "work_email": EMAILS},
    optional={
        "worker_type": mostly_valid(["EMPLOYEE", "contractor"], ["INTERN", ""]),
        "external_id": mostly_valid(["trader-1", "{ext}"], ["", " "]),
        "title": mostly_valid(["Funded Trader"], ["x" * 101]),
        "start_date": DATES,
    },
)
update_body = st.fixed_dictionaries(
    {"status": mostly_valid(["TERMINATED", "active", "ACTIVE"], ["FIRED", "", "INIT"])},
    optional={
        "termination_date": DATES,
        "title": mostly_valid(["Senior Trader"], ["", "x" * 101]),
        "external_id": mostly_valid(["trader-2"], [""]),
    },
)
pay_body = st.fixed_dictionaries(
    {
        "worker_id": mostly_valid(["{worker}", "{WORKER}"], [ZERO, "", "x"]),
        "amount": mostly_valid(["1250.00", "99", 10, 0.5, "0.01"],
                               ["-5", "0", "1.001", "NaN", "1e99", "sNaN", "Infinity", "", "1_0", True]),
    },
    optional={
        "currency": mostly_valid(["USD", "EUR"], ["usd", "US", "", 1]),
        "type": mostly_valid(["PAYOUT", "bonus"], ["GIFT"]),
        "reference": mostly_valid(["payout-1", "{ref}"], ["", "\ud800"]),
        "memo": mostly_valid(["March payout"], ["x" * 501]),
    },
)  # fmt: skip
WORKER_FILTERS = {
    "work_email": EMAILS,
    "external_id": mostly_valid(["trader-1", "{ext}"], ["", "%ff"]),
    "status": mostly_valid(["ACTIVE", "terminated"], ["FIRED", ""]),
    "limit": mostly_valid(["1", "2", "100"], ["0", "101", "-1", "x", "٣", "9" * 5000]),
    "cursor": mostly_valid(["{cursor}"], ["bogus", "", "%ff", "b2Zmc2V0Oi0x", "b2Zmc2V0Ojk5OTk5OTk5OTk5"]),
}
PAY_FILTERS = {
    "worker_id": mostly_valid(["{worker}"], ["", ZERO]),
    "reference": mostly_valid(["payout-1", "{ref}"], [""]),
    "limit": WORKER_FILTERS["limit"],
    "cursor": WORKER_FILTERS["cursor"],
}
WORKER_QUERY = query_pairs({}, WORKER_FILTERS)
PAY_QUERY = query_pairs({}, PAY_FILTERS)
LISTENER_URLS = mostly_valid(
    ["{receiver}", "http://127.0.0.1:1/hook", "http://localhost:{rest_port}/hook", "http://[::1]:1/x"],
    ["https://example.com/hook", "ftp://127.0.0.1/", "http://", "127.0.0.1:1", "http://[::1", "http://10.0.0.1/",
     "http://127.0.0.1:99999/x", "http://127.0.0.1:abc/x", "http://127.0.0.1/\x00", "http://127.0.0.1:-1/",
     "http://127.0.0.1:1/" + "a" * 70_000, "HTTP://LOCALHOST:1/", ""],
)  # fmt: skip
TOKENS = mostly_valid(["{token}", "second-token"], ["", " t", "a b", "é", "x" * 4097, 5])
EVENT = {"event": mostly_valid(["employee.created", "pay_item.created"], ["employee.hired", ""])}
FAULT_PARAMS = {
    "duplicate": st.fixed_dictionaries({}, optional=EVENT),
    "delay": st.fixed_dictionaries({"delay_ms": mostly_valid([1, 5], [0, 600_001, 1.5])}, optional=EVENT),
    "drop_then_retry": st.fixed_dictionaries({}, optional=EVENT),
    "slow": st.fixed_dictionaries(
        {"delay_ms": mostly_valid([0, 5], [-1, 600_001])}, optional={"path": st.just("/workers")}
    ),
    "status": st.fixed_dictionaries(
        {"status": mostly_valid([503, 429, 500, 401], [399, 600, "503", None])},
        optional={"retry_after_s": mostly_valid([0, 3], [-1, 3601]), "path": st.just("/pay-items")},
    ),
}
COUNT = mostly_valid([1, 2], [0, -1, None])
fault_body = st.one_of(*[
    st.fixed_dictionaries({"fault": st.just(name), "params": params, "count": COUNT})
    for name, params in FAULT_PARAMS.items()
])  # fmt: skip
BODIES = {
    "hire": hire_body,
    "update": update_body,
    "pay": pay_body,
    "listener": st.fixed_dictionaries({"url": LISTENER_URLS}, optional={"token": TOKENS}),
    "tokens": st.fixed_dictionaries({"tokens": st.lists(TOKENS, max_size=3)}),
    "retry": st.fixed_dictionaries(
        {},
        optional={
            "max_attempts": mostly_valid([1, 2], [0, 21]),
            "base_delay_ms": mostly_valid([0, 10], [-1, 600_001]),
            "timeout_ms": mostly_valid([1000], [0]),
            "deadline_ms": mostly_valid([5000], [0]),
        },
    ),
    "fault": fault_body,
}
CONTROL_PATHS = {"listener": ("POST", "/rippling/listeners"), "tokens": ("PUT", "/rippling/tokens"),
                 "retry": ("PUT", "/rippling/retry"), "fault": ("POST", "/faults")}  # fmt: skip
CONTROL_READS = ["/rippling", "/rippling/outbox", "/faults", "/health", "/events?kind=fault_fired&since=9",
                 "/events?since=x", "/events?since=" + "9" * 30]  # fmt: skip
ODD_REST = ["/workers/{worker}/pay", "/workers/", "/companies", "/companies/current", "/pay-items/",
            "/", "/%ff", "/platform/api/employees"]  # fmt: skip
ODD_CONTROL = ["/rippling/nope", "/rippling/listeners/1", "/ledger/x", "/"]
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
CONTENT_TYPES = ["application/json", "application/json", None, "text/plain",
                 "application/x-www-form-urlencoded"]  # fmt: skip
BIG = [
    b'{"first_name": "' + b"x" * 300_000 + b'"}',
    b"[" * 200_000,
    deep("[", 3000),
    deep('{"a":', 1100),
]


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
        ["hire"] * 6 + ["get"] * 3 + ["list"] * 4 + ["update"] * 4 + ["pay"] * 5 + ["get_pay"] * 2
        + ["list_pay"] * 3 + ["auth"] * 2 + ["rest_odd"] * 2 + ["big"] + ["listener"] * 2 + ["unlisten"]
        + ["tokens"] + ["retry"] + ["fault"] * 2 + ["unfault"] + ["read"] + ["control_odd"]
    )  # fmt: skip
    bodies = {
        k: st.one_of(v.map(lambda d: json.dumps(d).encode("utf-8", "surrogatepass")), mutated_json(v))
        for k, v in BODIES.items()
    }
    worker = WORKERS
    item = ITEMS
    auth = AUTH
    worker_query = st.one_of(WORKER_QUERY.map(encode_query), mutated_query(WORKER_QUERY))
    pay_query = st.one_of(PAY_QUERY.map(encode_query), mutated_query(PAY_QUERY))
    content_type = st.sampled_from(CONTENT_TYPES)
    pick = st.integers(0, 1 << 16)
    lid = mostly_valid(["{lid}"], ["", "x", "9" * 5000, "%00"])
    unfault = mostly_valid(["status", "slow", "duplicate"], ["", "nope", "x" * 300])
    read = st.sampled_from(CONTROL_READS)
    odd_rest = st.sampled_from(ODD_REST)
    odd_control = st.sampled_from(ODD_CONTROL)
    method = st.sampled_from(METHODS)
    junk = st.binary(max_size=40)
    big = st.sampled_from(BIG)


@st.composite
def rippling_requests(draw: st.DrawFn) -> Request:
    kind = draw(S.kind)
    pick = draw(S.pick)
    auth = draw(S.auth) if kind == "auth" else "Bearer {token}"
    ctype = draw(S.content_type)
    if kind in ("hire", "auth"):
        return Request(kind, "rest", "POST", "/workers", draw(S.bodies["hire"]), auth, ctype, pick)
    if kind == "get":
        return Request(kind, "rest", draw(st.sampled_from(["GET", "HEAD"])), f"/workers/{draw(S.worker)}",
                       b"", auth, None, pick)  # fmt: skip
    if kind == "list":
        return Request(kind, "rest", "GET", f"/workers?{draw(S.worker_query)}", b"", auth, None, pick)
    if kind == "update":
        body = draw(S.bodies["update"])
        return Request(kind, "rest", "PATCH", f"/workers/{draw(S.worker)}", body, auth, ctype, pick)
    if kind == "pay":
        return Request(kind, "rest", "POST", "/pay-items", draw(S.bodies["pay"]), auth, ctype, pick)
    if kind == "get_pay":
        return Request(kind, "rest", "GET", f"/pay-items/{draw(S.item)}", b"", auth, None, pick)
    if kind == "list_pay":
        return Request(kind, "rest", "GET", f"/pay-items?{draw(S.pay_query)}", b"", auth, None, pick)
    if kind == "rest_odd":
        return Request(kind, "rest", draw(S.method), draw(S.odd_rest), draw(S.junk), auth, ctype, pick)
    if kind == "big":
        return Request(kind, "rest", "POST", draw(st.sampled_from(["/workers", "/pay-items"])), draw(S.big),
                       auth, ctype, pick)  # fmt: skip
    # the control API: no Authorization
    if kind == "unlisten":
        return Request(kind, "control", "DELETE", f"/rippling/listeners?id={draw(S.lid)}", b"", None, None)
    if kind == "unfault":
        return Request(kind, "control", "DELETE", f"/faults?fault={draw(S.unfault)}", b"", None, None, pick)
    if kind == "read":
        return Request(kind, "control", "GET", draw(S.read), b"", None, None, pick)
    if kind == "control_odd":
        return Request(kind, "control", draw(S.method), draw(S.odd_control), draw(S.junk), None, ctype, pick)
    method, path = CONTROL_PATHS[kind]
    return Request(kind, "control", method, path, draw(S.bodies[kind]), None, ctype, pick)


REQUESTS = rippling_requests()


def rest(kind: str, method: str, target: str, body: Any = None, auth: str = "Bearer {token}") -> Request:
    raw = body if isinstance(body, bytes) else b"" if body is None else json.dumps(body).encode()
    return Request(kind, "rest", method, target, raw, auth)


def control(kind: str, method: str, target: str, body: Any = None) -> Request:
    raw = body if isinstance(body, bytes) else b"" if body is None else json.dumps(body).encode()
    return Request(kind, "control", method, target, raw, None)


# -- binding placeholders, checking answers and the ledger -------------------------------------------
class Binder:
    """Placeholders to values of the running mock: its token, a worker, a pay item, a listener."""

    def __init__(self, venue: RipplingMock, receiver: str, rest_port: int) -> None:
        self.venue, self.receiver, self.rest_port = venue, receiver, rest_port

    def __call__(self, text: str, pick: int) -> str:
        if "{" not in text and "%7B" not in text:
            return text
        ledger = self.venue.ledger
        workers = list(ledger.workers.values())
        worker = workers[pick % len(workers)] if workers else None
        items = list(ledger.pay_items.values())
        item = items[pick % len(items)].id if items else ZERO
        lids = [listener.listener_id for listener in self.venue.listeners]
        values = {
            "worker": worker.id if worker else ZERO,
            "WORKER": worker.id.upper() if worker else ZERO,
            "email": worker.work_email if worker else "none@x.test",
            "ext": (worker.external_id or "trader-1") if worker else "trader-1",
            "item": item,
            "ITEM": item.upper(),
            "ref": f"ref-{pick % 7}",
            "cursor": "b2Zmc2V0OjE",  # offset 1
            "token": self.venue.tokens[0],
            "receiver": self.receiver,
            "rest_port": str(self.rest_port),
            "lid": lids[pick % len(lids)] if lids else ZERO,
        }
        for name, value in values.items():
            text = text.replace("{" + name + "}", value).replace("%7B" + name + "%7D", value)
        return text

    def target(self, request: Request) -> str:
        return quote(self(request.target, request.pick), safe=QUERY_SAFE + "?")

    def headers(self, request: Request) -> dict[str, str]:
        headers = {}
        if request.auth is not None:
            headers["Authorization"] = self(request.auth, request.pick)
        if request.content_type is not None:
            headers["Content-Type"] = request.content_type
        return headers

    def body(self, request: Request) -> bytes:
        if len(request.body) > 1 << 18:
            return request.body
        return bind_body(request.body, lambda text: self(text, request.pick))


class Recorder(EventLog):
    """The venue's event log, also kept whole in a list: what one request logged is `all[mark:]`."""

    def __init__(self) -> None:
        super().__init__()
        self.all: list[dict[str, Any]] = []

    def add(self, kind: str, **detail: Any) -> None:
        super().add(kind, **detail)
        self.all.append({"kind": kind, **detail})


def recorded(venue: RipplingMock) -> Recorder:
    log = Recorder()
    venue.events = log
    return log


def forced_status(
    log: Recorder, mark: int, armed: dict[int, dict[str, Any]], path: str
) -> dict[str, Any] | None:
    """The params of the `status` fault that fired on `path` since `mark`, if one did (a webhook sent to
    the mock's own REST port passes the same gateway, and may take one first)."""
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
    if forced is not None:
        assert status == forced["status"], (status, forced, request)
        if status == 429:
            assert headers["Retry-After"] == str(forced["retry_after_s"]), dict(headers)
        return f"fault-{status}"
    assert status in REST_STATUSES, (status, body[:300], request)
    if request.method == "HEAD":
        assert not body
        return f"head-{status}"
    assert ctype.startswith("application/json"), (ctype, body[:300], request)
    payload = json.loads(body)
    assert isinstance(payload, dict), payload
    if status >= 400:
        assert payload["status"] == status and isinstance(payload["message"], str), payload
        assert payload["message"].strip(), payload
        if payload["error"] == "validation_error":
            assert isinstance(payload["field"], str) and payload["field"], payload
            if "unknown field" in payload["message"]:
                return f"{status}-unknown"
            return f"{status}-{payload['field'].split('[')[0][:20]}"
        return f"{status}-{payload['error']}"
    if "results" in payload:
        assert isinstance(payload["results"], list) and len(payload["results"]) <= 100, payload
        link = payload["next_link"]
        assert link is None or link.startswith(("/workers?", "/pay-items?")), link
    elif status == 201 or request.kind in ("get", "update", "get_pay"):
        assert len(payload["id"]) == 24, payload
    return str(status)


def check_control(request: Request, status: int, headers: Any, body: bytes) -> str:
    """A control-API answer's shape: the shared error names its field; aiohttp's own text otherwise."""
    assert status in CONTROL_STATUSES, (status, body[:300], request)
    ctype = headers.get("Content-Type", "")
    if request.method == "HEAD":
        assert not body
        return f"head-{status}"
    if status == 400 and not ctype.startswith("application/json"):
        assert len(request.target) > 4000, (body[:300], request)
        return "400-http"
    if status in (404, 405, 413) and not ctype.startswith("application/json"):
        return f"{status}-aiohttp"
    if status == 204:
        return "204"
    payload = json.loads(body)
    if status >= 400:
        assert payload["status"] == status and isinstance(payload["error"], str) and payload["error"], payload
        if "unknown field" in payload["error"]:
            return f"{status}-unknown"
        return f"{status}-{str(payload.get('field')).split('.')[0].split('[')[0][:20]}"
    return str(status)


def check_changes(
    request: Request, status: int, body: bytes, forced: Any, changes: list[dict[str, Any]]
) -> None:
    """What one request changed: an error nothing; a hire or pay item the one it names; an update one."""
    if status >= 300 or forced is not None or request.method == "HEAD":
        assert not changes, (status, changes, request)
        return
    if request.kind in ("hire", "auth", "pay", "big") or (request.kind == "rest_odd" and status == 201):
        made = json.loads(body)
        assert len(changes) == 1, (changes, request)
        assert made["id"] in (changes[0].get("worker_id"), changes[0].get("pay_item_id")), (changes, made)
        assert changes[0]["kind"] in ("worker_created", "pay_item_created"), changes
    elif request.kind == "update":
        assert [c["kind"] for c in changes] == ["worker_updated"], (changes, request)
    else:
        assert not changes, (changes, request)


def ledger_ok(ledger: RipplingLedger) -> None:
    for item in ledger.pay_items.values():
        assert item.worker_id in ledger.workers, item
    for worker in ledger.workers.values():
        assert (worker.status == "TERMINATED") <= (worker.termination_date is not None), worker
    for delivery in list(ledger.deliveries):
        assert getattr(delivery, "employee_id", "") in ledger.workers, delivery


def after(
    request: Request,
    status: int,
    body: bytes,
    venue: RipplingMock,
    token: str,
    armed: dict[int, dict[str, Any]],
    ask: Callable[[Request], Any],
) -> None:
    """Undo what would only keep the next requests from the parsers: a `slow` fault (the suite would wait),
    a `status` fault without a small count, a token list without the token the requests carry."""
    if request.kind == "fault" and status == 201:
        fault = json.loads(body)
        armed[fault["id"]] = fault["params"]
        endless = fault["remaining"] is None or fault["remaining"] > 3
        if fault["fault"] == "slow" and (endless or fault["params"]["delay_ms"] > 20):
            ask(control("undo", "DELETE", "/faults?fault=slow"))
        elif fault["fault"] == "status" and endless:
            ask(control("undo", "DELETE", "/faults?fault=status"))
    if request.kind == "listener" and status == 201 and len(venue.listeners) > 2:
        # every event goes to every listener: keep the fan-out (and the suite's time) small
        ask(control("undo", "DELETE", f"/rippling/listeners?id={venue.listeners[0].listener_id}"))
    if request.kind == "tokens" and status == 200 and token not in venue.tokens:
        ask(control("undo", "PUT", "/rippling/tokens", {"tokens": [token]}))


class Bystander:
    """A careful middleware on its own connections: looks up before it hires or pays, then terminates."""

    def __init__(self, venue: RipplingMock, ask: Callable[[Request, int], Any]) -> None:
        self.venue, self.ask = venue, ask
        self.token = venue.tokens[0]
        self.n = 0

    def rest(self, method: str, target: str, body: Any = None, expect: int = 200) -> Any:
        return self.ask(rest("by", method, target, body, f"Bearer {self.token}"), expect)

    def hire(self, ext: str) -> str:
        found = self.rest("GET", f"/workers?external_id={ext}")["results"]
        if found:
            return str(found[0]["id"])
        body = {
            "first_name": "Bea",
            "last_name": "Stander",
            "work_email": f"{ext}@firm.test",
            "external_id": ext,
        }
        worker_id: str = self.rest("POST", "/workers", body, 201)["id"]
        return worker_id

    def served(self) -> None:
        self.n += 1
        if self.token not in self.venue.tokens:
            self.ask(control("by", "PUT", "/rippling/tokens", {"tokens": [self.token]}), 200)
        for fault in ("status", "slow"):  # armed for everyone: the bystander would get them too
            self.ask(control("by", "DELETE", f"/faults?fault={fault}"), 200)
        ext = f"bystander-{self.n}"
        worker_id = self.hire(ext)
        assert self.hire(ext) == worker_id  # looked up, not hired twice
        assert self.rest("GET", f"/workers/{worker_id}")["work_email"] == f"{ext}@firm.test"
        ref = f"by-payout-{self.n}"
        self.rest("POST", "/pay-items", {"worker_id": worker_id, "amount": "12.50", "reference": ref}, 201)
        [item] = self.rest("GET", f"/pay-items?reference={ref}")["results"]
        assert item["amount"] == {"value": "12.50", "currency": "USD"}, item
        done = self.rest("PATCH", f"/workers/{worker_id}", {"status": "TERMINATED"})
        assert done["status"] == "TERMINATED", done
        ledger_ok(self.venue.ledger)


# -- the in-process suite ---------------------------------------------------------------------------
async def _receiver() -> tuple[TestServer, list[tuple[bytes, dict[str, str]]]]:
    """A webhook receiver that records what it gets and answers 200."""
    hits: list[tuple[bytes, dict[str, str]]] = []

    async def hook(request: web.Request) -> web.Response:
        hits.append((await request.read(), dict(request.headers)))
        return web.Response(text="ok")

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
        root = self.rest_root if request.surface == "rest" else self.control_root
        url = URL(root + self.bind.target(request), encoded=True)
        body = self.bind.body(request)
        async with self.http.request(request.method, url, headers=self.bind.headers(request), data=body) as r:
            return r.status, r.headers, await r.read(), url.path


def test_rippling_parsers_survive_10k_malformed_requests() -> None:
    with event_loop() as loop, error_records(*LOGGERS) as errors:

        async def setup() -> Any:
            receiver, hits = await _receiver()
            venue = RipplingMock(seed=13, retry=FAST, listeners=(f"http://127.0.0.1:{receiver.port}/hook",))
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
    venue: RipplingMock,
    servers: list[TestServer],
    sessions: list[aiohttp.ClientSession],
    hits: list[tuple[bytes, dict[str, str]]],
    errors: Any,
) -> None:
    tally = Tally()
    log = recorded(venue)
    rest_server, control_server, receiver = servers
    assert rest_server.port is not None
    receiver_url = f"http://127.0.0.1:{receiver.port}/hook"
    bind = Binder(venue, receiver_url, rest_server.port)
    roots = str(rest_server.make_url("")), str(control_server.make_url(""))
    fuzzer, good = Sender(sessions[0], *roots, bind), Sender(sessions[1], *roots, bind)  # own connections
    armed: dict[int, dict[str, Any]] = {}
    token = venue.tokens[0]

    def run(coro: Any) -> Any:
        return loop.run_until_complete(coro)

    def ask(request: Request, expect: int = 200) -> Any:
        status, _, body, _ = run(good.send(request))
        assert status == expect, (status, body[:300], request)
        return json.loads(body) if body else None

    bystander = Bystander(venue, ask)
    bystander.served()

    @FUZZ
    @given(request=seeded(REQUESTS))
    @example(request=rest("pay", "POST", "/pay-items", {"worker_id": "{worker}", "amount": "sNaN"}))
    @example(request=rest("pay", "POST", "/pay-items", b'{"worker_id": "{worker}", "amount": 1e400}'))
    @example(request=rest("pay", "POST", "/pay-items", {"worker_id": "{worker}", "amount": 10**40}))
    @example(request=rest("hire", "POST", "/workers", b'{"first_name": "\\ud800", "last_name": "x"}'))
    @example(request=rest("list", "GET", "/workers?external_id=%ED%A0%80&limit=1"))
    @example(request=rest("list", "GET", "/workers?cursor=%ff%fe"))
    @example(
        request=rest(
            "update", "PATCH", "/workers/{worker}", {"status": "TERMINATED", "termination_date": None}
        )
    )
    @example(
        request=control(
            "listener", "POST", "/rippling/listeners", {"url": "http://127.0.0.1:1/", "token": "é"}
        )
    )
    @example(
        request=control(
            "fault", "POST", "/faults", {"fault": "status", "params": {"status": 429}, "count": 1}
        )
    )
    def fuzz(request: Request) -> None:
        mark = len(log.all)
        status, headers, body, path = run(fuzzer.send(request))
        forced = forced_status(log, mark, armed, path)
        if request.surface == "rest":
            label = check_rest(request, status, headers, body, forced)
        else:
            label = check_control(request, status, headers, body)
        changes = [e for e in log.all[mark:] if e["kind"] in CHANGES]
        check_changes(request, status, body, forced, changes)
        assert not errors.take(), request
        tally.add(f"{request.kind}:{label}")
        after(request, status, body, venue, token, armed, ask)
        if tally.total % 250 == 0:
            ledger_ok(venue.ledger)
        if tally.total % 500 == 0:
            bystander.served()
            if len(venue.ledger.workers) > 400:  # keep look-ups small: start over, same seed
                run(venue.reset())
                armed.clear()

    fuzz()
    bystander.served()
    assert not errors.take()
    _webhooks_still_work(loop, ask, bystander, receiver_url, hits)
    ledger_ok(venue.ledger)
    assert not errors.take()
    deliveries = sum(1 for e in log.all if e["kind"] == "delivery")
    print(f"\nrippling in-process: {tally.total} requests, {deliveries} webhook delivery attempts"
          f" {dict(sorted(tally.kinds.items()))}")  # fmt: skip
    assert tally.total >= MIN_EXAMPLES and deliveries >= 500
    floors = {"hire:201": 125, "pay:201": 150, "update:200": 65, "list:200": 150, "get:200": 45,
              "list_pay:200": 100, "auth:401-invalid_token": 30, "listener:201": 20, "fault:201": 50,
              "hire:400-body": 200, "pay:400-amount": 30, "update:409-conflict": 5}  # fmt: skip
    short = {k: (tally.kinds.get(k, 0), f) for k, f in floors.items() if tally.kinds.get(k, 0) < f}
    assert not short, short


def _webhooks_still_work(
    loop: asyncio.AbstractEventLoop,
    ask: Callable[[Request, int], Any],
    bystander: Bystander,
    receiver_url: str,
    hits: list[tuple[bytes, dict[str, str]]],
) -> None:
    """After the fuzz: one listener with a token, no faults; the bystander's hire arrives form-encoded."""
    ask(control("end", "DELETE", "/faults"), 200)
    ask(control("end", "DELETE", "/rippling/listeners"), 200)
    ask(control("end", "POST", "/rippling/listeners", {"url": receiver_url, "token": "end-token"}), 201)
    ask(control("end", "PUT", "/rippling/retry", {"max_attempts": 2, "base_delay_ms": 10}), 200)
    # Ids are seeded and a reset during the fuzz starts them over, and a delivery the fuzz delayed
    # may still land: only deliveries made from here on, through the new listener, count.
    mark = len(hits)
    worker_id = bystander.hire("the-end")

    def arrived() -> list[tuple[bytes, dict[str, str]]]:
        return [
            h
            for h in hits[mark:]
            if parse_qs(h[0].decode()).get("employee_id") == [worker_id]
            and h[1].get("Authorization") == "Bearer end-token"
        ]

    for _ in range(500):
        if arrived():
            break
        loop.run_until_complete(asyncio.sleep(0.01))
    assert arrived(), f"the bystander's hire never reached the new listener; hits since: {hits[mark:]}"
    raw, headers = arrived()[0]
    assert parse_qs(raw.decode())["event_name"] == ["employee.created"]
    assert headers["Content-Type"].startswith("application/x-www-form-urlencoded")


# -- live, over real sockets ------------------------------------------------------------------------
@pytest.fixture
def live_rippling() -> Iterator[VenueThread]:
    with VenueThread(RipplingMock(seed=13, retry=FAST)) as vt:
        yield vt


def test_rippling_live_malformed_requests_and_a_bystander(live_rippling: VenueThread) -> None:
    venue = live_rippling.venue
    assert isinstance(venue, RipplingMock)
    tally = Tally()
    log = recorded(venue)
    receiver, _ = live_rippling.run(_receiver())
    bind = Binder(venue, f"http://127.0.0.1:{receiver.port}/hook", venue.port)
    roots = {"rest": venue.url, "control": live_rippling.control_url}
    armed: dict[int, dict[str, Any]] = {}
    try:
        with (
            error_records(*LOGGERS) as errors,
            httpx.Client(timeout=10) as attacker,
            httpx.Client(timeout=10) as good,
        ):

            def ask(request: Request, expect: int = 200) -> Any:
                r = good.request(
                    request.method, roots[request.surface] + bind.target(request),
                    headers=bind.headers(request), content=bind.body(request),
                )  # fmt: skip
                assert r.status_code == expect, (r.status_code, r.text[:300], request)
                return r.json() if r.content else None

            ask(control("setup", "POST", "/rippling/listeners", {"url": bind.receiver}), 201)
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
            ledger_ok(venue.ledger)
    finally:
        live_rippling.run(receiver.close())
    print(f"\nrippling live: {tally.total} requests {dict(sorted(tally.kinds.items()))}")
    assert tally.total >= 300
    assert sum(n for k, n in tally.kinds.items() if k.endswith((":200", ":201"))) >= 50, tally.kinds

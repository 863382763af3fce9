"""The Zapier mock's request parsing under 10,000 malformed requests, in-process, and a few hundred live.

Two surfaces: the catch hook a sender posts triggers to (JSON objects and arrays, forms, odd content
types, query strings, wrong accounts and hooks, odd methods) and the control API the harness drives
(faults, the retry policy, limits, Zap switches, the task history, replays, events). Each request starts
from a valid one and is broken a little: wrong JSON types, unknown and dropped fields, deep nesting, huge
numbers, invalid UTF-8, truncation. The Zap's steps render the fuzzed trigger into a URL path, a header
and JSON and form bodies, so hostile payloads reach the runner too.

What the mock must answer (hooks.py, control.py, mocks/common/control.py): never a 5xx but one a
`status` fault the fuzz armed was told to give, and never an ERROR record; a hook refusal is
`{"status": "error", "message"}` JSON, a control refusal the shared `{error, status, field}`, or aiohttp's
own text for a route or method that does not exist. Every run stays in a known state and none ends with an
internal error. A bystander sender on its own hook keeps getting its triggers run to `success` throughout.

The suite undoes what would only stop it reaching the parsers (`after`): limits that starve the bucket,
a switched-off Zap, a slow retry policy, endless faults.
"""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from hypothesis import example, given
from yarl import URL

from mocks.common import ControlServer
from mocks.zapier import ZapierMock, parse
from mocks.zapier.runs import STATES
from tests.mocks.venue_thread import VenueThread

from . import gen as st
from .gen import seeded
from .mutate import (
    FUZZ,
    LIVE,
    MIN_EXAMPLES,
    Tally,
    deep,
    error_records,
    event_loop,
    mostly_valid,
    mutated,
    mutated_json,
    mutated_query,
    query_pairs,
)

pytestmark = [pytest.mark.fuzz, pytest.mark.slow]

LOGGERS = ("aiohttp.server", "aiohttp.web", "mocks.zapier", "mocks.common", "asyncio")
ACCOUNT = "31337"
HOOK_STATUSES = {200, 400, 404, 405, 410, 413, 429}
CONTROL_STATUSES = {200, 201, 204, 400, 404, 405, 409, 413, 429}
LIMITS = {"burst": 1_000_000, "refill_per_s": 1_000_000.0, "queue_size": 5000, "workers": 8, "jitter_ms": 0.0}
RETRY = {"max_attempts": 1, "base_delay_ms": 1, "max_delay_ms": 5, "timeout_ms": 2000, "deadline_ms": 5000}


def config(env: dict[str, str]) -> Any:
    step_body = {
        "email": "{{trigger.data.object.customer_details.email}}",
        "amount": "{{trigger.data.object.amount_total}}",
        "all": "{{trigger}}",
        "note": "paid by {{trigger.data.object.customer}} ({{trigger.id}})",
    }
    fuzz_steps = [
        {"name": "first", "url": "{{env.target}}/t/{{trigger.id}}", "body": step_body,
         "headers": {"X-Event": "{{trigger.id}}", "X-Type": "{{trigger.type}}"}},
    ]  # fmt: skip
    form_steps = [
        {"name": "first", "url": "{{env.target}}/form", "body": {"amount": "{{trigger.amount}}"}},
        {"name": "second", "method": "PUT", "url": "{{env.target}}/form/{{trigger.id}}", "encoding": "form",
         "body": {"echo": "{{steps.first}}", "all": "{{trigger}}", "x": "{{trigger.x}}"}},
    ]  # fmt: skip
    bystander = [{"name": "only", "url": "{{env.target}}/bystander", "body": {"n": "{{trigger.n}}"}}]
    raw = {
        "account_id": ACCOUNT,
        "limits": LIMITS,
        "retry": RETRY,
        "zaps": [
            {"id": "fuzz", "hook": "fuzz", "steps": fuzz_steps},
            {"id": "form", "hook": "form", "steps": form_steps},
            {"id": "off", "hook": "off", "enabled": False, "steps": bystander},
            {"id": "by", "hook": "by", "steps": bystander},
        ],
    }
    return parse(raw, env)


# -- strategies -------------------------------------------------------------------------------------
SESSION = {"customer": "cus_1", "amount_total": 10000, "customer_details": {"email": "ann@firm.test"}}
event_body = st.fixed_dictionaries(
    {
        "id": mostly_valid(["evt_1", "evt_2"], ["", "a/b", "x" * 300, "é", "\r\nX-Hi: 1", "%00", "?q#f"]),
        "type": mostly_valid(["checkout.session.completed"], ["", "\x00", "a\nb"]),
        "data": st.just({"object": SESSION}),
    }
)
trigger_body = st.one_of(event_body, event_body, st.lists(event_body, min_size=1, max_size=3))
CONTENT_TYPES = mostly_valid(
    ["application/json", "application/json; charset=utf-8"],
    ["application/x-www-form-urlencoded", "text/plain", "", "multipart/form-data", "application/xml"],
)
ACCOUNTS = mostly_valid(["{account}"], ["", "0", "%2e%2e", "{account}x", "x" * 300, "%00"])
HOOKS = mostly_valid(["fuzz"], ["off", "nope", "FUZZ", "fuzz%2F", "", "x" * 300, "%ff"])
FORM = st.just(b"id=evt_f&type=checkout.session.completed&amount=1&amount=2&x=")
QUERY = query_pairs({}, {"source": st.just("stripe"), "id": st.just("evt_q")})
ZAP_IDS = mostly_valid(["fuzz", "off"], ["nope", "", "%2e%2e", "x" * 300, "by%00"])
ACTIONS = mostly_valid(["enable", "disable"], ["Enable", "pause", "", "x" * 300])
RUN_IDS = mostly_valid(["{run}"], ["nope", "", "{run}x", "%00", "x" * 300])
STATE_Q = query_pairs(
    {}, {"state": st.sampled_from([*STATES, "done"]), "zap": st.sampled_from(["fuzz", "x"])}
)
EVENTS_Q = query_pairs({"since": st.just("{seq}")}, {"kind": st.just("run_finished")})
HOOK_PARAM = {"hook": mostly_valid(["fuzz", "off"], ["", "x" * 300])}
FAULT_PARAMS = {
    "status": st.fixed_dictionaries(
        {"status": mostly_valid([429, 503, 500, 410], [399, 600, "503", None])},
        optional={"retry_after_s": mostly_valid([0, 2], [-1, 3601]), **HOOK_PARAM},
    ),
    "slow": st.fixed_dictionaries({"delay_ms": mostly_valid([0, 3], [-1, 600_001])}, optional=HOOK_PARAM),
    "duplicate": st.fixed_dictionaries({}, optional=HOOK_PARAM),
    "delay": st.fixed_dictionaries({"hold_ms": mostly_valid([0, 5], [-1, 600_001])}, optional=HOOK_PARAM),
    "drop": st.fixed_dictionaries({}, optional=HOOK_PARAM),
}
fault_body = st.one_of(*[
    st.fixed_dictionaries(
        {"fault": st.just(name), "params": params},
        optional={"count": mostly_valid([1, 2], [0, -1, None])},
    )
    for name, params in FAULT_PARAMS.items()
])  # fmt: skip
retry_body = st.fixed_dictionaries(
    {},
    optional={
        "max_attempts": mostly_valid([1, 2], [0, 21]),
        "base_delay_ms": mostly_valid([1, 5], [-1]),
        "timeout_ms": mostly_valid([500, 2000], [0]),
    },
)
limits_body = st.fixed_dictionaries(
    {},
    optional={
        "burst": mostly_valid([1, 100], [0, 1.5, 10**7]),
        "refill_per_s": mostly_valid([0, 10.5], [-1]),
        "queue_size": mostly_valid([1, 50], [0]),
        "workers": mostly_valid([1, 4], [0, 65]),
        "jitter_ms": mostly_valid([0, 2], [-1]),
    },
)


@dataclass(frozen=True)
class Request:
    kind: str
    surface: str  # "hook" | "control"
    method: str
    target: str  # path and query, placeholders unbound
    body: bytes = b""
    content_type: str | None = "application/json"

    def __repr__(self) -> str:
        body, target = self.body[:300], self.target[:200]
        return f"Request({self.kind} {self.method} {target!r} {body!r} {self.content_type!r})"


class S:
    kind = st.sampled_from(["hook"] * 5 + ["replay", "run", "unfault", "form", "odd_hook", "fault", "fault",
                            "retry", "limits", "switch", "runs", "events", "control_odd"])  # fmt: skip
    trigger = mutated_json(trigger_body)
    form = mutated(FORM)
    fault = mutated_json(fault_body)
    retry = mutated_json(retry_body)
    limits = mutated_json(limits_body)
    query = st.one_of(st.just(""), st.just(""), st.just("source=stripe"), mutated_query(QUERY))
    slash = st.booleans()
    hook_method = mostly_valid(["POST", "PUT"], ["GET", "DELETE", "PATCH", "HEAD"])
    fault_name = st.sampled_from(["status", "slow", "drop", "nope", ""])
    runs_query = mutated_query(STATE_Q)
    events_query = mutated_query(EVENTS_Q)
    odd_method = st.sampled_from(["PUT", "PATCH", "DELETE", "GET", "POST"])
    odd_path = st.sampled_from(["/zapier/zaps/fuzz", "/zapier/nope", "/zapier/runs/{run}/x", "/faults/1"])


@st.composite
def zapier_requests(draw: st.DrawFn) -> Request:
    kind = draw(S.kind)
    if kind in ("hook", "form", "odd_hook"):
        account, hook = ("{account}", kind.replace("hook", "fuzz"))
        if kind == "odd_hook":
            account, hook = draw(ACCOUNTS), draw(HOOKS)
        path = f"/hooks/catch/{account}/{hook}" + ("/" if draw(S.slash) else "")
        query = draw(S.query)
        target = path + (f"?{query}" if query else "")
        if kind == "form":
            return Request(kind, "hook", "POST", target, draw(S.form), "application/x-www-form-urlencoded")
        method = draw(S.hook_method) if kind == "odd_hook" else "POST"
        return Request(kind, "hook", method, target, draw(S.trigger), draw(CONTENT_TYPES))
    if kind == "fault":
        return Request(kind, "control", "POST", "/faults", draw(S.fault))
    if kind == "unfault":
        name = draw(S.fault_name)
        return Request(kind, "control", "DELETE", f"/faults?fault={name}")
    if kind == "retry":
        return Request(kind, "control", "PUT", "/zapier/retry", draw(S.retry))
    if kind == "limits":
        return Request(kind, "control", "PUT", "/zapier/limits", draw(S.limits))
    if kind == "switch":
        return Request(kind, "control", "POST", f"/zapier/zaps/{draw(ZAP_IDS)}/{draw(ACTIONS)}")
    if kind == "replay":
        return Request(kind, "control", "POST", f"/zapier/runs/{draw(RUN_IDS)}/replay")
    if kind == "runs":
        return Request(kind, "control", "GET", "/zapier/runs?" + draw(S.runs_query))
    if kind == "run":
        return Request(kind, "control", "GET", f"/zapier/runs/{draw(RUN_IDS)}")
    if kind == "events":
        return Request(kind, "control", "GET", "/events?" + draw(S.events_query))
    return Request(kind, "control", draw(S.odd_method), draw(S.odd_path), draw(S.retry))


REQUESTS = zapier_requests()


def hook(body: bytes, content_type: str = "application/json") -> Request:
    return Request("hook", "hook", "POST", "/hooks/catch/{account}/fuzz/", body, content_type)


# -- checks -----------------------------------------------------------------------------------------
def check_hook(request: Request, status: int, headers: Any, body: bytes, forced: int | None) -> str:
    ctype = headers.get("Content-Type", "")
    if status == 400 and not ctype.startswith("application/json"):  # aiohttp's HTTP parser: no route ran
        assert len(request.target) > 4000, (body[:300], request)
        return "400-http"
    if forced is not None:
        assert status == forced, (status, forced, request)
        return f"fault-{status}"
    assert status in HOOK_STATUSES, (status, body[:300], request)
    if request.method == "HEAD":
        return str(status)
    payload = json.loads(body)
    if status == 200:
        assert payload["status"] == "success" and payload["id"] == payload["attempt"] == payload["request_id"]
        return "200"
    assert payload["status"] == "error" and isinstance(payload["message"], str), payload
    if status == 429:
        assert int(headers["Retry-After"]) >= 0, dict(headers)
    if status == 400:
        assert payload["field"].startswith("body"), payload
    return f"{status}-{payload.get('field', '')}"


def check_control(request: Request, status: int, headers: Any, body: bytes) -> str:
    ctype = headers.get("Content-Type", "")
    if status == 400 and not ctype.startswith("application/json"):
        assert len(request.target) > 4000, (body[:300], request)
        return "400-http"
    assert status in CONTROL_STATUSES, (status, body[:300], request)
    if status in (404, 405) and not ctype.startswith("application/json"):
        assert body.decode().startswith(f"{status}: "), body[:300]
        return f"{status}-aiohttp"
    if status == 413:
        return "413"
    if status >= 400:
        payload = json.loads(body)
        assert payload["status"] == status and isinstance(payload["error"], str), payload
        field = payload.get("field")
        if status == 400:
            assert isinstance(field, str) and payload["error"].startswith(field), payload
        return f"{status}-{field}"
    return str(status)


def runs_ok(venue: ZapierMock) -> None:
    for run in venue.ledger.runs.values():
        assert run.state in STATES, run
        assert not (run.error or "").startswith("internal"), run
        if run.state == "errored":
            assert run.error, run


class Recorder:
    def __init__(self, venue: ZapierMock) -> None:
        self.all: list[dict[str, Any]] = []
        original = venue.events.add

        def add(kind: str, **detail: Any) -> None:
            self.all.append({"kind": kind, **detail})
            original(kind, **detail)

        venue.events.add = add  # type: ignore[method-assign]


def forced_status(log: Recorder, mark: int, armed: dict[int, int]) -> int | None:
    fired = [e for e in log.all[mark:] if e["kind"] == "fault_fired" and e["fault"] == "status"]
    return armed.get(fired[0]["id"]) if fired else None


class Binder:
    def __init__(self, venue: ZapierMock, log: Recorder | None = None) -> None:
        self.venue, self.log = venue, log

    def target(self, request: Request) -> str:
        run = next(reversed(self.venue.ledger.runs), "none")
        seq = str(max(len(self.log.all) - 20, 0)) if self.log is not None else "0"  # a poll of the tail
        return request.target.replace("{account}", ACCOUNT).replace("{run}", run).replace("{seq}", seq)


def after(request: Request, status: int, body: bytes, venue: ZapierMock, armed: dict[int, int]) -> None:
    """Undo what only stops the fuzz reaching the parsers: starved limits, a Zap off, slow retries, and a
    `slow` fault past 20 ms (a mutated delay of seconds holds each of the next few hooks that long)."""
    if request.kind == "fault" and status == 201:
        fault = json.loads(body)
        if fault["fault"] == "status":
            armed[fault["id"]] = fault["params"]["status"]
        endless = fault["remaining"] is None or fault["remaining"] > 3  # or near enough
        if endless or (fault["fault"] == "slow" and fault["params"]["delay_ms"] > 20):
            venue.faults.clear(fault["fault"])
    if request.kind == "limits" and status == 200:
        venue.limits = venue.config.limits
    if request.kind == "retry" and status == 200:
        venue.retry = venue.config.retry
    if request.kind == "switch" and status == 200:
        venue.switches = {"fuzz": True, "form": True, "off": False, "by": True}


BYSTANDER_WAIT_S = 15.0


class Bystander:
    """A well-behaved sender on its own hook: every trigger acknowledged and run to success."""

    def __init__(
        self,
        venue: ZapierMock,
        post: Callable[[Any], tuple[int, Any]],
        wait: Callable[[], None],
        clear: bool = True,
    ) -> None:
        self.venue, self.post, self.wait, self.clear = venue, post, wait, clear
        self.n = 0

    def served(self) -> None:
        """In-process (`clear`): faults armed for every hook are cleared first, as the bystander would get
        them too; live, the caller clears them through the control API."""
        self.n += 1
        if self.clear:
            for name in ("status", "drop", "slow", "delay"):
                self.venue.faults.clear(name)
        status, answer = self.post({"n": self.n})
        assert status == 200, (status, answer)
        run_id = answer["id"]
        # Its run may queue behind the fuzz's own runs (each up to 3 attempts); on a loaded box that
        # takes more than a moment, so the bound is generous, and still a bound.
        deadline = time.monotonic() + BYSTANDER_WAIT_S
        while time.monotonic() < deadline:
            run = self.venue.ledger.runs.get(run_id)
            if run is not None and run.state == "success":
                return
            self.wait()
        raise AssertionError(f"bystander run {run_id} did not succeed: {self.venue.ledger.runs.get(run_id)}")


# -- the in-process suite ---------------------------------------------------------------------------
async def _receiver() -> tuple[TestServer, list[str]]:
    hits: list[str] = []

    async def target(request: web.Request) -> web.Response:
        await request.read()
        hits.append(request.path)
        return web.json_response({"ok": True, "id": "rcv_1"})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", target)
    server = TestServer(app)
    await server.start_server()
    return server, hits


def test_zapier_parsers_survive_10k_malformed_requests() -> None:
    with event_loop() as loop, error_records(*LOGGERS) as errors:

        async def setup() -> Any:
            receiver, hits = await _receiver()
            env = {"target": f"http://127.0.0.1:{receiver.port}"}
            venue = ZapierMock(config(env), seed=11, env=env)
            await venue.runner.open()
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
            loop.run_until_complete(venue.runner.close())
            for server in servers:
                loop.run_until_complete(server.close())


def _in_process(
    loop: asyncio.AbstractEventLoop,
    venue: ZapierMock,
    servers: list[TestServer],
    sessions: list[aiohttp.ClientSession],
    hits: list[str],
    errors: Any,
) -> None:
    tally = Tally()
    log = Recorder(venue)
    bind = Binder(venue, log)
    hook_server, control_server, _ = servers
    roots = {"hook": str(hook_server.make_url("")), "control": str(control_server.make_url(""))}
    armed: dict[int, int] = {}

    def run(coro: Any) -> Any:
        return loop.run_until_complete(coro)

    async def send(session: aiohttp.ClientSession, request: Request) -> tuple[int, Any, bytes]:
        url = URL(roots[request.surface] + bind.target(request), encoded=True)
        headers = {"Content-Type": request.content_type} if request.content_type is not None else {}
        data: Any = io.BytesIO(request.body) if len(request.body) > 1 << 20 else request.body
        async with session.request(request.method, url, headers=headers, data=data) as r:
            return r.status, r.headers, await r.read()

    def post_bystander(payload: Any) -> tuple[int, Any]:
        by = Request("by", "hook", "POST", "/hooks/catch/{account}/by/", json.dumps(payload).encode())
        status, _, body = run(send(sessions[1], by))
        return status, json.loads(body)

    bystander = Bystander(venue, post_bystander, lambda: run(asyncio.sleep(0.005)))
    bystander.served()

    @FUZZ
    @given(request=seeded(REQUESTS))
    # a Zap that is off answers 410 (an explicit case: whether the generated ones reach it depends on
    # the fuzz's own switches at that moment)
    @example(request=Request("odd_hook", "hook", "POST", "/hooks/catch/{account}/off/", b'{"n": 1}'))
    @example(request=Request("odd_hook", "hook", "PUT", "/hooks/catch/{account}/off", b"x", None))
    @example(request=hook(deep("[", 100_000)))
    @example(request=hook(b'{"id": ' + deep('{"a":', 60) + b"}"))
    @example(request=hook(b'{"id": "x\\r\\nX-Injected: 1", "type": "t"}'))
    @example(request=hook(b'{"id": "../../..", "data": {"object": {"amount_total": NaN}}}'))
    @example(request=hook(b'[{"id": 1}, 2]'))
    @example(request=hook(b"[" + b"{}," * 200 + b"{}]"))
    @example(request=hook(b'{"x": "' + b"a" * (2 << 20) + b'"}'))
    @example(request=hook(b"a=1&a=2&" + b"b=3&" * 2000, "application/x-www-form-urlencoded"))
    @example(
        request=Request(
            "fault", "control", "POST", "/faults", b'{"fault": "status", "params": {"status": 503}}'
        )
    )
    def fuzz(request: Request) -> None:
        mark = len(log.all)
        status, headers, body = run(send(sessions[0], request))
        if request.surface == "hook":
            label = check_hook(request, status, headers, body, forced_status(log, mark, armed))
        else:
            label = check_control(request, status, headers, body)
        assert not errors.take(), request
        tally.add(f"{request.kind}:{label}")
        after(request, status, body, venue, armed)
        if tally.total % 100 == 0:  # the fuzz's own faults rarely survive its mutations: arm one that will
            fault = venue.faults.arm("status", {"status": 503 if tally.total % 200 else 429}, count=1)
            armed[fault.id] = fault.params["status"]
        if tally.total % 250 == 0:
            runs_ok(venue)
        if tally.total % 500 == 0:
            bystander.served()
            if len(venue.ledger.runs) > 200:  # keep the history small: start over, same seed
                run(venue.reset())
                armed.clear()

    fuzz()
    bystander.served()
    runs_ok(venue)
    assert not errors.take()
    states = {s: len(venue.ledger.select(state=s)) for s in STATES}
    print(f"\nzapier in-process: {tally.total} requests, {len(hits)} step calls, runs now {states}"
          f" {dict(sorted(tally.kinds.items()))}")  # fmt: skip
    assert tally.total >= MIN_EXAMPLES and len(hits) >= 2000
    floors = {
        "hook:200": 900, "hook:400-body": 550, "form:200": 120, "form:400-body": 80, "odd_hook:200": 100,
        "odd_hook:404-hook_id": 80, "odd_hook:405-": 20, "odd_hook:410-": 1, "fault:201": 25,
        "fault:400-params": 20, "fault:400-fault": 100, "retry:200": 30, "retry:400-retry": 50,
        "limits:200": 22, "limits:400-burst": 20, "switch:200": 45, "switch:404-zap_id": 10, "replay:201": 10,
        "run:200": 10, "runs:200": 240, "runs:400-state": 45, "events:200": 150,
        "control_odd:404-aiohttp": 300,
    }  # fmt: skip
    assert sum(n for k, n in tally.kinds.items() if ":fault-" in k) >= 40, tally.kinds  # forced answers
    short = {k: (tally.kinds.get(k, 0), f) for k, f in floors.items() if tally.kinds.get(k, 0) < f}
    assert not short, short


# -- live, over real sockets ------------------------------------------------------------------------
@pytest.fixture
def live_zapier() -> Iterator[VenueThread]:
    """The mock on its own thread, its step target on the same loop (env `target` set once it listens)."""
    env = {"target": "http://127.0.0.1:1"}
    with VenueThread(ZapierMock(config(env), seed=11, env=env)) as vt:
        receiver, _ = vt.run(_receiver())
        assert isinstance(vt.venue, ZapierMock)
        vt.venue.env["target"] = f"http://127.0.0.1:{receiver.port}"
        try:
            yield vt
        finally:
            vt.run(receiver.close())


def test_zapier_live_malformed_requests_and_a_bystander(live_zapier: VenueThread) -> None:
    tally = Tally()
    vt = live_zapier
    venue = vt.venue
    assert isinstance(venue, ZapierMock)
    bind = Binder(venue)
    roots = {"hook": vt.url, "control": vt.control_url}
    with (
        error_records(*LOGGERS) as errors,
        httpx.Client(timeout=10) as attacker,
        httpx.Client(timeout=10) as good,
    ):

        def post_bystander(payload: Any) -> tuple[int, Any]:
            r = good.post(f"{vt.url}/hooks/catch/{ACCOUNT}/by/", json=payload)
            return r.status_code, r.json()

        def restore() -> None:
            assert good.delete(vt.control_url + "/faults").status_code == 200
            assert good.put(vt.control_url + "/zapier/limits", json=LIMITS).status_code == 200
            assert good.put(vt.control_url + "/zapier/retry", json=RETRY).status_code == 200
            for zap in ("by", "fuzz", "form"):
                assert good.post(vt.control_url + f"/zapier/zaps/{zap}/enable").status_code == 200

        bystander = Bystander(venue, post_bystander, lambda: time.sleep(0.005), clear=False)

        @LIVE
        @given(request=seeded(REQUESTS))
        def fuzz(request: Request) -> None:
            url = roots[request.surface] + bind.target(request)
            headers = {"Content-Type": request.content_type} if request.content_type else {}
            try:
                r = attacker.request(request.method, url, headers=headers, content=request.body)
            except (httpx.InvalidURL, httpx.UnsupportedProtocol, httpx.LocalProtocolError):
                tally.add("client-refused")  # httpx will not send it: nothing reached the mock
                return
            if request.surface == "control":
                label = check_control(request, r.status_code, r.headers, r.content)
            elif b"fault: this mock was told" in r.content:
                label = f"fault-{r.status_code}"  # a `status` fault the fuzz armed
            else:
                label = check_hook(request, r.status_code, r.headers, r.content, None)
            tally.add(f"{request.kind}:{label}")
            assert not errors.take(), request
            if tally.total % 10 == 0:
                restore()
                bystander.served()

        bystander.served()
        fuzz()
        restore()
        bystander.served()
        assert not errors.take()
    print(f"\nzapier live: {tally.total} requests {dict(sorted(tally.kinds.items()))}")
    assert tally.total >= 300
    assert sum(n for k, n in tally.kinds.items() if k.endswith((":200", ":201"))) >= 50, tally.kinds

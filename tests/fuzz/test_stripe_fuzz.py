"""The Stripe emitter's request parsing under 10,000 malformed requests, in-process, and a few hundred live.

The emitter has no venue listener: what it parses is its control API, the JSON of `POST /send` (event
types, webhook URL, customer, metadata, faults, retry policy, wait) and of the shared `POST /faults`,
plus the query of `GET /events` and `DELETE /faults`. Each request starts from a valid one and is
broken a little (wrong types, unknown keys, huge numbers, deep nesting, invalid UTF-8, truncation).

What it must answer (emitter.py, mocks/common/control.py): never a 5xx and never an exception logged;
a refusal is a 400 whose JSON names the offending `field` with an `error` message; aiohttp's own text for
no such route or method, or a body over the size limit. Valid sends deliver to a local receiver.
A well-formed client on its own connection keeps sending events and reading the ledger throughout.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator
from typing import Any

import aiohttp
import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import example, given

from mocks.common import ControlServer, RetryPolicy
from mocks.stripe import StripeEmitter
from mocks.stripe.events import EVENT_TYPES
from tests.mocks.venue_thread import VenueThread

from . import gen as st
from .gen import seeded
from .mutate import FUZZ, LIVE, MIN_EXAMPLES, Tally, deep, error_records, event_loop, mutated_json

pytestmark = pytest.mark.fuzz

LOGGERS = ("aiohttp.server", "aiohttp.web", "mocks.stripe", "mocks.common", "asyncio")
RECEIVER = "http://127.0.0.1:{port}/webhooks/stripe"
FAST = RetryPolicy(max_attempts=1, base_delay_s=0.0, timeout_s=2.0, deadline_s=2.0)

types_ = st.sampled_from(EVENT_TYPES)
fault_names = st.sampled_from(["duplicate", "reorder", "bad_signature", "stale_timestamp", "rotated_secret",
                               "tampered_body"])  # fmt: skip
_send_fields = st.fixed_dictionaries(
    {"url": st.just("{receiver}")},
    optional={
        "customer": st.sampled_from(["cus_123", "c" * 255]),
        "metadata": st.just({"trader": "t1"}),
        "client_reference_id": st.just("ref"),
        "faults": st.lists(
            fault_names | st.just({"fault": "stale_timestamp", "params": {"age_s": 900}}), max_size=2
        ),
        "retry": st.just({"max_attempts": 1, "timeout_ms": 2000}),
        "wait": st.booleans(),
    },
)
_send_types = st.one_of(
    types_.map(lambda t: {"type": t}), st.lists(types_, min_size=2, max_size=3).map(lambda ts: {"types": ts})
)
# one event type or several, merged into the fields: a flatmap would build new strategies at every draw,
# which cost more than the rest of the request
send_bodies = st.tuples(_send_fields, _send_types).map(lambda parts: {**parts[0], **parts[1]})
arm_bodies = st.fixed_dictionaries(
    {"fault": fault_names},
    optional={"params": st.just({"age_s": 900}), "count": st.just(1), "duration_ms": st.just(50)},
)
QUERY = ["0", "-1", "x", "", "9" * 5000, "1e3", "duplicate", "nope", "\x00", "é"]


class S:
    kind = st.sampled_from(["send"] * 6 + ["arm", "arm", "events", "clear", "method"])
    send = mutated_json(send_bodies)
    arm = mutated_json(arm_bodies)
    query = st.sampled_from(QUERY) | st.text(max_size=8)
    method = st.sampled_from(["PUT", "PATCH", "GET", "DELETE"])
    path = st.sampled_from(["/send", "/faults", "/reset", "/nope", "/sent/x"])


@st.composite
def stripe_requests(draw: st.DrawFn) -> tuple[str, str, str, dict[str, str], bytes]:
    """(kind, method, path, query, body); `{receiver}` in a body is the local receiver's URL."""
    kind = draw(S.kind)
    if kind == "send":
        return kind, "POST", "/send", {}, draw(S.send)
    if kind == "arm":
        return kind, "POST", "/faults", {}, draw(S.arm)
    if kind == "events":
        return kind, "GET", "/events", {"since": draw(S.query), "kind": draw(S.query)}, b""
    if kind == "clear":
        return kind, "DELETE", "/faults", {"fault": draw(S.query)}, b""
    return kind, draw(S.method), draw(S.path), {}, draw(S.send)


REQUESTS = stripe_requests()


def check_answer(status: int, content_type: str, body: bytes, case: Any) -> str:
    content_type = content_type.split(";")[0].strip()
    assert status in (200, 201, 202, 204, 400, 404, 405, 413), (status, body[:300], case)
    if status == 400 and content_type != "application/json":  # aiohttp refuses the request line itself
        assert sum(map(len, case[3].values())) > 4000, (body[:300], case)
        assert body.startswith(b"Got more than 8190 bytes"), body[:300]
    elif status == 400:
        payload = json.loads(body)
        assert payload["status"] == 400 and isinstance(payload["field"], str), payload
        assert isinstance(payload["error"], str) and payload["error"].startswith(payload["field"]), payload
    elif status in (404, 405, 413) and case[1] != "HEAD":
        text = body.decode()
        assert text.startswith((f"{status}: ", "Maximum request body size")), text[:300]
    elif status == 200 and case[0] == "send":
        delivered = json.loads(body)["deliveries"]  # every attempt is recorded with the receiver's answer
        assert delivered and all(isinstance(d["status"], int) and d["response"] for d in delivered), delivered
    return str(status)


async def _receiver() -> tuple[TestServer, list[bytes]]:
    hits: list[bytes] = []

    async def hook(request: web.Request) -> web.Response:
        hits.append(await request.read())
        return web.json_response({"received": True})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", hook)
    server = TestServer(app)
    await server.start_server()
    return server, hits


def test_stripe_parsers_survive_10k_malformed_requests() -> None:
    with event_loop() as loop, error_records(*LOGGERS) as errors:
        emitter = StripeEmitter(seed=5, retry=FAST)
        control = ControlServer(emitter)

        async def setup() -> tuple[TestClient[Any, Any], aiohttp.ClientSession, TestServer, list[bytes]]:
            await emitter.start()
            client: TestClient[Any, Any] = TestClient(TestServer(control.app))
            await client.start_server()
            server, hits = await _receiver()
            return client, aiohttp.ClientSession(), server, hits

        client, bystander, receiver, hits = loop.run_until_complete(setup())
        try:
            _in_process(loop, emitter, client, bystander, RECEIVER.format(port=receiver.port), hits, errors)
        finally:
            loop.run_until_complete(bystander.close())
            loop.run_until_complete(client.close())
            loop.run_until_complete(receiver.close())
            loop.run_until_complete(emitter.stop())


def _in_process(
    loop: asyncio.AbstractEventLoop,
    emitter: StripeEmitter,
    client: TestClient[Any, Any],
    bystander: aiohttp.ClientSession,
    receiver: str,
    hits: list[bytes],
    errors: Any,
) -> None:
    tally = Tally()

    def run(coro: Any) -> Any:
        return loop.run_until_complete(coro)

    async def good_send() -> None:
        before = len(hits)
        body = {"type": "invoice.paid", "url": receiver, "customer": "cus_bystander"}
        async with bystander.post(client.make_url("/send"), json=body) as r:
            assert r.status == 200, await r.text()
            answer = await r.json()
        assert [d["status"] for d in answer["deliveries"]] == [200], answer
        # a fuzzed send with "wait": false may still be delivering in the background, so its events
        # can land after ours: ours must be among the new hits, not necessarily the last of them
        assert "invoice.paid" in [json.loads(hit)["type"] for hit in hits[before:]], len(hits) - before
        async with bystander.get(client.make_url("/health")) as r:
            assert r.status == 200 and (await r.json())["ok"] is True

    async def send(case: tuple[str, str, str, dict[str, str], bytes]) -> tuple[int, str, bytes]:
        _, method, path, query, body = case
        body = body.replace(b"{receiver}", receiver.encode())
        data: Any = io.BytesIO(body) if len(body) > 1 << 20 else body
        async with client.request(method, path, params=query, data=data) as r:
            return r.status, r.content_type, await r.read()

    run(good_send())

    def case_of(body: bytes) -> tuple[str, str, str, dict[str, str], bytes]:
        return "send", "POST", "/send", {}, body

    @FUZZ
    @given(case=seeded(REQUESTS))
    @example(
        case=case_of(b'{"type": "invoice.paid", "url": "{receiver}", "metadata": ' + deep("[", 900) + b"}")
    )
    @example(
        case=case_of(
            b'{"type": "invoice.paid", "url": "{receiver}", "metadata": ' + deep('{"a":', 900) + b"}"
        )
    )
    # a URL urlsplit refuses ("Invalid IPv6 URL") once escaped check_url and answered 500
    @example(case=case_of(b'{"type": "invoice.paid", "url": "http://[::1"}'))
    @example(case=case_of(b"[" * 100_000))
    @example(case=case_of(b'{"x": "' + b"a" * (2 << 20) + b'"}'))
    def fuzz(case: tuple[str, str, str, dict[str, str], bytes]) -> None:
        status, content_type, body = run(send(case))
        tally.add(f"{case[0]}:{check_answer(status, content_type, body, case)}")
        assert not errors.take(), case
        if tally.total % 500 == 0:
            emitter.faults.clear()
            emitter.sent.clear()
            run(good_send())

    fuzz()
    emitter.faults.clear()
    run(good_send())
    assert not errors.take()
    print(f"\nstripe in-process: {tally.total} requests {dict(sorted(tally.kinds.items()))}")
    assert tally.total >= MIN_EXAMPLES
    assert tally.kinds.get("send:400", 0) >= 2000 and tally.kinds.get("send:200", 0) >= 100, tally.kinds


# -- live, over real sockets ------------------------------------------------------------------------
@pytest.fixture
def live_emitter() -> Iterator[VenueThread]:
    with VenueThread(StripeEmitter(seed=5, retry=FAST)) as vt:
        yield vt


def test_stripe_live_malformed_requests_and_a_bystander(live_emitter: VenueThread) -> None:
    tally = Tally()
    server, hits = live_emitter.run(_receiver())
    receiver = RECEIVER.format(port=server.port)
    try:
        with (
            error_records(*LOGGERS) as errors,
            httpx.Client(base_url=live_emitter.control_url, timeout=10) as attacker,
            httpx.Client(base_url=live_emitter.control_url, timeout=10) as good,
        ):

            def bystander_served() -> None:
                r = good.post("/send", json={"type": "invoice.paid", "url": receiver})
                assert r.status_code == 200 and r.json()["deliveries"][0]["status"] == 200, r.text
                assert good.get("/ledger").status_code == 200

            @LIVE
            @given(case=seeded(REQUESTS))
            def fuzz(case: tuple[str, str, str, dict[str, str], bytes]) -> None:
                _, method, path, query, body = case
                r = attacker.request(
                    method, path, params=query, content=body.replace(b"{receiver}", receiver.encode())
                )
                tally.add(check_answer(r.status_code, r.headers.get("content-type", ""), r.content, case))
                assert not errors.take(), case
                if tally.total % 10 == 0:
                    assert good.delete("/faults").status_code == 200
                    bystander_served()

            fuzz()
            assert good.delete("/faults").status_code == 200
            bystander_served()
            assert not errors.take()
    finally:
        live_emitter.run(server.close())
    print(f"\nstripe live: {tally.total} requests {tally.kinds}")
    assert tally.total >= 300 and hits

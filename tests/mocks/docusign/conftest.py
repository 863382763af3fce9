"""A running DocuSign mock, a Connect listener that verifies like a middleware, and REST clients."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import docusign_esign
import httpx
import pytest
from aiohttp import web

from mocks.common import RetryPolicy
from mocks.docusign import DocuSignMock
from tests.mocks.venue_thread import VenueThread

# Fast retries so the suite runs in seconds: gaps of 50, 100, 200 ms, four attempts in all.
FAST = RetryPolicy(max_attempts=4, base_delay_s=0.05, max_delay_s=1.0, timeout_s=2.0, deadline_s=30.0)


def middleware_verifies(keys: list[str], raw: bytes, headers: Any) -> bool:
    """What a middleware does: HMAC-SHA256 of the raw body, base64, against any signature header."""
    sent = [v for k, v in headers.items() if k.lower().startswith("x-docusign-signature-")]
    for key in keys:
        expected = base64.b64encode(hmac.new(key.encode("utf-8"), raw, hashlib.sha256).digest()).decode()
        if any(hmac.compare_digest(expected, s) for s in sent):
            return True
    return False


@dataclass
class Hit:
    raw: bytes
    headers: dict[str, str]
    verified: bool
    payload: dict[str, Any]
    at: float  # time.monotonic() on arrival
    status: int

    @property
    def event(self) -> str:
        return str(self.payload.get("event"))

    @property
    def envelope_id(self) -> str:
        return str(self.payload.get("data", {}).get("envelopeId"))

    @property
    def signatures(self) -> dict[str, str]:
        return {k: v for k, v in self.headers.items() if k.lower().startswith("x-docusign-signature-")}


@dataclass
class ConnectListener:
    """A middleware-like Connect endpoint: 200 when a signature verifies with `keys`, else 401.

    `script` overrides the status of the next answers; `delays` makes the next answers slow.
    """

    keys: list[str]
    script: list[int] = field(default_factory=list)
    delays: list[float] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)
    runner: web.AppRunner | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhooks/docusign"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/webhooks/docusign", self.handle)
        self.runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        verified = middleware_verifies(self.keys, raw, request.headers)
        status = self.script.pop(0) if self.script else (200 if verified else 401)
        payload = json.loads(raw)
        self.hits.append(Hit(raw, dict(request.headers), verified, payload, time.monotonic(), status))
        if self.delays:
            await asyncio.sleep(self.delays.pop(0))
        return web.json_response({"ok": status < 300}, status=status)

    def events(self) -> list[str]:
        return [h.event for h in self.hits]


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.01)


def settle(control: httpx.Client, timeout: float = 10.0) -> None:
    """Wait until no Connect delivery is under way (sent, given up, or never to be sent)."""
    wait_until(lambda: control.get("/docusign/outbox").json()["pending"] == 0, timeout)


def mock_of(vt: VenueThread) -> DocuSignMock:
    venue = vt.venue
    assert isinstance(venue, DocuSignMock)
    return venue


@pytest.fixture
def docusign() -> Iterator[VenueThread]:
    with VenueThread(DocuSignMock(seed=21, retry=FAST)) as vt:
        yield vt


@pytest.fixture
def control(docusign: VenueThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=docusign.control_url, timeout=10) as client:
        yield client


def start_listener(vt: VenueThread, control: httpx.Client, keys: list[str] | None = None) -> ConnectListener:
    """A listener on the mock's loop, registered as a Connect configuration."""
    listener = ConnectListener(list(mock_of(vt).hmac_key_list) if keys is None else keys)
    vt.run(listener.start())
    r = control.post("/docusign/listeners", json={"url": listener.url})
    assert r.status_code == 201, r.text
    return listener


@pytest.fixture
def listener(docusign: VenueThread, control: httpx.Client) -> Iterator[ConnectListener]:
    made = start_listener(docusign, control)
    try:
        yield made
    finally:
        docusign.run(made.stop())


def rest_client(vt: VenueThread, token: str | None = None) -> httpx.Client:
    venue = mock_of(vt)
    return httpx.Client(
        base_url=f"{venue.url}/restapi/v2.1/accounts/{venue.account.account_id}",
        headers={"Authorization": f"Bearer {token or venue.tokens[0]}"},
        timeout=10,
    )


@pytest.fixture
def rest(docusign: VenueThread) -> Iterator[httpx.Client]:
    with rest_client(docusign) as client:
        yield client


def template_id(vt: VenueThread, name: str = "Trader Agreement") -> str:
    return next(t.template_id for t in mock_of(vt).templates.values() if t.name == name)


def create(rest: httpx.Client, vt: VenueThread, status: str = "sent", email: str = "ann@firm.test") -> str:
    body = {
        "templateId": template_id(vt),
        "templateRoles": [{"email": email, "name": "Ann Trader", "roleName": "Trader"}],
        "status": status,
    }
    r = rest.post("/envelopes", json=body)
    assert r.status_code == 201, r.text
    return str(r.json()["envelopeId"])


def act(control: httpx.Client, envelope_id: str, action: str, **body: Any) -> dict[str, Any]:
    r = control.post(f"/docusign/envelopes/{envelope_id}/{action}", json=body)
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


def arm(control: httpx.Client, fault: str, **body: Any) -> dict[str, Any]:
    r = control.post("/faults", json={"fault": fault, **body})
    assert r.status_code == 201, r.text
    result: dict[str, Any] = r.json()
    return result


def fired(control: httpx.Client, fault: str) -> list[dict[str, Any]]:
    events = control.get("/events", params={"kind": "fault_fired"}).json()["events"]
    return [e for e in events if e["fault"] == fault]


def deliveries(control: httpx.Client) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = control.get("/ledger").json()["deliveries"]
    return result


def sdk_api(vt: VenueThread, token: str | None = None) -> docusign_esign.EnvelopesApi:
    """The docusign-esign SDK configured the documented way: a base path and a bearer header."""
    venue = mock_of(vt)
    client = docusign_esign.ApiClient()
    client.host = f"{venue.url}/restapi"
    client.set_default_header("Authorization", f"Bearer {token or venue.tokens[0]}")
    return docusign_esign.EnvelopesApi(client)

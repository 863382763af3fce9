"""A running Rippling mock, a middleware-like webhook receiver on a real socket, and REST clients."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from aiohttp import web

from mocks.common import RetryPolicy
from mocks.rippling import RipplingMock
from tests.mocks.venue_thread import VenueThread

# Fast retries so the suite runs in seconds: gaps of 50, 100, 200 ms, four attempts in all.
FAST = RetryPolicy(max_attempts=4, base_delay_s=0.05, max_delay_s=1.0, timeout_s=2.0, deadline_s=30.0)


@dataclass
class Hit:
    raw: bytes
    headers: dict[str, str]
    form: dict[str, str]  # the form-encoded body, parsed the way a receiver would
    at: float  # time.monotonic() on arrival
    status: int


@dataclass
class Receiver:
    """A webhook endpoint: parses the form body with urllib.parse; 200 unless `script` says otherwise."""

    script: list[int] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)
    runner: web.AppRunner | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhooks/rippling"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/webhooks/rippling", self.handle)
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
        parsed = parse_qs(raw.decode("ascii"), keep_blank_values=True, strict_parsing=True)
        form = {k: v[0] for k, v in parsed.items()}
        status = self.script.pop(0) if self.script else 200
        self.hits.append(Hit(raw, dict(request.headers), form, time.monotonic(), status))
        return web.Response(status=status, text="ok" if status < 300 else "nope")

    def events(self) -> list[tuple[str, str]]:
        return [(h.form["event_name"], h.form["employee_id"]) for h in self.hits]


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.01)


def settle(control: httpx.Client, timeout: float = 10.0) -> None:
    """Wait until no webhook delivery is under way."""
    wait_until(lambda: control.get("/rippling/outbox").json()["pending"] == 0, timeout)


def mock_of(vt: VenueThread) -> RipplingMock:
    venue = vt.venue
    assert isinstance(venue, RipplingMock)
    return venue


@pytest.fixture
def rippling() -> Iterator[VenueThread]:
    with VenueThread(RipplingMock(seed=21, retry=FAST)) as vt:
        yield vt


@pytest.fixture
def control(rippling: VenueThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=rippling.control_url, timeout=10) as client:
        yield client


@pytest.fixture
def rest(rippling: VenueThread) -> Iterator[httpx.Client]:
    venue = mock_of(rippling)
    headers = {"Authorization": f"Bearer {venue.tokens[0]}"}
    with httpx.Client(base_url=venue.url, headers=headers, timeout=10) as client:
        yield client


def start_receiver(vt: VenueThread, control: httpx.Client, token: str | None = None) -> Receiver:
    """A receiver on the mock's loop, registered as a listener."""
    receiver = Receiver()
    vt.run(receiver.start())
    body: dict[str, Any] = {"url": receiver.url}
    if token is not None:
        body["token"] = token
    r = control.post("/rippling/listeners", json=body)
    assert r.status_code == 201, r.text
    return receiver


@pytest.fixture
def receiver(rippling: VenueThread, control: httpx.Client) -> Iterator[Receiver]:
    made = start_receiver(rippling, control)
    try:
        yield made
    finally:
        rippling.run(made.stop())


def hire(rest: httpx.Client, email: str = "ann@firm.test", **extra: Any) -> dict[str, Any]:
    body = {"first_name": "Ann", "last_name": "Trader", "work_email": email, **extra}
    r = rest.post("/workers", json=body)
    assert r.status_code == 201, r.text
    result: dict[str, Any] = r.json()
    return result


def arm(control: httpx.Client, fault: str, **body: Any) -> dict[str, Any]:
    r = control.post("/faults", json={"fault": fault, **body})
    assert r.status_code == 201, r.text
    result: dict[str, Any] = r.json()
    return result


def deliveries(control: httpx.Client) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = control.get("/ledger").json()["deliveries"]
    return result

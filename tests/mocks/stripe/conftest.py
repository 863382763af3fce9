"""A running Stripe emitter, and a webhook receiver that verifies with the stripe library."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
import stripe
from aiohttp import web

from mocks.stripe import StripeEmitter
from tests.mocks.venue_thread import VenueThread


@dataclass
class Hit:
    raw: bytes
    signature: str
    verified: bool
    error: str
    event_id: str | None
    event_type: str | None
    at: float
    status: int


@dataclass
class Receiver:
    """A middleware-like endpoint: `stripe.Webhook.construct_event` on the raw body, 200 or 400.

    `script` overrides the status of the next requests; `delays` makes the next answers slow.
    """

    secret: str
    script: list[int] = field(default_factory=list)
    delays: list[float] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)
    runner: web.AppRunner | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhooks/stripe"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/webhooks/stripe", self.handle)
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
        header = request.headers.get("Stripe-Signature", "")
        try:
            event = stripe.Webhook.construct_event(raw, header, self.secret)
            verified, error, event_id, event_type = True, "", event["id"], event["type"]
        except (stripe.SignatureVerificationError, ValueError) as exc:
            verified, error, event_id, event_type = False, str(exc), None, None
        status = self.script.pop(0) if self.script else (200 if verified else 400)
        self.hits.append(Hit(raw, header, verified, error, event_id, event_type, time.monotonic(), status))
        if self.delays:
            await asyncio.sleep(self.delays.pop(0))
        return web.json_response({"received": verified}, status=status)


@pytest.fixture
def emitter() -> Iterator[VenueThread]:
    with VenueThread(StripeEmitter(seed=5)) as vt:
        yield vt


@pytest.fixture
def control(emitter: VenueThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emitter.control_url, timeout=30) as client:
        yield client


def secret_of(vt: VenueThread) -> str:
    venue = vt.venue
    assert isinstance(venue, StripeEmitter)
    return venue.secret


@pytest.fixture
def receiver(emitter: VenueThread) -> Iterator[Receiver]:
    rec = Receiver(secret_of(emitter))
    emitter.run(rec.start())
    try:
        yield rec
    finally:
        emitter.run(rec.stop())

"""The base every mock venue builds on: seed, fault book, ledger, event log, lifecycle."""

from __future__ import annotations

import abc
import random
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiohttp import web

from .events import EventLog
from .faults import FaultBook, FaultKind
from .ledger import Ledger

Route = tuple[str, str, Callable[[web.Request], Awaitable[web.StreamResponse]]]


class Settings(Protocol):
    """A venue's live settings, read and patched through its control API (TTConfig, MT5Config)."""

    def to_json(self) -> dict[str, Any]: ...

    def patch(self, body: Any) -> None: ...


class MockVenue(abc.ABC):
    """A mock venue. Subclasses serve the venue's protocol; the control API is shared."""

    name: str = "venue"
    # False for mocks with no venue listener of their own (the Stripe emitter only sends):
    # they get a control API but no proxy on the fault plane.
    listens: bool = True

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.faults = FaultBook(self.fault_catalogue())
        self.ledger = Ledger()
        self.events = EventLog()
        self.host = "127.0.0.1"
        self.port = 0

    @abc.abstractmethod
    def fault_catalogue(self) -> list[FaultKind]:
        """The protocol faults this venue can produce."""

    @abc.abstractmethod
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Start serving the venue protocol; sets `self.port` to the bound port."""

    @abc.abstractmethod
    async def stop(self) -> None:
        """Stop serving and close every client connection."""

    async def reset(self) -> None:
        """Back to the state right after start, with the same seed: faults, ledger, events."""
        self.faults.clear()
        self.ledger.clear()
        self.events.clear()
        self.rng = random.Random(self.seed)
        await self.on_reset()

    async def on_reset(self) -> None:
        """Venue-specific state to reset (sessions, price paths, tokens)."""

    def control_routes(self) -> list[Route]:
        """Extra control-API routes for this venue (the Stripe emitter's `send`, say)."""
        return []

    def settings_routes(self, settings: Callable[[], Settings]) -> list[Route]:
        """`GET /<name>/config` and `POST /<name>/config` (a partial patch, logged as an event).
        `settings` is asked on every request: a reset may replace the venue's settings object."""
        from .control import read_json  # control imports this module

        async def read(request: web.Request) -> web.Response:
            return web.json_response(settings().to_json())

        async def patch(request: web.Request) -> web.Response:
            body = await read_json(request)
            settings().patch(body)
            self.events.add("config_changed", changes=sorted(body))
            return web.json_response(settings().to_json())

        return [("GET", f"/{self.name}/config", read), ("POST", f"/{self.name}/config", patch)]

    def describe(self) -> dict[str, Any]:
        """Connection facts for `uat mocks up --json`: credentials, accounts, symbols."""
        return {}

    @property
    def scheme(self) -> str:
        return "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

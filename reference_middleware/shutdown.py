"""Graceful shutdown: on SIGTERM stop accepting, let the requests in flight finish, then stop.

uvicorn already closes its listener, closes idle keep-alive connections and waits (up to
`timeout_graceful_shutdown`) for responses in progress before the lifespan stops the service, so
an order in flight gets its answer with the database pool and the venue session still open. What
is added here: the count of requests in flight, the log lines a deployment check quotes as its
evidence ("shutdown: draining N in-flight request(s)" / "shutdown: done"), and waking the stream
clients, whose handlers otherwise sleep until their next message and hold the drain to its bound.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
from collections.abc import Callable
from typing import Any

import uvicorn

log = logging.getLogger("refmw.shutdown")
ASGIApp = Callable[..., Any]


class Drain:
    """What a shutdown needs to know and do: the HTTP requests in flight, and hooks to run first."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.hooks: list[Callable[[], None]] = []

    def begin(self) -> None:
        for hook in self.hooks:
            try:
                hook()
            except Exception:
                log.exception("shutdown hook failed")


class InFlight:
    """ASGI middleware counting HTTP requests in progress (WebSocket streams are not requests)."""

    def __init__(self, app: ASGIApp, drain: Drain) -> None:
        self.app = app
        self.drain = drain

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.drain.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.drain.in_flight -= 1


class DrainingServer(uvicorn.Server):
    """uvicorn's server, saying when a shutdown starts and ends."""

    def __init__(self, config: uvicorn.Config, drain: Drain) -> None:
        super().__init__(config)
        self.drain = drain

    async def shutdown(self, sockets: Any = None) -> None:
        started = time.monotonic()
        log.info("shutdown: draining %d in-flight request(s)", self.drain.in_flight)
        self.drain.begin()
        await super().shutdown(sockets)
        log.info(
            "shutdown: done in %.2fs (%d request(s) still in flight)",
            time.monotonic() - started,
            self.drain.in_flight,
        )


def exit_on_sigterm() -> None:
    """no_graceful_drain: the agency's "fast restart" handler, installed over uvicorn's once the
    service is up. Nothing drains; every request in flight is cut."""

    def _exit(signum: int, frame: Any) -> None:
        os._exit(0)

    with contextlib.suppress(ValueError):  # not the main thread (an in-process server): nothing to replace
        signal.signal(signal.SIGTERM, _exit)

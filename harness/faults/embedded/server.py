"""Run the embedded Toxiproxy: in-process on its own thread, or in the foreground as a CLI."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from ...loopthread import LoopThread, cancel_pending, new_event_loop
from .api import ToxiproxyApi
from .collection import ProxyCollection
from .errors import ApiError

log = logging.getLogger("harness.toxiproxy")


def load_config(path: str | Path) -> list[dict[str, Any]]:
    """Read a populate file (`-config`): a JSON array of proxies."""
    text = Path(path).read_text()
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a JSON array of proxies, got {type(data).__name__}")
    return data


class ServerCore:
    """The API server and its proxies on one event loop; both runners below wrap this."""

    def __init__(self, host: str, port: int, *, metrics: bool = False, seed: int | None = None) -> None:
        self.host = host
        self.port = port
        self.collection = ProxyCollection(seed=seed)
        self._api = ToxiproxyApi(self.collection, metrics=metrics)
        self._server: asyncio.AbstractServer | None = None
        self._handler: web.Server | None = None

    async def start(self, config: list[dict[str, Any]] | None = None) -> None:
        loop = asyncio.get_running_loop()
        self._handler = web.Server(self._api, access_log=None)
        self._server = await loop.create_server(self._handler, self.host, self.port)
        sock = self._server.sockets[0]
        self.port = sock.getsockname()[1]
        if config:
            done, error = await self.collection.populate(config)
            if error is not None:
                await self.aclose()
                raise error
            log.info("populated %d proxies from config", len(done))
        log.info("API listening on %s:%d", self.host, self.port)

    async def aclose(self) -> None:
        """Close every proxy, the listener, and idle keep-alive API connections (requests, and so
        toxiproxy-python, leaves those open; without this, shutdown waits on them)."""
        self.collection.close()
        if self._server is not None:
            self._server.close()
            self._server = None
        if self._handler is not None:
            await self._handler.shutdown(0.1)
            self._handler = None


class EmbeddedToxiproxy:
    """A Toxiproxy-compatible server on a private thread and event loop.

    Example usage::

        with EmbeddedToxiproxy(port=0) as server:
            httpx.get(f"{server.url}/version")
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 8474,
        *,
        config: list[dict[str, Any]] | None = None,
        metrics: bool = False,
        seed: int | None = None,
    ) -> None:
        """`seed` makes the toxics' random draws (toxicity, jitter, slicing, the extensions'
        loss and corruption) repeat from run to run; Toxiproxy's own `-seed` flag does nothing."""
        self._core = ServerCore(host, port, metrics=metrics, seed=seed)
        self._config = config
        self._loop = LoopThread("embedded-toxiproxy")

    @property
    def host(self) -> str:
        return self._core.host

    @property
    def port(self) -> int:
        return self._core.port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> EmbeddedToxiproxy:
        self._loop.start()
        try:
            self._loop.run(self._core.start(self._config))
        except BaseException:
            self._loop.stop()
            raise
        return self

    def call(self, fn: Callable[[], Any]) -> Any:
        """Run `fn` on the server's loop and wait for it (tests use this to inspect state)."""
        return self._loop.call(fn)

    def stop(self) -> None:
        self._loop.stop(self._core.aclose)

    def __enter__(self) -> EmbeddedToxiproxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_forever(
    host: str,
    port: int,
    config: list[dict[str, Any]] | None = None,
    *,
    metrics: bool = False,
    ready: Callable[[ServerCore], None] | None = None,
    seed: int | None = None,
) -> None:
    """The foreground server behind `uat toxiproxy`; SIGINT and SIGTERM stop it cleanly."""
    loop = new_event_loop()
    asyncio.set_event_loop(loop)
    core = ServerCore(host, port, metrics=metrics, seed=seed)
    stop = asyncio.Event()
    try:
        loop.run_until_complete(core.start(config))
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        if ready is not None:
            ready(core)
        loop.run_until_complete(stop.wait())
        log.info("shutting down")
    finally:
        loop.run_until_complete(core.aclose())
        cancel_pending(loop)
        loop.close()


__all__ = ["ApiError", "EmbeddedToxiproxy", "ServerCore", "load_config", "serve_forever"]

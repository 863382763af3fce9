"""Run the gateway and its control API: in the foreground (`python -m mocks.rithmic`) or on a
private thread and event loop (tests, and harness code that drives a client on its own loop)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from mocks.common import ControlServer

from .gateway import RithmicGateway

T = TypeVar("T")


def new_event_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a declared dependency on Linux
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


async def start_all(gateway: RithmicGateway, host: str, port: int, control_port: int) -> ControlServer:
    control = ControlServer(gateway)
    await gateway.start(host, port)
    try:
        await control.start(host, control_port)
    except BaseException:
        await gateway.stop()
        raise
    return control


class GatewayThread:
    """A gateway plus its control API on their own thread; `with GatewayThread(...) as gw:`."""

    def __init__(
        self, gateway: RithmicGateway, host: str = "127.0.0.1", port: int = 0, control_port: int = 0
    ):
        self.gateway = gateway
        self.host, self.port, self.control_port = host, port, control_port
        self.control: ControlServer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return self.gateway.url

    @property
    def control_url(self) -> str:
        assert self.control is not None
        return self.control.url

    def start(self) -> GatewayThread:
        loop = new_event_loop()
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                self.control = loop.run_until_complete(
                    start_all(self.gateway, self.host, self.port, self.control_port)
                )
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self._shutdown())
                loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=run, name="rithmic-gateway", daemon=True)
        self._thread.start()
        ready.wait(30)
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]
        return self

    async def _shutdown(self) -> None:
        if self.control is not None:
            await self.control.stop()
        await self.gateway.stop()

    def call(self, fn: Callable[[], T], timeout: float = 10) -> T:
        """Run `fn` on the gateway's loop and return its result (for inspecting or poking state)."""
        assert self._loop is not None

        async def run() -> T:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout)

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=15)
        self._thread = None
        self._loop = None

    def __enter__(self) -> GatewayThread:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

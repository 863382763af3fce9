"""Run the gateway and its control API: in the foreground (`python -m mocks.rithmic`) or on a
private thread and event loop (tests, and harness code that drives a client on its own loop)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from harness.loopthread import LoopThread
from mocks.common import ControlServer

from .gateway import RithmicGateway

T = TypeVar("T")


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
        self._loops = LoopThread("rithmic-gateway")

    @property
    def url(self) -> str:
        return self.gateway.url

    @property
    def control_url(self) -> str:
        assert self.control is not None
        return self.control.url

    def start(self) -> GatewayThread:
        self._loops.start()
        try:
            self.control = self._loops.run(start_all(self.gateway, self.host, self.port, self.control_port))
        except BaseException:
            self._loops.stop()
            raise
        return self

    async def _shutdown(self) -> None:
        if self.control is not None:
            await self.control.stop()
        await self.gateway.stop()

    def call(self, fn: Callable[[], T], timeout: float = 10) -> T:
        """Run `fn` on the gateway's loop and return its result (for inspecting or poking state)."""
        return self._loops.call(fn, timeout)

    def stop(self) -> None:
        self._loops.stop(self._shutdown)

    def __enter__(self) -> GatewayThread:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

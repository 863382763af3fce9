"""Run a mock venue and its control API on an event loop in a background thread.

The tests then talk to it with plain synchronous httpx, the way an outside client would, and
can still run coroutines on the venue's loop (`run`) to start helpers such as a webhook receiver.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from mocks.common import ControlServer, MockVenue

T = TypeVar("T")


class VenueThread:
    def __init__(self, venue: MockVenue) -> None:
        self.venue = venue
        self.control = ControlServer(venue)
        self.loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main_thread, name=f"venue-{venue.name}", daemon=True)

    def __enter__(self) -> VenueThread:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("venue did not start within 10 s")
        if self._error is not None:
            raise RuntimeError("venue failed to start") from self._error
        return self

    def __exit__(self, *exc: object) -> None:
        if self.loop is not None and self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)
        assert not self._thread.is_alive(), "venue thread did not stop within 10 s"

    @property
    def url(self) -> str:
        return self.venue.url

    @property
    def control_url(self) -> str:
        return self.control.url

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 10) -> T:
        """Run a coroutine on the venue's loop and wait (bounded) for its result."""
        assert self.loop is not None
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise

    def _main_thread(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            await self.venue.start("127.0.0.1", 0)
            await self.control.start("127.0.0.1", 0)
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            await self.control.stop()
            await self.venue.stop()
            return
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await self.control.stop()
            await self.venue.stop()

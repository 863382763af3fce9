"""Run one mock on its own (`python -m mocks.<venue>`): venue + control API until Ctrl-C or SIGTERM.

Once both listen, one JSON line goes to stdout (the venue's `url`, the `control` URL, and whatever
`describe()` adds), so a script can read the endpoints; everything is closed on the way out.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import Callable
from typing import Any

from .control import ControlServer
from .venue import MockVenue


async def serve(
    venue: MockVenue,
    host: str = "127.0.0.1",
    port: int = 0,
    control_port: int = 0,
    extra: Callable[[MockVenue, ControlServer], dict[str, Any]] | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Serve until `stop` is set, or SIGINT/SIGTERM arrives; always stops what it started."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    control = ControlServer(venue)
    try:
        await venue.start(host, port)
        await control.start(host, control_port)
        info: dict[str, Any] = {"venue": venue.name, "url": venue.url, "control": control.url}
        info.update(venue.describe())
        if extra is not None:
            info.update(extra(venue, control))
        sys.stdout.write(json.dumps(info) + "\n")
        sys.stdout.flush()
        await stop.wait()
    finally:
        await control.stop()
        await venue.stop()
        for sig in installed:
            loop.remove_signal_handler(sig)

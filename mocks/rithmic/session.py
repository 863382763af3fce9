"""One client connection: its framing, plant, login and subscriptions, and how bytes reach it.

All sends are synchronous writes of whole WebSocket frames, so replies, notifications and the
market-data fan-out can interleave on one connection without tasks or locks.
"""

from __future__ import annotations

import contextlib
import itertools
import time
from typing import TYPE_CHECKING

from websockets.asyncio.server import ServerConnection
from websockets.protocol import State

from .protocol import Message, frame

if TYPE_CHECKING:
    from .gateway import RithmicGateway

PLANT_BY_INFRA = {1: "ticker", 2: "order", 3: "history", 4: "pnl", 5: "repository"}

# A subscriber whose socket buffer holds more than this is behind: market data to it is dropped (as a
# real feed conflates a slow consumer) rather than queued without bound. Replies are never dropped.
SLOW_CONSUMER_BYTES = 1 << 20
# A client that lets even its replies pile up past this is cut off, so it cannot grow the gateway's memory.
STUCK_CLIENT_BYTES = 16 << 20

_ids = itertools.count(1)


class Session:
    def __init__(self, gateway: RithmicGateway, ws: ServerConnection) -> None:
        self.gateway = gateway
        self.ws = ws
        self.id = next(_ids)
        self.peer = str(ws.remote_address)
        self.prefixed: bool | None = None  # decided by the client's first frame
        self.plant: str | None = None  # set by a successful login
        self.user = ""
        self.logged_in_at = 0.0
        self.order_accounts: set[str] = set()  # 308: order notifications wanted for these accounts
        self.bracket_accounts: set[str] = set()  # 336
        self.pnl_accounts: set[str] = set()  # 400
        self.market_data: dict[tuple[str, str], int] = {}  # (symbol, exchange) -> update bits
        self.received = 0
        self.bad_frames = 0
        self.heartbeats = 0
        self.dropped_ticks = 0

    def __repr__(self) -> str:
        return f"<Session {self.id} {self.plant or 'pre-login'} {self.user or '-'} {self.peer}>"

    @property
    def is_open(self) -> bool:
        return self.ws.protocol.state is State.OPEN

    @property
    def logged_in(self) -> bool:
        return self.plant is not None

    def login(self, plant: str, user: str) -> None:
        self.plant, self.user, self.logged_in_at = plant, user, time.monotonic()

    def matches(self, plant: str) -> bool:
        """Whether a fault aimed at `plant` ("all" for every plant) hits this logged-in session."""
        return self.logged_in and plant in ("all", self.plant)

    def send(self, message: Message) -> None:
        """Send one message in the client's framing, unless a `silent` fault holds this plant."""
        if self.gateway.is_silenced(self):
            return
        self.send_raw(frame(message.SerializeToString(), self.prefixed is not False))

    def send_raw(self, data: bytes) -> None:
        """Write one binary frame holding exactly these bytes (the fault injectors use this directly)."""
        if not self.is_open:
            return
        if self.ws.transport.get_write_buffer_size() > STUCK_CLIENT_BYTES:
            self.gateway.events.add("stuck_client_dropped", session=self.id, plant=self.plant)
            self.ws.transport.abort()
            return
        try:
            self.ws.protocol.send_binary(data)
            self.ws.send_data()
        except Exception as exc:  # a transport that broke under us; the recv loop sees the close
            self.gateway.log.debug("send to %r failed: %s", self, exc)

    def write_frame(self, wire: bytes) -> bool:
        """Write a ready-made, unmasked WebSocket frame (the fan-out encodes each tick once for all)."""
        if not self.is_open:
            return False
        transport = self.ws.transport
        if transport.is_closing():
            return False
        if transport.get_write_buffer_size() > SLOW_CONSUMER_BYTES:
            self.dropped_ticks += 1
            return False
        transport.write(wire)
        return True

    async def close(self, code: int = 1000, reason: str = "") -> None:
        with contextlib.suppress(Exception):
            await self.ws.close(code, reason)

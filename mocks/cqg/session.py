"""One client connection: logon state, subscriptions, rate-limit windows, heartbeat bookkeeping, and
synchronous whole-frame writes (replies, statuses and market data interleave without tasks or locks)."""

from __future__ import annotations

import contextlib
import itertools
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from websockets.asyncio.server import ServerConnection
from websockets.protocol import State

from .proto import webapi_pb2 as pb

if TYPE_CHECKING:
    from .gateway import CQGGateway

# Market data to a subscriber whose socket buffer holds more than this is dropped (a real feed conflates
# a slow consumer); a client that lets even replies pile up past the second bound is cut off.
SLOW_CONSUMER_BYTES = 1 << 20
STUCK_CLIENT_BYTES = 16 << 20

_ids = itertools.count(1)


@dataclass
class TradeSub:
    id: int
    scopes: frozenset[int]
    accounts: frozenset[int]


@dataclass
class Logon:
    """What a logon established; kept by token after the connection goes, for restore-or-join."""

    user: str
    token: str
    settings: frozenset[int]
    app_id: str
    accounts: tuple[int, ...]
    user_id: int
    released_at: float | None = None  # when its last connection went
    connections: set[int] = field(default_factory=set)


class Session:
    def __init__(self, gateway: CQGGateway, ws: ServerConnection) -> None:
        self.gateway = gateway
        self.ws = ws
        self.id = next(_ids)
        self.peer = str(ws.remote_address)
        self.logon: Logon | None = None
        self.market_data: dict[int, int] = {}  # contract_id -> level
        self.trade_subs: dict[int, TradeSub] = {}
        self.received: deque[float] = deque()  # arrival times within the message-rate window
        self.orders_sent: deque[float] = deque()  # order requests within the per-session window
        self.pending_ping: tuple[str, float] | None = None  # (token, sent at) of our unanswered ping
        self.last_pinged = time.monotonic()  # the server's first ping comes one interval after connecting
        self.closing = False
        self.bad_frames = 0
        self.pongs_sent = 0
        self.dropped_ticks = 0

    def __repr__(self) -> str:
        return f"<CQG session {self.id} {self.user or 'pre-logon'} {self.peer}>"

    @property
    def user(self) -> str:
        return self.logon.user if self.logon else ""

    @property
    def logged_on(self) -> bool:
        return self.logon is not None

    @property
    def is_open(self) -> bool:
        return self.ws.protocol.state is State.OPEN and not self.closing

    def accounts(self) -> tuple[int, ...]:
        return self.logon.accounts if self.logon else ()

    def forget_subscriptions(self) -> None:
        self.market_data.clear()
        self.trade_subs.clear()

    def send(self, msg: pb.ServerMsg) -> None:
        """Send one ServerMsg, unless a `silent` fault holds this session."""
        if self.gateway.is_silenced(self):
            return
        self.send_raw(msg.SerializeToString())

    def send_raw(self, data: bytes | str) -> None:
        """Write one frame holding exactly this payload (a str goes as a text frame: a fault)."""
        if not self.is_open:
            return
        if self.ws.transport.get_write_buffer_size() > STUCK_CLIENT_BYTES:
            self.gateway.note("stuck_client_dropped", session=self.id)
            self.ws.transport.abort()
            return
        try:
            if isinstance(data, str):
                self.ws.protocol.send_text(data.encode())
            else:
                self.ws.protocol.send_binary(data)
            self.ws.send_data()
        except Exception as exc:  # a transport that broke under us; the receive loop sees the close
            self.gateway.log.debug("send to %r failed: %s", self, exc)

    def send_market_data(self, data: bytes) -> bool:
        """Market data is conflated for a slow consumer: dropped, not queued."""
        if not self.is_open or self.ws.transport.get_write_buffer_size() > SLOW_CONSUMER_BYTES:
            self.dropped_ticks += 1
            return False
        self.send_raw(data)
        return True

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.closing = True
        with contextlib.suppress(Exception):
            await self.ws.close(code, reason)

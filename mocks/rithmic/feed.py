"""Market-data fan-out: each step of a path is encoded once and the same bytes go to every subscriber.

Subscribers are grouped by (framing, update bits). For each group the WebSocket frame itself is built
once (server frames are unmasked and compression is off, so the bytes are identical for every
connection) and written straight to each transport: no per-connection task, no per-connection encode.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from websockets.frames import Frame, Opcode

from .market import PricePath, Quote
from .protocol import build, frame

if TYPE_CHECKING:
    from .session import Session

LAST_TRADE, BBO = 1, 2
Key = tuple[str, str]  # (symbol, exchange)
Group = tuple[bool, int]  # (prefixed, update bits & 3)


def wire_frame(payload: bytes) -> bytes:
    """One complete binary WebSocket frame, as the server sends it (unmasked, uncompressed)."""
    return Frame(Opcode.BINARY, payload).serialize(mask=False, extensions=[])


class Feed:
    def __init__(self) -> None:
        self.subscribers: dict[Key, dict[Session, int]] = defaultdict(dict)
        self._groups: dict[Key, dict[Group, list[Session]]] = {}
        self.frozen: dict[Key, Quote] = {}  # stale_quotes: the touch clients keep seeing
        self.gap_left: dict[Key, int] = {}  # tick_gap: steps still to suppress
        self.sent = 0  # frames written, across all subscribers
        self.dropped = 0  # frames not written to slow consumers

    def subscribe(self, session: Session, key: Key, bits: int) -> None:
        self.subscribers[key][session] = bits
        session.market_data[key] = bits
        self._groups.pop(key, None)

    def unsubscribe(self, session: Session, key: Key) -> None:
        self.subscribers[key].pop(session, None)
        session.market_data.pop(key, None)
        self._groups.pop(key, None)

    def drop_session(self, session: Session) -> None:
        for key in list(session.market_data):
            self.unsubscribe(session, key)

    def has_subscribers(self, key: Key) -> bool:
        return bool(self.subscribers.get(key))

    def groups(self, key: Key) -> dict[Group, list[Session]]:
        cached = self._groups.get(key)
        if cached is None:
            cached = defaultdict(list)
            for session, bits in self.subscribers.get(key, {}).items():
                if bits & (LAST_TRADE | BBO):
                    cached[(session.prefixed is not False, bits & (LAST_TRADE | BBO))].append(session)
            self._groups[key] = cached = dict(cached)
        return cached

    def publish(self, path: PricePath, quote: Quote, *, stale: bool, skip: set[Session] | None = None) -> int:
        """Send this step to every subscriber of the path's instrument; returns frames written."""
        inst = path.instrument
        key = (inst.symbol, inst.exchange)
        if not stale:
            self.frozen.pop(key, None)
        elif key not in self.frozen:
            self.frozen[key] = quote
        left = self.gap_left.get(key, 0)
        if left > 0:
            self.gap_left[key] = left - 1
            return 0
        groups = self.groups(key)
        if not groups:
            return 0
        touch = self.frozen.get(key, quote)
        t = time.time()
        ssboe, usecs = int(t), int((t - int(t)) * 1_000_000)
        payloads: dict[int, bytes] = {}
        needed = 0
        for _, bits in groups:
            needed |= bits
        if needed & BBO:
            payloads[BBO] = build(
                151,
                symbol=inst.symbol,
                exchange=inst.exchange,
                presence_bits=3,
                bid_price=inst.price(touch.bid_ticks),
                bid_size=touch.bid_size,
                bid_orders=touch.bid_orders,
                ask_price=inst.price(touch.ask_ticks),
                ask_size=touch.ask_size,
                ask_orders=touch.ask_orders,
                ssboe=ssboe,
                usecs=usecs,
            ).SerializeToString()
        if needed & LAST_TRADE:
            payloads[LAST_TRADE] = build(
                150,
                symbol=inst.symbol,
                exchange=inst.exchange,
                presence_bits=1 | 8,
                trade_price=inst.price(quote.last_ticks),
                trade_size=quote.last_size,
                aggressor=quote.aggressor,
                volume=quote.volume,
                ssboe=ssboe,
                usecs=usecs,
                source_ssboe=ssboe,
                source_usecs=usecs,
            ).SerializeToString()
        wires: dict[tuple[bool, int], bytes] = {}
        written = 0
        for (prefixed, bits), sessions in groups.items():
            parts = []
            for kind in (BBO, LAST_TRADE):
                if bits & kind:
                    wire = wires.get((prefixed, kind))
                    if wire is None:
                        wire = wires[(prefixed, kind)] = wire_frame(frame(payloads[kind], prefixed))
                    parts.append(wire)
            data = parts[0] if len(parts) == 1 else b"".join(parts)
            for session in sessions:
                if skip and session in skip:
                    continue
                if session.write_frame(data):
                    written += len(parts)
                else:
                    self.dropped += len(parts)
        self.sent += written
        return written

    def stats(self) -> dict[str, Any]:
        return {
            "subscriptions": sum(len(s) for s in self.subscribers.values()),
            "frames_sent": self.sent,
            "frames_dropped": self.dropped,
        }

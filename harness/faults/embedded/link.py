"""The data path of one proxied TCP connection: two links, each a chain of toxic stages.

With no toxic on a link, bytes go straight from one transport to the other inside
`data_received`; that fast path is what keeps the proxy's own overhead near a bare relay.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
from collections.abc import Callable
from typing import Literal, cast

from .stagebase import Emit, Stage
from .stages import make_stage
from .toxics import ToxicSpec

log = logging.getLogger("harness.toxiproxy")

# A link whose toxics hold more than this stops reading its source until they drain below
# LOW_WATER. Go's latency toxic buffers 1024 chunks of up to 32 KiB; this is the same order.
HIGH_WATER = 32 * 1024 * 1024
LOW_WATER = 8 * 1024 * 1024
_LINGER_ZERO = struct.pack("ii", 1, 0)


class Side(asyncio.Protocol):
    """One socket of a proxied connection (the client's or the upstream's)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.outbound: Link | None = None  # reads from this socket
        self.inbound: Link | None = None  # writes to this socket
        self.on_made: Callable[[Side], None] | None = None
        self.on_lost: Callable[[Side], None] | None = None
        self._early: list[bytes] = []
        self._early_eof = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport, but they implement it.
        self.transport = cast(asyncio.Transport, transport)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.on_made is not None:
            self.on_made(self)

    def data_received(self, data: bytes) -> None:
        if self.outbound is not None:
            self.outbound.feed(data)
        else:
            # Bytes that beat the upstream dial (uvloop starts reading even when paused in
            # connection_made): keep them, in order, for the link.
            self._early.append(data)
            if self.transport is not None:
                self.transport.pause_reading()

    def eof_received(self) -> bool:
        # Keep our write side open: the other link still delivers what it holds, then closes.
        if self.outbound is not None:
            self.outbound.feed_eof()
        else:
            self._early_eof = True
        return True

    def release_early(self) -> None:
        """Hand bytes that arrived before the link existed to it, then start reading."""
        assert self.outbound is not None
        early, self._early = self._early, []
        for data in early:
            self.outbound.feed(data)
        if self._early_eof:
            self.outbound.feed_eof()
        elif self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.inbound is not None:
            self.inbound.dest_lost()
        if self.outbound is not None:
            self.outbound.feed_eof()
        if self.on_lost is not None:
            self.on_lost(self)

    def pause_writing(self) -> None:
        if self.inbound is not None:
            self.inbound.set_dest_paused(True)

    def resume_writing(self) -> None:
        if self.inbound is not None:
            self.inbound.set_dest_paused(False)

    def set_linger_zero(self) -> None:
        sock = self.transport.get_extra_info("socket") if self.transport else None
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_ZERO)

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    def shut(self) -> None:
        """Close now, dropping writes the peer has not taken. A stopped proxy must not keep a
        socket alive for a peer that never reads (Go's Close does not wait for one either)."""
        transport = self.transport
        if transport is None:
            return
        if transport.get_write_buffer_size():
            transport.abort()
        elif not transport.is_closing():
            transport.close()


class Link:
    """One direction of a connection: source socket → toxic stages → destination socket."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        direction: Literal["upstream", "downstream"],
        source: Side,
        dest: Side,
        *,
        seed: int | None = None,
        rng_key: str = "",
    ) -> None:
        self.loop = loop
        self.direction = direction
        # What the stages seed their random draws from (stagebase.stage_rng).
        self.seed = seed
        self.rng_key = rng_key
        self.source = source
        self.dest = dest
        self.stages: list[Stage] = []
        self._head: Emit | None = None
        self._held = 0
        self._full = False
        self._dest_paused = False
        self._reading_paused = False
        self._eof_fed = False
        self._closed = False
        self.bytes_in = 0
        self.bytes_out = 0
        assert dest.transport is not None
        self._write = dest.transport.write
        source.outbound = self
        dest.inbound = self

    # -- data in ---------------------------------------------------------------------
    def feed(self, data: bytes) -> None:
        self.bytes_in += len(data)
        head = self._head
        if head is None:
            if not self._closed:
                self.bytes_out += len(data)
                self._write(data)
            return
        self._held += len(data)
        head(data, self.loop.time())
        if self._held > HIGH_WATER and not self._full:
            self._full = True
            self._update_reading()

    def feed_eof(self) -> None:
        if self._eof_fed:
            return
        self._eof_fed = True
        if self._head is None:
            self._sink(None, 0.0)
        else:
            self._head(None, self.loop.time())

    # -- data out --------------------------------------------------------------------
    def _sink(self, data: bytes | None, arrival: float) -> None:
        if data is None:
            if not self._closed:
                self._closed = True
                self.dest.close()
            return
        self.discard(len(data))
        if not self._closed:
            self.bytes_out += len(data)
            self._write(data)

    def dest_lost(self) -> None:
        self._closed = True

    def discard(self, nbytes: int) -> None:
        self._held -= nbytes
        if self._full and self._held < LOW_WATER:
            self._full = False
            self._update_reading()

    # -- flow control ----------------------------------------------------------------
    def set_dest_paused(self, paused: bool) -> None:
        self._dest_paused = paused
        self._update_reading()

    def _update_reading(self) -> None:
        want_pause = self._full or self._dest_paused
        transport = self.source.transport
        if want_pause == self._reading_paused or transport is None or transport.is_closing():
            return
        self._reading_paused = want_pause
        if want_pause:
            transport.pause_reading()
        else:
            transport.resume_reading()

    # -- toxics on a live link -------------------------------------------------------
    def add_toxic(self, spec: ToxicSpec) -> None:
        stage = make_stage(spec, self, self._sink)
        if self.stages:
            last = self.stages[-1]
            last.next = stage.push
            last.restart()  # Go interrupts the last stub to re-link it, redrawing toxicity.
        else:
            self._head = stage.push
        self.stages.append(stage)

    def update_toxic(self, spec: ToxicSpec) -> None:
        for stage in self.stages:
            if stage.spec.name == spec.name:
                stage.restart(spec)
                return

    def remove_toxic(self, name: str) -> None:
        index = next((i for i, s in enumerate(self.stages) if s.spec.name == name), None)
        if index is None:
            return
        stage = self.stages[index]
        stage.remove()
        del self.stages[index]
        if index == 0:
            self._head = self.stages[0].push if self.stages else None
        else:
            previous = self.stages[index - 1]
            previous.next = stage.next
            previous.restart()

    def stop(self) -> None:
        for stage in self.stages:
            stage.stop()
        self._closed = True


class Connection:
    """A client socket, its upstream socket, and the two links between them."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        client: Side,
        upstream: Side,
        toxics: list[ToxicSpec],
        on_closed: Callable[[Connection], None],
        *,
        seed: int | None = None,
        rng_key: str = "",
        number: int = 0,
    ) -> None:
        """`rng_key` names the proxy for the toxics' seeded draws; `number` is the connection's
        place in the order the proxy accepted them."""
        self.number = number
        self.client = client
        self.upstream = upstream
        self.links = {
            "upstream": Link(loop, "upstream", client, upstream, seed=seed, rng_key=rng_key),
            "downstream": Link(loop, "downstream", upstream, client, seed=seed, rng_key=rng_key),
        }
        self._on_closed = on_closed
        self._lost = 0
        client.on_lost = upstream.on_lost = self._side_lost
        if any(t.type == "reset_peer" for t in toxics):
            # Only a reset_peer present at accept turns the eventual close into an RST.
            client.set_linger_zero()
            upstream.set_linger_zero()
        for spec in toxics:
            self.links[spec.stream].add_toxic(spec)
        upstream.release_early()
        client.release_early()

    def _side_lost(self, side: Side) -> None:
        # The other socket is closed by the link reading from this one, once that link has
        # delivered what its toxics still hold (Go tears connections down the same way).
        self._lost += 1
        if self._lost == 2:
            for link in self.links.values():
                link.stop()
            self._on_closed(self)

    def close(self) -> None:
        """Close both sockets with a FIN, dropping whatever toxics still hold."""
        for link in self.links.values():
            link.stop()
        self.client.shut()
        self.upstream.shut()

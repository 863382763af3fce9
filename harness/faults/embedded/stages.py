"""Toxics at run time: one stage per toxic per link, in a chain that ends at the socket.

A stage receives `(data, arrival)` pairs (data `None` is EOF) and emits them to `next`.
Stages hold data only while a toxic needs them to, and hand back everything they hold when
the toxic is updated or removed, so live changes never drop or reorder a byte (reference §2).
Toxicity is drawn per link when a stage starts and again on every restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import deque
from collections.abc import Callable
from typing import Protocol

from .toxics import ToxicSpec

Emit = Callable[[bytes | None, float], None]
Item = tuple[bytes | None, float]


class LinkContext(Protocol):
    """What a stage may ask of the link it sits on."""

    loop: asyncio.AbstractEventLoop

    def discard(self, nbytes: int) -> None: ...


class Stage:
    """A pass-through stage; `noop`, and every toxic whose toxicity draw missed, behave like this."""

    def __init__(self, spec: ToxicSpec, ctx: LinkContext, next_: Emit) -> None:
        self.spec = spec
        self.ctx = ctx
        self.next = next_
        self.held: deque[Item] = deque()
        self.active = self._draw()
        if self.active:
            self.start()

    def _draw(self) -> bool:
        return random.random() < self.spec.toxicity

    def push(self, data: bytes | None, arrival: float) -> None:
        if self.active:
            self.accept(data, arrival)
        else:
            self.next(data, arrival)

    # Subclasses override these three.
    def accept(self, data: bytes | None, arrival: float) -> None:
        self.next(data, arrival)

    def start(self) -> None:
        """Begin toxic work on whatever is held; called when the draw says the toxic applies."""

    def interrupt(self) -> None:
        """Stop timers and tasks; data in flight is released at once, the rest stays held."""

    def restart(self, spec: ToxicSpec | None = None) -> None:
        """Update or re-link: interrupt, redraw toxicity, and carry on (reference §2)."""
        self.interrupt()
        if spec is not None:
            self.spec = spec
        self.active = self._draw()
        if self.active:
            self.start()
        else:
            self.flush()

    def flush(self) -> None:
        """Release everything held, in order, to `next`."""
        self.interrupt()
        while self.held:
            data, arrival = self.held.popleft()
            self.next(data, arrival)

    def stop(self) -> None:
        """The connection is gone: drop everything without emitting."""
        self.interrupt()
        self.held.clear()

    def remove(self) -> None:
        """The toxic is deleted from the link: hand on everything held, in order, then stop."""
        self.flush()
        self.stop()


class _TaskStage(Stage):
    """A stage whose toxic is a sequential process over its held queue, run as one task."""

    def __init__(self, spec: ToxicSpec, ctx: LinkContext, next_: Emit) -> None:
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Future[None] | None = None
        super().__init__(spec, ctx, next_)

    def accept(self, data: bytes | None, arrival: float) -> None:
        self.held.append((data, arrival))
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)

    def start(self) -> None:
        self._task = self.ctx.loop.create_task(self._run())

    def interrupt(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
            self._wake = None
            # Go releases the chunk a toxic is working on when it is interrupted.
            if self.held and self._in_flight:
                data, arrival = self.held.popleft()
                self.next(data, arrival)
        self._in_flight = False

    _in_flight = False

    async def _next_item(self) -> Item:
        while not self.held:
            self._wake = self.ctx.loop.create_future()
            await self._wake
        self._in_flight = True
        return self.held[0]

    def _emit_head(self, arrival: float | None = None) -> None:
        """Pass the head chunk on, stamped `arrival` when given (else as it came in)."""
        data, came_in = self.held.popleft()
        self._in_flight = False
        self.next(data, came_in if arrival is None else arrival)

    async def _run(self) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            await self.run()

    async def run(self) -> None:
        raise NotImplementedError


class LatencyStage(_TaskStage):
    """Each chunk leaves at arrival + latency ± jitter; chunks queue behind each other, so
    throughput survives while order is kept.

    The chunk goes on stamped `arrival + wait` (Go adds the sleep to its timestamp), so a
    second latency toxic behind this one delays it again: 2 × 500 ms gives 1000 ms."""

    async def run(self) -> None:
        loop = self.ctx.loop
        while True:
            data, arrival = await self._next_item()
            if data is None:
                self._emit_head()
                continue
            delay_ms = self.spec.attr("latency")
            jitter = self.spec.attr("jitter")
            if jitter > 0:
                delay_ms += random.randrange(2 * jitter) - jitter
            wait = arrival + delay_ms / 1000 - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            self._emit_head(arrival + wait)


class BandwidthStage(_TaskStage):
    """Rate in KB/s (1 KB = 1000 B); big chunks go out in rate×100-byte slices every 100 ms."""

    async def run(self) -> None:
        loop = self.ctx.loop
        debt = 0.0
        while True:
            data, arrival = await self._next_item()
            rate = self.spec.attr("rate")
            if data is None or rate <= 0:
                debt = 0.0
                self._emit_head()
                continue
            debt += len(data) / (rate * 1000)
            slice_size = rate * 100
            while len(data) > slice_size:
                await asyncio.sleep(0.1)
                piece, data = data[:slice_size], data[slice_size:]
                self.held[0] = (data, arrival)
                self.next(piece, arrival)
                debt -= 0.1
            started = loop.time()
            if debt > 0:
                await asyncio.sleep(debt)
            debt -= loop.time() - started
            self._emit_head()


class SlicerStage(_TaskStage):
    """Splits each chunk by recursive halving until pieces are ≤ average+variation."""

    def _cuts(self, start: int, end: int, out: list[int]) -> None:
        average = self.spec.attr("average_size")
        variation = max(self.spec.attr("size_variation"), 0)
        # An explicit stack instead of Go's recursion: a 256 KiB chunk cut to 1-byte pieces
        # would otherwise exhaust Python's recursion limit.
        stack = [(start, end)]
        while stack:
            lo, hi = stack.pop()
            size = hi - lo
            if size <= average + variation or size < 2:
                out.append(hi)
                continue
            mid = lo + size // 2
            if variation:
                mid += random.randrange(2 * variation) - variation
            mid = min(max(mid, lo + 1), hi - 1)
            stack.append((mid, hi))
            stack.append((lo, mid))

    async def run(self) -> None:
        while True:
            data, arrival = await self._next_item()
            if data is None or len(data) <= 1:
                self._emit_head()
                continue
            cuts: list[int] = []
            self._cuts(0, len(data), cuts)
            delay = self.spec.attr("delay") / 1_000_000
            start = 0
            for cut in cuts[:-1]:
                self.next(data[start:cut], arrival)
                start = cut
                self.held[0] = (data[start:], arrival)
                if delay > 0:
                    await asyncio.sleep(delay)
            self._emit_head()


class SlowCloseStage(_TaskStage):
    """Data passes at once; EOF waits `delay` ms before the destination is closed."""

    def interrupt(self) -> None:
        if self._in_flight and self.held and self.held[0][0] is None:
            # Go's input is closed by then, so the restarted toxic reads EOF again and waits
            # the whole (new) delay: keep the EOF held instead of releasing it.
            self._in_flight = False
        super().interrupt()

    async def run(self) -> None:
        while True:
            data, _ = await self._next_item()
            if data is None:
                await asyncio.sleep(self.spec.attr("delay") / 1000)
            self._emit_head()


class _EndingStage(Stage):
    """A toxic that can end its link: it sends EOF on, as Go's `stub.Close()` does, and
    from then on swallows its input. The sink closes the socket once that EOF arrives."""

    ended = False
    _timer: asyncio.TimerHandle | None = None

    def end(self) -> None:
        self._cancel_timer()
        if not self.ended:
            self.ended = True
            for data, _ in self.held:
                if data is not None:
                    self.ctx.discard(len(data))
            self.held.clear()
            self.next(None, self.ctx.loop.time())

    def _swallow(self, data: bytes | None) -> None:
        if data is not None:
            self.ctx.discard(len(data))

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def interrupt(self) -> None:
        self._cancel_timer()


class TimeoutStage(_EndingStage):
    """Drops everything; ends the link after `timeout` ms without an incoming chunk.
    Removing it ends the link too: the flow never resumes (reference §2)."""

    def remove(self) -> None:
        self.end()
        super().remove()

    def start(self) -> None:
        # Anything held from before is dropped, as Go's timeout toxic drains its input.
        while self.held:
            self._swallow(self.held.popleft()[0])
        self._arm()

    def _arm(self) -> None:
        self._cancel_timer()
        timeout = self.spec.attr("timeout")
        if timeout > 0 and not self.ended:
            self._timer = self.ctx.loop.call_later(timeout / 1000, self.end)

    def accept(self, data: bytes | None, arrival: float) -> None:
        if self.ended:
            self._swallow(data)
        elif data is None:
            self.end()
        else:
            self._swallow(data)
            self._arm()


class ResetPeerStage(_EndingStage):
    """Drops the first chunk (or EOF), waits `timeout` ms, then ends the link. The socket
    options set at accept decide whether that close is an RST or a plain FIN."""

    _tripped = False

    def start(self) -> None:
        if self.held and not self._tripped:
            self._trip()

    def accept(self, data: bytes | None, arrival: float) -> None:
        if self.ended:
            self._swallow(data)
            return
        self.held.append((data, arrival))
        if not self._tripped:
            self._trip()

    def _trip(self) -> None:
        self._swallow(self.held.popleft()[0])
        self._tripped = True
        self._timer = self.ctx.loop.call_later(self.spec.attr("timeout") / 1000, self.end)

    def interrupt(self) -> None:
        """Go sleeps `timeout` after the first chunk without listening for interrupts, then
        closes: an update leaves a pending end in place, and it fires on time."""

    def stop(self) -> None:
        self._cancel_timer()
        self.held.clear()

    def remove(self) -> None:
        # Go's DELETE would wait out the pending end; end now rather than leave a timer on a
        # stage that is no longer in the chain.
        if self._tripped:
            self.end()
        super().remove()


class LimitDataStage(_EndingStage):
    """Forwards `bytes` bytes in all, cutting the chunk that crosses the limit, then ends.
    The count lives on the stage, so it survives updates but not re-adding the toxic."""

    transmitted = 0

    def accept(self, data: bytes | None, arrival: float) -> None:
        if self.ended:
            self._swallow(data)
            return
        if data is None:
            self.end()
            return
        remaining = max(self.spec.attr("bytes") - self.transmitted, 0)
        if len(data) > remaining:
            self.ctx.discard(len(data) - remaining)
            data = data[:remaining]
        if data:
            self.transmitted += len(data)
            self.next(data, arrival)
        if self.transmitted >= self.spec.attr("bytes"):
            self.end()


STAGES: dict[str, type[Stage]] = {
    "noop": Stage,
    "latency": LatencyStage,
    "bandwidth": BandwidthStage,
    "slicer": SlicerStage,
    "slow_close": SlowCloseStage,
    "timeout": TimeoutStage,
    "reset_peer": ResetPeerStage,
    "limit_data": LimitDataStage,
}


def make_stage(spec: ToxicSpec, ctx: LinkContext, next_: Emit) -> Stage:
    return STAGES[spec.type](spec, ctx, next_)

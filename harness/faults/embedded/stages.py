"""Toxiproxy's toxics at run time, one stage class per toxic type (reference §2).

The machinery they share (chaining, holding, restarts, seeded draws) is in stagebase.py;
the extensions' stages are in lossy.py. `make_stage` picks the class for a toxic's type.
"""

from __future__ import annotations

import asyncio

from .lossy import CorruptStage, PacketLossStage
from .stagebase import Emit, EndingStage, LinkContext, Stage, TaskStage
from .toxics import ToxicSpec

__all__ = ["STAGES", "Emit", "Stage", "make_stage"]


class LatencyStage(TaskStage):
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
                delay_ms += self.rng.randrange(2 * jitter) - jitter
            wait = arrival + delay_ms / 1000 - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            self._emit_head(arrival + wait)


class BandwidthStage(TaskStage):
    """Rate in KB/s (1 KB = 1000 B); big chunks go out in rate×100-byte slices every 100 ms.

    Rate 0 stalls the link, as in Go: a chunk is "bigger than rate×100" whatever its size, so
    it goes out in empty slices forever, until the toxic is updated or removed (which releases
    it). The rate is read again on every slice, as Go reads its field. A negative rate, on
    which Go panics, is refused by the API."""

    async def run(self) -> None:
        loop = self.ctx.loop
        debt = 0.0
        while True:
            data, arrival = await self._next_item()
            if data is None:
                self._emit_head()
                continue
            rate = self.spec.attr("rate")
            debt = 0.0 if rate <= 0 else debt + len(data) / (rate * 1000)
            while len(data) > self.spec.attr("rate") * 100:
                await asyncio.sleep(0.1)
                slice_size = max(self.spec.attr("rate"), 0) * 100
                piece, data = data[:slice_size], data[slice_size:]
                self.held[0] = (data, arrival)
                if piece:
                    self.next(piece, arrival)
                debt -= 0.1
            started = loop.time()
            if debt > 0:
                await asyncio.sleep(debt)
            debt -= loop.time() - started
            self._emit_head()


class SlicerStage(TaskStage):
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
                mid += self.rng.randrange(2 * variation) - variation
            mid = min(max(mid, lo + 1), hi - 1)
            stack.append((mid, hi))
            stack.append((lo, mid))

    async def run(self) -> None:
        while True:
            data, arrival = await self._next_item()
            if data is None:
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
            self._emit_head()  # the last piece
            # Go waits `delay` after every piece, the last one included, so a chunk holds up
            # the next by the same pause that separates its own pieces.
            if delay > 0:
                await asyncio.sleep(delay)


class SlowCloseStage(TaskStage):
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


class TimeoutStage(EndingStage):
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


class ResetPeerStage(EndingStage):
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


class LimitDataStage(EndingStage):
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
    "packet_loss": PacketLossStage,
    "corrupt": CorruptStage,
}


def make_stage(spec: ToxicSpec, ctx: LinkContext, next_: Emit) -> Stage:
    return STAGES[spec.type](spec, ctx, next_)

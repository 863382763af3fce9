"""The extension toxics at run time: segment loss as retransmission stalls, and bit flips.

See extensions.py for what they model and their attributes. Both draw only from the stage's
seeded `rng`, in a fixed order, so a seed fixes the stall schedule and the corrupted bytes.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Iterator, Mapping

from .extensions import PPM
from .stagebase import Emit, LinkContext, Stage, TaskStage
from .toxics import ToxicSpec


class GilbertElliott:
    """A two-state loss chain. Each transmission first may switch state, then is lost or not
    with the new state's loss chance: two draws per transmission, always."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.bad = False

    def lost(self, attrs: Mapping[str, int]) -> bool:
        switch = attrs["bad_to_good_ppm"] if self.bad else attrs["good_to_bad_ppm"]
        if self.rng.random() * PPM < switch:
            self.bad = not self.bad
        loss = attrs["bad_loss_ppm"] if self.bad else attrs["good_loss_ppm"]
        return self.rng.random() * PPM < loss

    def stalls(self, attrs: Mapping[str, int]) -> Iterator[float]:
        """The stalls (seconds) before one segment gets through: one RTO per lost
        transmission, doubling up to the cap. Endless while every transmission is lost."""
        rto = attrs["rto_ms"]
        cap = max(attrs["max_rto_ms"], rto)
        while self.lost(attrs):
            yield rto / 1000
            rto = min(rto * 2, cap)


class PacketLossStage(TaskStage):
    """Delivers each chunk segment by segment; a lost segment stalls it and everything behind
    it for the retransmission timeout. The chain's state survives restarts, as a path's
    congestion would; the bytes are the same bytes, in order."""

    def __init__(self, spec: ToxicSpec, ctx: LinkContext, next_: Emit) -> None:
        super().__init__(spec, ctx, next_)
        self.model = GilbertElliott(self.rng)

    def restart(self, spec: ToxicSpec | None = None) -> None:
        super().restart(spec)
        self.model.rng = self.rng  # a new seed gives a new sequence

    async def run(self) -> None:
        while True:
            data, arrival = await self._next_item()
            if data is None:
                self._emit_head()
                continue
            attrs = self.spec.attributes
            segment = attrs["segment_size"]
            sent = 0  # bytes of this chunk already passed on
            stalled = 0.0
            for start in range(0, len(data), segment):
                for stall in self.model.stalls(attrs):
                    self.spec.count("lost")
                    self.spec.count("stalled_ms", round(stall * 1000))
                    if start > sent:  # what got through before the hole goes on now
                        self.next(data[sent:start], arrival + stalled)
                        sent = start
                        self.held[0] = (data[sent:], arrival)
                    await asyncio.sleep(stall)
                    stalled += stall
            self._emit_head(arrival + stalled)


class CorruptStage(Stage):
    """Flips one random bit in each chosen byte, choosing each byte of the stream with chance
    `byte_ppm`. Gaps between chosen bytes are drawn from the geometric distribution, so the
    cost is per corrupted byte, not per byte, and the choice does not depend on chunking."""

    def __init__(self, spec: ToxicSpec, ctx: LinkContext, next_: Emit) -> None:
        self._gap: int | None = None  # bytes to pass before the next flip
        super().__init__(spec, ctx, next_)

    def restart(self, spec: ToxicSpec | None = None) -> None:
        super().restart(spec)
        self._gap = None  # drawn again under the (possibly new) rate

    def accept(self, data: bytes | None, arrival: float) -> None:
        if data is not None:
            data = self.corrupt(data)
        self.next(data, arrival)

    def _draw_gap(self) -> int:
        chance = self.spec.attr("byte_ppm") / PPM
        if chance >= 1:
            return 0
        # The number of failures before the first success, by inversion.
        return int(math.log(1.0 - self.rng.random()) / math.log1p(-chance))

    def corrupt(self, data: bytes) -> bytes:
        if self.spec.attr("byte_ppm") <= 0:
            return data
        position = self._draw_gap() if self._gap is None else self._gap
        if position >= len(data):
            self._gap = position - len(data)
            return data
        out = bytearray(data)
        while position < len(out):
            out[position] ^= 1 << self.rng.randrange(8)
            self.spec.count("flipped")
            position += 1 + self._draw_gap()
        self._gap = position - len(out)
        return bytes(out)

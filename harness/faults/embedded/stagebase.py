"""The stage machinery every toxic runs on: one stage per toxic per link, in a chain that ends
at the socket.

A stage receives `(data, arrival)` pairs (data `None` is EOF) and emits them to `next`.
Stages hold data only while a toxic needs them to, and hand back everything they hold when
the toxic is updated or removed, so live changes never drop or reorder a byte (reference §2).
Toxicity is drawn per link when a stage starts and again on every restart.

Every random draw a stage makes (toxicity, jitter, slicing, loss, corruption) comes from the
stage's own `rng`. With a seed (the toxic's `seed` attribute, else the server's) it is seeded
from the seed, the proxy's name, the toxic's name and the link's ordinal for that toxic (the
first connection it went on is 0; connections open when it was added come first, oldest first).
So a run repeats draw for draw, one toxic's draws do not shift another's, and a toxic added to a
proxy that has carried other connections before (a gate's earlier scenarios) draws what it draws
in a `uat reproduce` of its scenario alone. Without a seed it is fresh entropy, as in Toxiproxy.
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


def seed_of(spec: ToxicSpec, server_seed: int | None) -> int | None:
    """The toxic's own `seed` attribute (0 means none), else the server's."""
    return spec.attributes.get("seed") or server_seed


def stage_rng(seed: int | None, rng_key: str, toxic_name: str) -> random.Random:
    """The random source of one toxic on one connection; string seeds hash the same in every
    process (unlike hash()), so the same seed gives the same draws run after run."""
    if seed is None:
        return random.Random()
    return random.Random(f"{seed}/{rng_key}/{toxic_name}")


class LinkContext(Protocol):
    """What a stage may ask of the link it sits on."""

    loop: asyncio.AbstractEventLoop
    seed: int | None  # the server's seed, if it has one
    rng_key: str  # names the proxy; each stage adds its toxic's link ordinal

    def discard(self, nbytes: int) -> None: ...


class Stage:
    """A pass-through stage; `noop`, and every toxic whose toxicity draw missed, behave like this."""

    def __init__(self, spec: ToxicSpec, ctx: LinkContext, next_: Emit) -> None:
        self.spec = spec
        self.ctx = ctx
        self.next = next_
        self.held: deque[Item] = deque()
        self._seed = seed_of(spec, ctx.seed)
        self._key = f"{ctx.rng_key}/{spec.next_link()}"
        self.rng = stage_rng(self._seed, self._key, spec.name)
        self.active = self._draw()
        if self.active:
            self.start()

    def _draw(self) -> bool:
        return self.rng.random() < self.spec.toxicity

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
            if seed_of(spec, self.ctx.seed) != self._seed:  # a new seed starts a new sequence
                self._seed = seed_of(spec, self.ctx.seed)
                self.rng = stage_rng(self._seed, self._key, spec.name)
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


class TaskStage(Stage):
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


class EndingStage(Stage):
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

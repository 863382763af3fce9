"""The one fault-schedule player, for the gate's scenarios and for `uat load`: each step applied at
its `at` and cleared after its `for_s`, and nothing left broken however the playing ends."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from .faults import FaultContext, FaultStep

TICK_S = 0.02


def play(
    steps: Iterable[FaultStep],
    ctx: FaultContext,
    *,
    now: Callable[[], float],
    until_s: float,
    stop: threading.Event | None = None,
    on_change: Callable[[], None] = lambda: None,
) -> None:
    """Plays `steps` on `ctx` by the clock `now` (seconds, zero when the schedule starts). A step
    with no `for_s` lasts until `until_s`. Returns once every step has been applied and cleared, or
    when `stop` is set; every step still in force is cleared then too, and on an exception."""
    pending = sorted(steps, key=lambda s: s.at)
    active: list[tuple[float, FaultStep, Any]] = []
    waiter = stop or threading.Event()
    try:
        while (pending or active) and not waiter.is_set():
            t = now()
            while pending and pending[0].at <= t:
                step = pending.pop(0)
                end = step.at + step.for_s if step.for_s is not None else until_s
                active.append((end, step, step.apply(ctx)))
                on_change()
            for item in [a for a in active if a[0] <= t]:
                active.remove(item)
                item[1].clear(ctx, item[2])
                on_change()
            waiter.wait(TICK_S)
    finally:
        for _, step, window in active:  # stopped early: nothing may stay broken
            step.clear(ctx, window)

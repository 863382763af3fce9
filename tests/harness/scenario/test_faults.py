"""Fault steps on the timeline: when a window is stamped as lifting and as ended."""

from __future__ import annotations

import time
from typing import Any

from harness.scenario.faults import FaultStep, down
from harness.timeline import Timeline


class SlowProxy:
    """A proxy whose re-enabling takes a while, as a real API call does."""

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline
        self.enabled_at: float | None = None

    def disable(self) -> None:
        pass

    def enable(self) -> None:
        time.sleep(0.05)
        self.enabled_at = self.timeline.now()


class Ctx:
    def __init__(self) -> None:
        self.timeline = Timeline()
        self.slow = SlowProxy(self.timeline)

    def proxy(self, venue: str) -> Any:
        return self.slow

    def control(self, venue: str) -> str:
        raise AssertionError("not a protocol fault")

    def act(self, step: FaultStep) -> None: ...

    def database(self, step: FaultStep) -> None: ...

    def release(self, step: FaultStep) -> None: ...

    def deploy(self, step: FaultStep) -> None: ...


def test_clearing_stamps_the_lifting_before_the_fault_is_lifted_and_the_end_after() -> None:
    ctx = Ctx()
    step = down("postgres")
    window = step.apply(ctx)
    assert window.unreachable and (window.lifting, window.surely_until) == (None, None)
    step.clear(ctx, window)
    assert window.lifting is not None and window.end is not None and ctx.slow.enabled_at is not None
    assert window.lifting < ctx.slow.enabled_at <= window.end
    assert window.surely_until == window.lifting
    assert window.end - window.lifting >= 0.05

"""The one fault-schedule player: when steps are applied and cleared, and that nothing stays broken."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from harness.scenario.faults import FaultStep, down
from harness.scenario.player import play

from .fakes import FaultCtx


class FakeProxy:
    def __init__(self, log: list[tuple[str, str, float]], venue: str, clock: Any) -> None:
        self.log, self.venue, self.clock = log, venue, clock

    def disable(self) -> None:
        self.log.append(("down", self.venue, self.clock()))

    def enable(self) -> None:
        self.log.append(("up", self.venue, self.clock()))


class Ctx(FaultCtx):
    """Logs each proxy going down and up, with the time since the test began."""

    def __init__(self) -> None:
        super().__init__(lambda venue: FakeProxy(self.log, venue, self.clock))
        self.log: list[tuple[str, str, float]] = []
        self.began = time.monotonic()

    def clock(self) -> float:
        return time.monotonic() - self.began


def test_each_step_is_applied_at_its_time_and_cleared_after_its_duration() -> None:
    ctx = Ctx()
    changes = []
    steps = [
        down("tt", at=0.2, for_s=0.1),
        down("rithmic", at=0.0, for_s=0.15),
        FaultStep("stripe", "down", 0.1, None),
    ]
    play(steps, ctx, now=ctx.clock, until_s=0.4, on_change=lambda: changes.append(1))
    order = [(what, venue) for what, venue, _ in ctx.log]
    assert order == [
        ("down", "rithmic"),
        ("down", "stripe"),
        ("up", "rithmic"),
        ("down", "tt"),
        ("up", "tt"),
        ("up", "stripe"),  # no duration: until the schedule's end
    ]
    at = {(what, venue): t for what, venue, t in ctx.log}
    assert 0.1 <= at[("down", "stripe")] < 0.2 and 0.3 <= at[("up", "tt")] < 0.4
    assert at[("up", "stripe")] >= 0.4
    assert len(changes) == 6 and all(w.end is not None for w in ctx.timeline.windows)


def test_a_stop_clears_every_step_still_in_force() -> None:
    ctx = Ctx()
    stop = threading.Event()
    threading.Timer(0.1, stop.set).start()
    began = time.monotonic()
    play([down("rithmic", for_s=30.0), down("tt", at=20.0)], ctx, now=ctx.clock, until_s=60.0, stop=stop)
    assert time.monotonic() - began < 5
    assert [(w, v) for w, v, _ in ctx.log] == [("down", "rithmic"), ("up", "rithmic")]


def test_an_error_mid_schedule_still_clears_what_was_applied() -> None:
    ctx = Ctx()

    def boom() -> None:
        if ctx.log:
            raise RuntimeError("the progress display failed")

    with pytest.raises(RuntimeError):
        play([down("rithmic", for_s=30.0)], ctx, now=ctx.clock, until_s=30.0, on_change=boom)
    assert [(w, v) for w, v, _ in ctx.log] == [("down", "rithmic"), ("up", "rithmic")]

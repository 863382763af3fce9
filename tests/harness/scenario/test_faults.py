"""Fault steps on the timeline: when a window is stamped as lifting and as ended."""

from __future__ import annotations

import time
from typing import Any

from harness.scenario.faults import PLANE_EXTENSIONS, FaultStep, down, toxic
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
    def __init__(self, seed: int = 7) -> None:
        self.seed = seed
        self.timeline = Timeline()
        self.slow = SlowProxy(self.timeline)
        self.recording: Recording | None = None

    def proxy(self, venue: str) -> Any:
        return self.recording or self.slow

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


class Recording:
    def __init__(self) -> None:
        self.added: list[dict[str, Any]] = []

    def add_toxic(self, type: str, **kwargs: Any) -> None:
        self.added.append({"type": type, **kwargs})


def test_an_extension_toxic_needs_the_embedded_plane_and_draws_from_the_runs_seed() -> None:
    loss = toxic("rithmic", "packet_loss", for_s=1.0, bad_loss_ppm=400_000)
    assert loss.needs == ("rithmic", PLANE_EXTENSIONS)
    assert toxic("rithmic", "latency", latency=100).needs == ("rithmic",)
    seeds = []
    for run_seed in (7, 7, 8):
        ctx = Ctx(run_seed)
        ctx.recording = Recording()
        loss.apply(ctx)
        (added,) = ctx.recording.added
        assert added["bad_loss_ppm"] == 400_000
        seeds.append(added["seed"])
    assert seeds[0] == seeds[1] != seeds[2] and all(seeds)
    ctx = Ctx()
    ctx.recording = Recording()
    toxic("rithmic", "latency", latency=100).apply(ctx)
    assert "seed" not in ctx.recording.added[0]  # a real Toxiproxy's own toxics get no attribute it lacks

"""Fault steps on the timeline: when a window is stamped as lifting and as ended."""

from __future__ import annotations

import time
from typing import Any

from harness.scenario.faults import PLANE_EXTENSIONS, down, toxic
from harness.timeline import Timeline

from .fakes import FaultCtx


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


def test_clearing_stamps_the_lifting_before_the_fault_is_lifted_and_the_end_after() -> None:
    timeline = Timeline()
    slow = SlowProxy(timeline)
    ctx = FaultCtx(lambda venue: slow)
    ctx.timeline = timeline
    step = down("postgres")
    window = step.apply(ctx)
    assert window.unreachable and (window.lifting, window.surely_until) == (None, None)
    step.clear(ctx, window)
    assert window.lifting is not None and window.end is not None and slow.enabled_at is not None
    assert window.lifting < slow.enabled_at <= window.end
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
        recording = Recording()
        loss.apply(FaultCtx(lambda venue, r=recording: r, seed=run_seed))  # type: ignore[misc]
        (added,) = recording.added
        assert added["bad_loss_ppm"] == 400_000
        seeds.append(added["seed"])
    assert seeds[0] == seeds[1] != seeds[2] and all(seeds)
    recording = Recording()
    toxic("rithmic", "latency", latency=100).apply(FaultCtx(lambda venue: recording))
    assert "seed" not in recording.added[0]  # a real Toxiproxy's own toxics get no attribute it lacks

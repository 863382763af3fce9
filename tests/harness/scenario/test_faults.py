"""Fault steps on the timeline: when a window is stamped as lifting and as ended, and what it records."""

from __future__ import annotations

import time
from typing import Any

from harness.faults.client import ToxiproxyClient
from harness.faults.embedded import EmbeddedToxiproxy
from harness.scenario.faults import PLANE_EXTENSIONS, down, toxic
from harness.testing import EchoServer
from harness.timeline import Timeline
from tests.harness.faults.embedded._netutil import connect, echo

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


def test_lifting_an_extension_toxic_records_what_the_plane_counted_it_did() -> None:
    """Against the embedded server and the harness's own client: the window of a packet_loss step
    carries its `effects`, read before the toxic is removed, so the evidence can ask for a loss."""
    with EchoServer() as upstream, EmbeddedToxiproxy(host="127.0.0.1", port=0) as server:
        client = ToxiproxyClient(server.url)
        port = client.create_proxy("postgres", f"127.0.0.1:{upstream.port}").info.port
        ctx = FaultCtx(client.get_proxy)
        step = toxic(
            "postgres", "packet_loss", good_loss_ppm=300_000, rto_ms=1, max_rto_ms=2, segment_size=10
        )
        window = step.apply(ctx)
        with connect(port) as conn:
            for i in range(20):
                assert echo(conn, b"row %02d of the result" % i) == b"row %02d of the result" % i
        step.clear(ctx, window)
        assert window.effects is not None and window.effects["lost"] > 0, window.effects
        assert window.effects["stalled_ms"] >= window.effects["lost"]
        assert client.get_proxy("postgres").toxics() == []  # and it was removed after
        quiet = toxic("postgres", "corrupt", byte_ppm=1000)
        window = quiet.apply(ctx)
        quiet.clear(ctx, window)
        assert window.effects == {"flipped": 0}  # in force, but nothing passed: no proof of effect
        client.close()

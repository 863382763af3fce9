"""The extension toxics, `packet_loss` and `corrupt`: seeded, measurable, and lossless where
TCP is (loss shows as stalls, never as missing or reordered bytes)."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator
from typing import Any

import pytest

from harness.faults.embedded import EmbeddedToxiproxy
from harness.faults.embedded.extensions import DEFAULTS
from harness.faults.embedded.lossy import CorruptStage, GilbertElliott
from harness.faults.embedded.stagebase import Stage, stage_rng

from ._netutil import (
    Api,
    FakeLink,
    Upstream,
    api_for,
    connect,
    echo,
    expect_silence,
    pattern_stream,
    recv_exact,
    stage_spec,
)

pytestmark = pytest.mark.usefixtures("loop_stays_clean")

LOSS = DEFAULTS["packet_loss"]


def _schedule(seed: int, attrs: dict[str, int], segments: int, key: str = "p/0") -> list[list[float]]:
    """The stalls a seeded packet_loss toxic named "loss" puts before each segment; the stage
    draws its toxicity first, then two draws per transmission."""
    rng = stage_rng(seed, key, "loss")
    rng.random()
    model = GilbertElliott(rng)
    return [list(model.stalls(attrs)) for _ in range(segments)]


# -- packet_loss: the model -------------------------------------------------------------------
def test_loss_schedule_is_repeatable_from_the_seed() -> None:
    first = _schedule(11, LOSS, 2000)
    assert first == _schedule(11, LOSS, 2000)
    assert first != _schedule(12, LOSS, 2000)
    assert first != _schedule(11, LOSS, 2000, key="p/1")  # each connection has its own draws
    assert any(first), "the defaults should lose something in 2000 segments"


def test_loss_is_bursty_at_about_the_stationary_rate() -> None:
    """Defaults: 1% good→bad, 25% bad→good, 25% loss when bad: π_bad = 0.01/0.26, so about
    0.96% of transmissions are lost, and a loss makes the next one far likelier to be lost."""
    model = GilbertElliott(stage_rng(3, "p/0", "loss"))
    lost = [model.lost(LOSS) for _ in range(200_000)]
    rate = sum(lost) / len(lost)
    assert 0.0075 < rate < 0.012, rate
    after_loss = [b for a, b in itertools.pairwise(lost) if a]
    assert sum(after_loss) / len(after_loss) > 5 * rate


def test_rto_doubles_for_each_further_loss_up_to_the_cap() -> None:
    always = {**LOSS, "good_to_bad_ppm": 0, "good_loss_ppm": 1_000_000, "rto_ms": 200, "max_rto_ms": 1000}
    stalls = GilbertElliott(stage_rng(1, "p/0", "loss")).stalls(always)
    assert [next(stalls) for _ in range(6)] == [0.2, 0.4, 0.8, 1.0, 1.0, 1.0]


# -- packet_loss: through the proxy ------------------------------------------------------------
def test_packet_loss_stalls_follow_the_seeded_schedule(api: Api, echo_server: int) -> None:
    """Ten one-segment echoes with 30% loss and a 20 ms RTO capped at 80 ms: each round trip
    takes its scheduled stall (seed 36 has a clean run, single losses and a capped burst).
    Bounds: no earlier than the schedule, at most 60 ms later (loaded 2-core box)."""
    attrs = {**LOSS, "good_to_bad_ppm": 0, "good_loss_ppm": 300_000, "rto_ms": 20, "max_rto_ms": 80}
    schedule = _schedule(36, attrs, 10, key="lossy/0")
    expected = [sum(s) for s in schedule]
    assert max(expected) >= 0.2 and expected.count(0) >= 5  # the schedule this test relies on
    port = api.create("lossy", f"127.0.0.1:{echo_server}")
    api.add_toxic("lossy", "packet_loss", "upstream", "loss", **{**attrs, "seed": 36})
    measured = []
    with connect(port) as client:
        for i in range(10):
            start = time.monotonic()
            assert echo(client, b"msg %03d" % i) == b"msg %03d" % i
            measured.append(time.monotonic() - start)
    for want, got in zip(expected, measured, strict=True):
        assert want - 0.003 <= got <= want + 0.060, list(zip(expected, measured, strict=True))
    # what it did is counted, as the gate's proof that the loss happened (Minimum.faults_fired)
    toxic = api.http.get("/proxies/lossy/toxics/loss").json()
    stalls = [stall for segment in schedule for stall in segment]
    assert toxic["effects"] == {"lost": len(stalls), "stalled_ms": sum(round(x * 1000) for x in stalls)}


def test_packet_loss_never_drops_or_reorders(api: Api, echo_server: int) -> None:
    port = api.create("lossy", f"127.0.0.1:{echo_server}")
    api.add_toxic("lossy", "packet_loss", "upstream", good_loss_ppm=50_000, rto_ms=1, max_rto_ms=4, seed=5)
    api.add_toxic("lossy", "packet_loss", "downstream", good_loss_ppm=50_000, rto_ms=1, max_rto_ms=4)
    payload = pattern_stream(256 * 1024)
    with connect(port) as client:
        assert echo(client, payload) == payload


def test_removing_packet_loss_releases_a_stalled_segment(api: Api) -> None:
    with Upstream() as upstream:
        port = api.create("lossy", upstream.address)
        # every transmission lost in either state of the chain (by default it may go bad, where only a
        # quarter are: the segment then got through about one run in 130)
        everything = {"good_loss_ppm": 1_000_000, "bad_loss_ppm": 1_000_000}
        api.add_toxic("lossy", "packet_loss", "upstream", "loss", **everything, rto_ms=10_000)
        with connect(port) as client:
            server = upstream.accept()
            client.sendall(b"stuck")
            expect_silence(server, 0.2)
            start = time.monotonic()
            api.remove_toxic("lossy", "loss")
            assert recv_exact(server, 5) == b"stuck"
            assert time.monotonic() - start < 0.2


# -- corrupt -------------------------------------------------------------------------------------
def _through_corrupt(api: Api, size: int, **attributes: int) -> tuple[bytes, bytes]:
    """Send `size` bytes upstream through a fresh proxy "c" with a corrupt toxic; return
    (sent, received). The proxy is deleted after, so the next call is connection 0 again."""
    payload = pattern_stream(size)
    with Upstream() as upstream:
        port = api.create("c", upstream.address)
        api.add_toxic("c", "corrupt", "upstream", "flip", **attributes)
        with connect(port) as client:
            server = upstream.accept()
            client.sendall(payload)
            received = recv_exact(server, size)
        assert api.http.delete("/proxies/c").status_code == 204
    return payload, received


def _flipped(sent: bytes, received: bytes) -> list[int]:
    """XOR of each differing byte pair."""
    return [a ^ b for a, b in zip(sent, received, strict=True) if a != b]


def test_corrupt_flips_one_bit_in_about_the_configured_share_of_bytes(api: Api) -> None:
    """200 000 bytes at 1%: 2000 flips expected (σ ≈ 45); every changed byte differs in one bit."""
    sent, received = _through_corrupt(api, 200_000, byte_ppm=10_000, seed=1)
    flips = _flipped(sent, received)
    assert 1700 <= len(flips) <= 2300, len(flips)
    assert all(bin(x).count("1") == 1 for x in flips)
    assert len(set(flips)) == 8  # every bit position gets hit


def test_corrupt_counts_its_flips_and_toxiproxys_own_toxics_keep_their_shape(api: Api) -> None:
    payload = pattern_stream(100_000)
    with Upstream() as upstream:
        port = api.create("c", upstream.address)
        api.add_toxic("c", "corrupt", "upstream", "flip", byte_ppm=10_000, seed=2)
        api.add_toxic("c", "latency", "downstream", "slow", latency=1)
        assert api.http.get("/proxies/c/toxics/flip").json()["effects"] == {"flipped": 0}
        with connect(port) as client:
            server = upstream.accept()
            client.sendall(payload)
            received = recv_exact(server, len(payload))
        flips = len(_flipped(payload, received))
        assert flips > 500
        assert api.http.get("/proxies/c/toxics/flip").json()["effects"] == {"flipped": flips}
        assert "effects" not in api.http.get("/proxies/c/toxics/slow").json()  # exactly Toxiproxy's JSON


def test_corrupt_is_repeatable_from_the_seed(api: Api) -> None:
    _, first = _through_corrupt(api, 50_000, byte_ppm=5_000, seed=9)
    _, again = _through_corrupt(api, 50_000, byte_ppm=5_000, seed=9)
    _, other = _through_corrupt(api, 50_000, byte_ppm=5_000, seed=10)
    assert first == again
    assert first != other


def test_a_toxics_draws_do_not_depend_on_the_connections_before_it(api: Api) -> None:
    """Draws are keyed by the toxic's own link ordinal, not the proxy's connection count: a toxic
    added after a gate's earlier scenarios drew on the proxy draws what it draws in a reproduce of
    its scenario alone. Connections already open when it is added take ordinals oldest first."""
    payload = pattern_stream(20_000)
    with Upstream() as upstream:
        port = api.create("c", upstream.address)

        def through(client: Any, server: Any) -> bytes:
            client.sendall(payload)
            return recv_exact(server, len(payload))

        api.add_toxic("c", "corrupt", "upstream", "flip", byte_ppm=5_000, seed=9)
        with connect(port) as client:
            first = through(client, upstream.accept())
        with connect(port) as client:
            second_link = through(client, upstream.accept())
        assert first != second_link and first != payload  # each link its own draws
        api.remove_toxic("c", "flip")
        for _ in range(3):  # the proxy carries other connections meanwhile
            with connect(port) as client:
                upstream.accept().close()
        with connect(port) as older, connect(port) as newer:
            older_server, newer_server = upstream.accept(), upstream.accept()
            api.add_toxic("c", "corrupt", "upstream", "flip", byte_ppm=5_000, seed=9)
            assert through(newer, newer_server) == second_link  # ordinal 1
            assert through(older, older_server) == first  # ordinal 0: the oldest link open


@pytest.fixture
def seeded_server() -> Iterator[EmbeddedToxiproxy]:
    with EmbeddedToxiproxy(host="127.0.0.1", port=0, seed=77) as server:
        yield server


def test_the_server_seed_stands_in_for_a_toxic_without_one(seeded_server: EmbeddedToxiproxy) -> None:
    with api_for(seeded_server) as api:
        _, first = _through_corrupt(api, 50_000, byte_ppm=5_000)
        _, again = _through_corrupt(api, 50_000, byte_ppm=5_000)
        _, own_seed = _through_corrupt(api, 50_000, byte_ppm=5_000, seed=3)
    assert first == again
    assert first != own_seed


def test_corrupted_bytes_do_not_depend_on_chunking() -> None:
    async def run(chunk_size: int) -> bytes:
        out = bytearray()
        link = FakeLink(asyncio.get_running_loop(), seed=4)
        stage = CorruptStage(stage_spec("corrupt", byte_ppm=20_000), link, lambda d, _: out.extend(d or b""))
        data = pattern_stream(30_000)
        for start in range(0, len(data), chunk_size):
            stage.push(data[start : start + chunk_size], 0.0)
        return bytes(out)

    whole = asyncio.run(run(30_000))
    assert whole == asyncio.run(run(7)) == asyncio.run(run(1000))
    assert whole != pattern_stream(30_000)


# -- the seed reaches Toxiproxy's own draws too -------------------------------------------------
def test_toxicity_draws_repeat_under_a_server_seed() -> None:
    """64 toxics at toxicity 0.5 on one link: which ones apply is fixed by the server's seed
    and the proxy, and each toxic draws from its own sequence."""

    async def draws(seed: int, key: str) -> list[bool]:
        link = FakeLink(asyncio.get_running_loop(), seed=seed, rng_key=key)
        specs = [stage_spec("noop") for _ in range(64)]
        for i, spec in enumerate(specs):
            spec.name, spec.toxicity = f"t{i}", 0.5
        return [Stage(spec, link, lambda d, _: None).active for spec in specs]

    first = asyncio.run(draws(8, "p"))
    assert first == asyncio.run(draws(8, "p"))
    assert first != asyncio.run(draws(8, "q"))
    assert first != asyncio.run(draws(9, "p"))
    assert 10 < sum(first) < 55

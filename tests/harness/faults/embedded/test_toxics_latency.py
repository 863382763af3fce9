"""Toxiproxy's toxics/toxic_test.go and latency_test.go, ported (reference §2, §3).

Timing tolerances: Go allows ±(jitter + 10) ms each way. Here each way gets ±(jitter + 40) ms
and the round trip ±(jitters + 60) ms: asyncio timer granularity, plus a loaded 2-core box
where the proxy's thread, the test's client and its upstream share one interpreter (GIL).
"""

from __future__ import annotations

import socket
import threading
import time

import pytest

from harness.faults.embedded import EmbeddedToxiproxy

from ._netutil import (
    Api,
    Background,
    Upstream,
    api_for,
    connect,
    expect_silence,
    recv_exact,
)

EACH_WAY_SLACK_MS = 40
ROUND_TRIP_SLACK_MS = 60


pytestmark = pytest.mark.usefixtures("loop_stays_clean")


def _assert_echo_response(client: socket.socket, server: socket.socket) -> None:
    """Go's AssertEchoResponse: the test plays both ends of one proxied connection."""
    message = b"hello world\n"
    client.sendall(message)
    assert recv_exact(server, len(message)) == message
    server.sendall(message)
    assert recv_exact(client, len(message)) == message


# -- toxic_test.go -------------------------------------------------------------------------


def test_persistent_connections(api: Api) -> None:
    """A connection survives toxics being added and reset away, twice."""
    with Upstream() as upstream:
        port = api.create("test", upstream.address)
        with connect(port) as client:
            server = upstream.accept()
            api.add_toxic("test", "noop", stream="upstream", name="noop_up")
            api.add_toxic("test", "noop", stream="downstream", name="noop_down")
            _assert_echo_response(client, server)
            api.reset()
            assert api.get("test")["toxics"] == []
            _assert_echo_response(client, server)
            api.reset()
            _assert_echo_response(client, server)


def _toggle_noops(server: EmbeddedToxiproxy, toggles: list[int], stop: threading.Event) -> None:
    """Go's toggler: noop_up in and noop_down out, then the reverse, until stopped."""
    with api_for(server) as api:
        while not stop.is_set():
            if toggles[0] % 2:
                api.add_toxic("test", "noop", stream="upstream", name="noop_up")
                api.http.delete("/proxies/test/toxics/noop_down")
            else:
                api.http.delete("/proxies/test/toxics/noop_up")
                api.add_toxic("test", "noop", stream="downstream", name="noop_down")
            toggles[0] += 1


def test_toxic_add_remove(api: Api, toxiproxy: EmbeddedToxiproxy) -> None:
    """Echoes while noop toxics are added and removed on both streams concurrently: at least
    100 echoes (Go's count), and on until the toxics have changed 50 times under them."""
    with Upstream() as upstream:
        port = api.create("test", upstream.address)
        with connect(port) as client:
            server = upstream.accept()
            stop = threading.Event()
            toggles = [0]
            toggler = Background(_toggle_noops, toxiproxy, toggles, stop)
            echoes = 0
            deadline = time.monotonic() + 20
            try:
                while (echoes < 100 or toggles[0] < 50) and time.monotonic() < deadline:
                    _assert_echo_response(client, server)
                    echoes += 1
            finally:
                stop.set()
            toggler.result(timeout=10)
            assert toggles[0] >= 50


def test_proxy_latency(api: Api) -> None:
    """Mean one-way time through the proxy with no toxic (the test plays both ends): Go's
    bound, < 300 µs, kept as is. Measured here: 20-70 µs, also with two more test runs
    loading the 2-core box, so the bound has 4x headroom and still catches a fast path that
    starts waiting on a timer or a task hop per chunk."""
    with Upstream() as upstream:
        port = api.create("test", upstream.address)
        with connect(port) as client:
            server = upstream.accept()
            _assert_echo_response(client, server)  # warm up
            start = time.perf_counter()
            for _ in range(100):
                _assert_echo_response(client, server)
            one_way = (time.perf_counter() - start) / 200
    assert one_way < 300e-6, f"mean one-way latency {one_way * 1e6:.0f} µs"


# -- latency_test.go -----------------------------------------------------------------------

LATENCY_MESSAGE = b"hello world " + b"a" * (32 * 1024) + b"\n"


def _assert_near(label: str, actual_s: float, expected_ms: int, slack_ms: int) -> None:
    actual_ms = actual_s * 1000
    assert abs(actual_ms - expected_ms) <= slack_ms, (
        f"{label}: {actual_ms:.1f} ms, expected {expected_ms} ± {slack_ms} ms"
    )


def _latency_round(
    client: socket.socket, server: socket.socket, up: tuple[int, int], down: tuple[int, int]
) -> None:
    """One message each way; `up` and `down` are (latency, jitter) in ms."""
    start = time.monotonic()
    client.sendall(LATENCY_MESSAGE)
    assert recv_exact(server, len(LATENCY_MESSAGE)) == LATENCY_MESSAGE
    server_read = time.monotonic()
    server.sendall(LATENCY_MESSAGE)
    assert recv_exact(client, len(LATENCY_MESSAGE)) == LATENCY_MESSAGE
    client_read = time.monotonic()
    _assert_near("server read", server_read - start, up[0], up[1] + EACH_WAY_SLACK_MS)
    _assert_near("client read", client_read - server_read, down[0], down[1] + EACH_WAY_SLACK_MS)
    _assert_near(
        "round trip",
        client_read - start,
        up[0] + down[0],
        up[1] + down[1] + ROUND_TRIP_SLACK_MS,
    )


LATENCY_CASES = {
    "upstream": ((100, 0), None),
    "downstream": (None, (100, 0)),
    "even": ((100, 0), (100, 0)),
    "bias_up": ((1000, 0), (100, 0)),
    "bias_down": ((100, 0), (1000, 0)),
    "zero": ((0, 0), (0, 0)),
    "jitter": ((100, 30), (50, 20)),
}


@pytest.mark.parametrize("case", LATENCY_CASES)
def test_latency(api: Api, case: str) -> None:
    up, down = LATENCY_CASES[case]
    with Upstream() as upstream:
        port = api.create("test", upstream.address)
        for stream, setting in (("upstream", up), ("downstream", down)):
            if setting is not None:
                name = f"latency_{stream}"
                api.add_toxic("test", "latency", stream, name, latency=setting[0], jitter=setting[1])
        with connect(port) as client:
            server = upstream.accept()
            for _ in range(2):  # Go expects the same latency in both rounds
                _latency_round(client, server, up or (0, 0), down or (0, 0))


def _accept_and_close(upstream: Upstream, stop: threading.Event) -> int:
    """Go's accept loop for the close race: take every connection, then drop it."""
    accepted = 0
    while not stop.is_set():
        try:
            upstream.accept(timeout=0.05).close()
        except TimeoutError:
            continue
        accepted += 1
    return accepted


def test_latency_toxic_close_race(api: Api) -> None:
    """1000 cycles of add toxic, dial, write, close, remove: link setup and teardown race
    the toxic's removal. The proxy must come out of it with no toxic and still working."""
    with Upstream() as upstream:
        port = api.create("test", upstream.address)
        stop = threading.Event()
        acceptor = Background(_accept_and_close, upstream, stop)
        try:
            for _ in range(1000):
                api.add_toxic("test", "latency", stream="upstream", name="latency", latency=10)
                with connect(port) as client:
                    client.sendall(b"hello")
                api.remove_toxic("test", "latency")
        finally:
            stop.set()
        assert acceptor.result(timeout=10) > 0
        assert api.get("test")["toxics"] == []
        with connect(port) as client:
            client.sendall(b"alive")
            while True:  # connections from the last cycles may still be queued first
                server = upstream.accept()
                server.settimeout(2)
                if server.recv(16) == b"alive":
                    break


def test_two_latency_toxics_add_up(api: Api) -> None:
    """Two 500 ms toxics on one stream: 1000 ms. Go allows ±10 ms; here ±40 ms (see top)."""
    with Upstream() as upstream:
        port = api.create("test", upstream.address)
        for index in range(2):
            api.add_toxic("test", "latency", "upstream", f"latency_{index}", latency=500)
        with connect(port) as client:
            server = upstream.accept()
            start = time.monotonic()
            client.sendall(LATENCY_MESSAGE)
            assert recv_exact(server, len(LATENCY_MESSAGE)) == LATENCY_MESSAGE
            _assert_near("two latency toxics", time.monotonic() - start, 1000, EACH_WAY_SLACK_MS)


def _write_forever(conn: socket.socket, payload: bytes, stop: threading.Event) -> None:
    conn.settimeout(0.2)
    while not stop.is_set():
        try:
            conn.sendall(payload)
        except TimeoutError:
            continue
        except OSError:
            return


def test_latency_toxic_keeps_bandwidth(api: Api) -> None:
    """With 100 ms latency, a saturated stream still moves ≥ 100 MB/s once the pipeline has
    filled: the delay counts from each chunk's arrival, so chunks overlap (as in Go)."""
    payload = b"hello world " * 1000
    with Upstream() as upstream:
        port = api.create("test", upstream.address)
        with connect(port) as client:
            server = upstream.accept()
            stop = threading.Event()
            writer = Background(_write_forever, server, payload, stop)
            try:
                api.add_toxic("test", "latency", latency=100)
                time.sleep(0.15)  # wait for the first delayed chunks to come out
                start = time.perf_counter()
                count = sum(len(recv_exact(client, len(payload))) for _ in range(100))
                elapsed = time.perf_counter() - start
            finally:
                stop.set()
            writer.result(timeout=5)
    assert elapsed <= count / 100e6, f"{count / elapsed / 1e6:.0f} MB/s"


def test_update_releases_the_chunk_in_flight(api: Api) -> None:
    """Interrupting a latency toxic (here by an update) sends the held chunk at once."""
    with Upstream() as upstream:
        port = api.create("test", upstream.address)
        api.add_toxic("test", "latency", name="slow", latency=2000)
        with connect(port) as client:
            server = upstream.accept()
            server.sendall(b"held")
            time.sleep(0.05)
            start = time.monotonic()
            api.update_toxic("test", "slow", latency=2000)
            assert recv_exact(client, 4) == b"held"
            assert time.monotonic() - start < 0.5


def test_remove_flushes_everything_held(api: Api) -> None:
    """Removing a latency toxic releases all the chunks it holds, in order, at once."""
    with Upstream() as upstream:
        port = api.create("test", upstream.address)
        api.add_toxic("test", "latency", name="slow", latency=2000)
        with connect(port) as client:
            server = upstream.accept()
            parts = [f"part{i:03d};".encode() for i in range(50)]
            for part in parts:
                server.sendall(part)
                time.sleep(0.001)
            expect_silence(client, 0.1)
            start = time.monotonic()
            api.remove_toxic("test", "slow")
            assert recv_exact(client, sum(map(len, parts))) == b"".join(parts)
            assert time.monotonic() - start < 0.5


def test_jitter_keeps_order(api: Api, echo_server: int) -> None:
    """Jitter larger than the gap between chunks still never reorders them."""
    port = api.create("test", f"127.0.0.1:{echo_server}")
    api.add_toxic("test", "latency", "upstream", "jittery", latency=20, jitter=20)
    payload = b"".join(f"{i:05d}".encode() for i in range(300))
    with connect(port) as client:
        for start in range(0, len(payload), 5):
            client.sendall(payload[start : start + 5])
            if start % 50 == 0:
                time.sleep(0.001)
        assert recv_exact(client, len(payload)) == payload

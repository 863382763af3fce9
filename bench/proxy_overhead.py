"""What the embedded fault plane costs: round-trip time and single-stream throughput on
loopback, direct against proxied, measured in one run (issue #2's figures).

    .venv/bin/python bench/proxy_overhead.py [--round-trips 5000] [--megabytes 256]

The upstream servers and the proxy each run in their own process, so the client, the
proxy and the servers do not share a GIL. Prints figures and ratios; never passes or fails.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

from _common import fault_plane, percentile

from harness.ports import free_port, is_listening, wait_until

CHUNK = 256 * 1024


# -- upstream servers (each in its own process) -----------------------------------------
class _Echo(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        sock = transport.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        self.transport.write(data)  # type: ignore[attr-defined]


class _Sink(asyncio.Protocol):
    """Counts bytes; answers b"done" once the 8-byte big-endian total it was told arrives."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.expected: int | None = None
        self.seen = 0
        self.header = b""

    def data_received(self, data: bytes) -> None:
        if self.expected is None:
            self.header += data
            if len(self.header) < 8:
                return
            self.expected = int.from_bytes(self.header[:8], "big")
            data = self.header[8:]
        self.seen += len(data)
        if self.seen >= self.expected:
            self.transport.write(b"done")  # type: ignore[attr-defined]


def _serve(kind: str, port: int) -> None:
    import uvloop

    async def main() -> None:
        factory = _Echo if kind == "echo" else _Sink
        server = await asyncio.get_running_loop().create_server(factory, "127.0.0.1", port)
        async with server:
            await server.serve_forever()

    uvloop.run(main())


@contextmanager
def upstream(kind: str) -> Iterator[int]:
    port = free_port()
    proc = mp.get_context("fork").Process(target=_serve, args=(kind, port), daemon=True)
    proc.start()
    try:
        assert wait_until(lambda: is_listening("127.0.0.1", port), 10), f"{kind} server did not start"
        yield port
    finally:
        proc.terminate()
        proc.join(5)


# -- measurements --------------------------------------------------------------------
def round_trips(port: int, count: int) -> list[float]:
    """Microseconds per 16-byte echo, after a warm-up."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        payload = b"x" * 16
        times = []
        for i in range(count + 200):
            started = time.perf_counter_ns()
            sock.sendall(payload)
            got = 0
            while got < len(payload):
                got += len(sock.recv(64))
            if i >= 200:
                times.append((time.perf_counter_ns() - started) / 1000)
    return times


def throughput(port: int, total: int) -> float:
    """MB/s for one stream of `total` bytes, client to upstream, until the sink confirms."""
    block = os.urandom(CHUNK)
    with socket.create_connection(("127.0.0.1", port)) as sock:
        started = time.perf_counter()
        sock.sendall(total.to_bytes(8, "big"))
        sent = 0
        while sent < total:
            sock.sendall(block)
            sent += len(block)
        assert sock.recv(4) == b"done"
        elapsed = time.perf_counter() - started
    return total / elapsed / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--round-trips", type=int, default=5000)
    parser.add_argument("--megabytes", type=int, default=256)
    args = parser.parse_args()
    total = args.megabytes * 1024 * 1024 // CHUNK * CHUNK

    with upstream("echo") as echo, upstream("sink") as sink, fault_plane() as tp:
        p_echo = tp.create_proxy("echo", upstream=f"127.0.0.1:{echo}")
        p_sink = tp.create_proxy("sink", upstream=f"127.0.0.1:{sink}")

        print(f"Round trips: {args.round_trips} x 16 B echoes (µs)")
        direct = round_trips(echo, args.round_trips)
        proxied = round_trips(p_echo.port, args.round_trips)
        for label, q in (("p50", 50.0), ("p99", 99.0)):
            d, p = percentile(direct, q), percentile(proxied, q)
            print(f"  {label}: direct {d:8.1f}  proxied {p:8.1f}  added {p - d:8.1f}  ratio {p / d:5.2f}x")

        print(f"\nSingle-stream throughput: {total / 1e6:.0f} MB client→upstream (MB/s)")
        direct_tp = throughput(sink, total)
        proxied_tp = throughput(p_sink.port, total)
        with p_sink.toxic("latency", stream="upstream", latency=100):
            latency_tp = throughput(p_sink.port, total)
        print(f"  direct                 {direct_tp:8.0f}")
        print(f"  proxied, no toxic      {proxied_tp:8.0f}   ratio {proxied_tp / direct_tp:5.2f}x of direct")
        print(
            f"  proxied, latency 100ms {latency_tp:8.0f}   ratio {latency_tp / direct_tp:5.2f}x of direct"
            "  (includes the one-off 100 ms)"
        )


if __name__ == "__main__":
    main()

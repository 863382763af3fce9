"""What the market-data fan-out benchmarks share: a minimal WebSocket subscriber (an asyncio Protocol
that frames and parses by hand, so the client side costs little and the gateway is what is measured),
the worker processes that hold N of them, and one run per connection count against a fresh gateway."""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import multiprocessing as mp
import os
import signal
import statistics
import struct
import subprocess
import sys
import time
from array import array
from collections.abc import Callable
from typing import Any

HANDSHAKE = (
    b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)
BATCH = 250  # connections opened at once, so the gateway's listen backlog never overflows


def client_frame(payload: bytes, opcode: int = 0x2) -> bytes:
    """A masked frame with an all-zero mask key (legal, and the payload needs no XOR)."""
    n = len(payload)
    head = (
        bytes([0x80 | opcode, 0x80 | n]) if n < 126 else bytes([0x80 | opcode, 0xFE]) + struct.pack(">H", n)
    )
    return head + b"\x00\x00\x00\x00" + payload


class FrameSubscriber(asyncio.Protocol):
    """One subscriber. A venue's subclass says what to send once the socket is upgraded (`opened`) and
    what a binary frame means (`binary`), and sets `ready` once it is subscribed; WebSocket pings are
    answered here. `record` keeps a tick's age when it was sent inside the measurement window."""

    def __init__(self, creds: dict[str, Any], index: int, ages: array[float], window: list[float]) -> None:
        self.creds, self.index, self.ages, self.window = creds, index, ages, window
        self.buf = b""
        self.upgraded = False
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self.received = 0  # binary frames

    def opened(self) -> None:
        raise NotImplementedError

    def binary(self, payload: bytes, now: float) -> None:
        raise NotImplementedError

    def send(self, payload: bytes) -> None:
        assert self.transport is not None
        self.transport.write(client_frame(payload))

    def fail(self, why: str) -> None:
        if not self.ready.done():
            self.ready.set_exception(RuntimeError(why))

    def record(self, sent: float, now: float) -> None:
        if self.window[0] <= sent < self.window[1]:
            self.ages.append(now - sent)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(HANDSHAKE)

    def data_received(self, data: bytes) -> None:
        now = time.time()
        self.buf += data
        if not self.upgraded:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if not self.buf.startswith(b"HTTP/1.1 101"):
                self.fail(f"no upgrade: {self.buf[:80]!r}")
                return
            self.buf, self.upgraded = self.buf[end + 4 :], True
            self.opened()
        buf, pos, size = self.buf, 0, len(self.buf)
        while size - pos >= 2:
            opcode, n = buf[pos] & 0x0F, buf[pos + 1] & 0x7F
            head = 2
            if n == 126:
                if size - pos < 4:
                    break
                n, head = struct.unpack_from(">H", buf, pos + 2)[0], 4
            elif n == 127:
                if size - pos < 10:
                    break
                n, head = struct.unpack_from(">Q", buf, pos + 2)[0], 10
            if size - pos < head + n:
                break
            payload = buf[pos + head : pos + head + n]
            pos += head + n
            if opcode == 0x9:  # a WebSocket ping: the pong carries the same data
                assert self.transport is not None
                self.transport.write(client_frame(payload, 0xA))
            elif opcode == 0x2:
                self.received += 1
                self.binary(payload, now)
        self.buf = buf[pos:]


Subscriber = Callable[[dict[str, Any], int, "array[float]", list[float]], FrameSubscriber]


def worker(
    make: Subscriber, port: int, creds: dict[str, Any], first: int, count: int, window: list[float], out: Any
) -> None:
    """A client process: `count` subscribers, numbered from `first`; their ages once the window ends."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        ages: array[float] = array("d")
        subs: list[FrameSubscriber] = []
        for start in range(0, count, BATCH):
            batch = [
                loop.create_connection(
                    functools.partial(make, creds, first + i, ages, window), "127.0.0.1", port
                )
                for i in range(start, min(start + BATCH, count))
            ]
            subs.extend(proto for _transport, proto in await asyncio.gather(*batch))
            await asyncio.gather(*(asyncio.wait_for(s.ready, 30) for s in subs[start:]))
        out.put(("ready", len(subs)))
        await asyncio.sleep(max(window[1] - time.time(), 0) + 1.0)
        out.put(("done", list(ages), sum(s.received for s in subs)))
        for s in subs:
            if s.transport is not None:
                s.transport.close()

    asyncio.run(main())


def start_mock(args: list[str]) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    """A mock venue in a process of its own (`python -m mocks.X ...`), and the facts it prints first."""
    proc = subprocess.Popen([sys.executable, "-m", *args], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, json.loads(proc.stdout.readline())


def measure_ages(
    make: Subscriber, info: dict[str, Any], connections: int, workers: int, seconds: float
) -> dict[str, float]:
    """Tick ages at `connections` subscribers spread over `workers` processes, over a window fixed up
    front, far enough out for every worker to connect."""
    port = int(info["url"].rsplit(":", 1)[1])
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    workers = max(1, min(workers, connections))
    per = [connections // workers + (1 if i < connections % workers else 0) for i in range(workers)]
    connect_budget = 5 + connections / 400
    window = [time.time() + connect_budget, 0.0]
    window[1] = window[0] + seconds
    procs, first = [], 0
    for n in per:
        p = ctx.Process(target=worker, args=(make, port, info, first, n, window, queue), daemon=True)
        p.start()
        procs.append(p)
        first += n
    ready = sum(queue.get(timeout=120)[1] for _ in procs)
    if time.time() > window[0]:
        print(f"  warning: connecting took longer than the {connect_budget:.0f}s budget", file=sys.stderr)
    ages: list[float] = []
    for _ in procs:
        _, part, _received = queue.get(timeout=seconds + connect_budget + 120)
        ages.extend(part)
    for p in procs:
        p.join(timeout=10)
    ages.sort()
    q = statistics.quantiles(ages, n=100) if len(ages) > 100 else [float("nan")] * 99
    return {
        "connections": ready,
        "ticks": len(ages),
        "rate_per_conn": len(ages) / max(ready, 1) / seconds,
        "p50_ms": q[49] * 1000,
        "p99_ms": q[98] * 1000,
        "max_ms": ages[-1] * 1000 if ages else float("nan"),
    }


Measure = Callable[[dict[str, Any], int, int, float], dict[str, float]]


def parse_args(doc: str, connections: int, baseline: int, seconds: float) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--connections", type=int, default=connections)
    ap.add_argument("--baseline", type=int, default=baseline)
    ap.add_argument("--workers", type=int, default=max(2, min(4, os.cpu_count() or 2)))
    ap.add_argument("--seconds", type=float, default=seconds)
    args = ap.parse_args()
    print(f"cpu cores: {os.cpu_count()}; client processes: {args.workers}; gateway: its own process")
    return args


def runs(
    args: argparse.Namespace,
    start: Callable[[], tuple[subprocess.Popen[str], dict[str, Any]]],
    measure: Measure,
) -> list[dict[str, float]]:
    """The baseline, then the full count, each against a fresh gateway so runs share no state."""
    rows = []
    for n in (args.baseline, args.connections):
        proc, info = start()
        try:
            rows.append(measure(info, n, args.workers, args.seconds))
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=30)
    return rows


def print_table(rows: list[dict[str, float]], extra: dict[str, str]) -> None:
    """Each run's tick ages, with the p50 and p99 as ratios of the baseline's (the first row), then
    the venue's own columns (`extra`: heading -> row key)."""
    base = rows[0]
    head = ("connections", "ticks", "ticks/s/conn", "p50 ms", "p99 ms", "max ms", "p50/base", "p99/base")
    print(" ".join(f"{h:>12}" for h in (*head, *extra)))
    for row in rows:
        cells = [row[k] for k in ("connections", "ticks", "rate_per_conn", "p50_ms", "p99_ms", "max_ms")]
        cells += [row["p50_ms"] / base["p50_ms"], row["p99_ms"] / base["p99_ms"]]
        cells += [row[key] for key in extra.values()]
        print(" ".join(f"{c:>12.2f}" for c in cells))

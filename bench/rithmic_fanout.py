"""Rithmic gateway market-data fan-out: tick age (gateway timestamp to subscriber receipt) at p50/p99.

    .venv/bin/python bench/rithmic_fanout.py [--connections 5000] [--workers 2] [--seconds 10]

The gateway runs in its own process at 10 steps/s; every subscriber takes LastTrade for one of the four
listed instruments, so each connection receives 10 ticks/s. Subscribers live in `--workers` client
processes, each a minimal WebSocket client (an asyncio Protocol, no per-message framework cost), so the
client side measures the gateway rather than itself. A baseline with few connections runs first in the
same invocation, and the figures are printed with their ratio to it. Prints figures; never passes or fails.
"""

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
import urllib.request
from array import array
from typing import Any

from async_rithmic.protocol_buffers import last_trade_pb2, request_login_pb2, request_market_data_update_pb2

SYMBOLS = [("ESZ6", "CME"), ("NQZ6", "CME"), ("CLF7", "NYMEX"), ("GCG7", "COMEX")]
HANDSHAKE = (
    b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


def client_frame(payload: bytes) -> bytes:
    """A masked binary frame with an all-zero mask key (legal, and the payload needs no XOR)."""
    n = len(payload)
    header = bytes([0x82, 0x80 | n]) if n < 126 else bytes([0x82, 0xFE]) + struct.pack(">H", n)
    return header + b"\x00\x00\x00\x00" + payload


def prefixed(message: Any) -> bytes:
    raw: bytes = message.SerializeToString()
    return struct.pack(">i", len(raw)) + raw


class Subscriber(asyncio.Protocol):
    def __init__(
        self, creds: dict[str, Any], symbol: tuple[str, str], ages: array[float], window: list[float]
    ):
        self.creds, self.symbol, self.ages, self.window = creds, symbol, ages, window
        self.buf = b""
        self.upgraded = False
        self.ready = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self.trade = last_trade_pb2.LastTrade()
        self.received = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(HANDSHAKE)

    def _send(self, message: Any) -> None:
        assert self.transport is not None
        self.transport.write(client_frame(prefixed(message)))

    def data_received(self, data: bytes) -> None:
        now = time.time()
        self.buf += data
        if not self.upgraded:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            assert self.buf.startswith(b"HTTP/1.1 101"), self.buf[:80]
            self.buf, self.upgraded = self.buf[end + 4 :], True
            login = request_login_pb2.RequestLogin(
                template_id=10,
                template_version="3.9",
                user=self.creds["user"],
                password=self.creds["password"],
                system_name=self.creds["system_name"],
                app_name="bench",
                app_version="0",
                infra_type=1,
            )
            self._send(login)
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
            payload = buf[pos + head + 4 : pos + head + n]  # skip the R|Protocol length prefix
            pos += head + n
            if opcode == 0x9:  # ping: answer with a pong carrying the same data
                assert self.transport is not None
                self.transport.write(
                    bytes([0x8A, 0x80 | (n & 0x7F)]) + b"\x00\x00\x00\x00" + buf[pos - n : pos]
                )
                continue
            if opcode != 0x2:
                continue
            self.received += 1
            if not self.ready.done():
                self.ready.set_result(None)
                sub = request_market_data_update_pb2.RequestMarketDataUpdate(
                    template_id=100, symbol=self.symbol[0], exchange=self.symbol[1], request=1, update_bits=1
                )
                self._send(sub)
                continue
            trade = self.trade
            trade.ParseFromString(payload)
            if trade.template_id == 150:
                sent = trade.ssboe + trade.usecs / 1e6
                if self.window[0] <= sent < self.window[1]:
                    self.ages.append(now - sent)
        self.buf = buf[pos:]


def worker(port: int, creds: dict[str, Any], first: int, count: int, window: list[float], out: Any) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        ages: array[float] = array("d")
        subs: list[Subscriber] = []
        for start in range(0, count, 250):  # open in batches so the listen backlog never overflows
            batch = []
            for i in range(start, min(start + 250, count)):
                symbol = SYMBOLS[(first + i) % len(SYMBOLS)]
                factory = functools.partial(Subscriber, creds, symbol, ages, window)
                batch.append(loop.create_connection(factory, "127.0.0.1", port))
            for _transport, proto in await asyncio.gather(*batch):
                subs.append(proto)
            await asyncio.gather(*(asyncio.wait_for(s.ready, 30) for s in subs[start:]))
        out.put(("ready", len(subs)))
        await asyncio.sleep(max(window[1] - time.time(), 0) + 1.0)
        out.put(("done", list(ages), sum(s.received for s in subs)))
        for s in subs:
            if s.transport is not None:
                s.transport.close()

    asyncio.run(main())


def start_gateway() -> tuple[subprocess.Popen[str], dict[str, Any]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mocks.rithmic", "--ticks-per-second", "10", "--heartbeat-interval", "30"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    return proc, json.loads(proc.stdout.readline())


def measure(info: dict[str, Any], connections: int, workers: int, seconds: float) -> dict[str, float]:
    port = int(info["url"].rsplit(":", 1)[1])
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    manager_window = [0.0, 0.0]
    per = [connections // workers + (1 if i < connections % workers else 0) for i in range(workers)]
    # the measurement window is fixed up front, far enough out for every worker to connect
    connect_budget = 5 + connections / 400
    manager_window[0] = time.time() + connect_budget
    manager_window[1] = manager_window[0] + seconds
    procs = []
    first = 0
    for n in per:
        p = ctx.Process(target=worker, args=(port, info, first, n, manager_window, queue), daemon=True)
        p.start()
        procs.append(p)
        first += n
    ready = sum(queue.get(timeout=120)[1] for _ in procs)
    if time.time() > manager_window[0]:
        print(f"  warning: connecting took longer than the {connect_budget:.0f}s budget", file=sys.stderr)
    ages: list[float] = []
    received = 0
    for _ in procs:
        _, part, got = queue.get(timeout=seconds + connect_budget + 120)
        ages.extend(part)
        received += got
    for p in procs:
        p.join(timeout=10)
    clock = json.loads(urllib.request.urlopen(info["control"] + "/stats", timeout=10).read())["clock"]
    ages.sort()
    q = statistics.quantiles(ages, n=100) if len(ages) > 100 else [float("nan")] * 99
    return {
        "connections": ready,
        "ticks": len(ages),
        "rate_per_conn": len(ages) / max(ready, 1) / seconds,
        "p50_ms": q[49] * 1000,
        "p99_ms": q[98] * 1000,
        "max_ms": ages[-1] * 1000 if ages else float("nan"),
        "gw_tick_p50": clock.get("tick_ms_p50", float("nan")),
        "gw_tick_p99": clock.get("tick_ms_p99", float("nan")),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--connections", type=int, default=5000)
    ap.add_argument("--baseline", type=int, default=100)
    ap.add_argument("--workers", type=int, default=max(2, min(4, os.cpu_count() or 2)))
    ap.add_argument("--seconds", type=float, default=10.0)
    args = ap.parse_args()
    print(f"cpu cores: {os.cpu_count()}; client processes: {args.workers}; gateway: its own process")
    rows = []
    for n in (args.baseline, args.connections):
        proc, info = start_gateway()  # a fresh gateway per run, so runs do not share state
        try:
            rows.append(measure(info, n, args.workers, args.seconds))
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=30)
    base = rows[0]
    head = (
        "connections",
        "ticks",
        "ticks/s/conn",
        "p50 ms",
        "p99 ms",
        "max ms",
        "p99/base",
        "gw tick p50",
        "gw p99",
    )
    print(" ".join(f"{h:>12}" for h in head))
    # gw tick: milliseconds the gateway spends on one instrument's tick (step, match, encode, write to all)
    for row in rows:
        cells = [
            row["connections"],
            row["ticks"],
            row["rate_per_conn"],
            row["p50_ms"],
            row["p99_ms"],
            row["max_ms"],
        ]
        cells += [row["p99_ms"] / base["p99_ms"], row["gw_tick_p50"], row["gw_tick_p99"]]
        print(" ".join(f"{c:>12.2f}" for c in cells))


if __name__ == "__main__":
    main()

"""CQG mock market-data fan-out: tick age (gateway quote time to subscriber receipt) at p50/p99.

    .venv/bin/python bench/cqg_fanout.py [--connections 1000] [--baseline 50] [--workers 2] [--seconds 8]

The CQG mock (mocks/cqg) runs in its own process at 10 steps/s; every subscriber logs on (one binary
protobuf ClientMsg per WebSocket frame), subscribes at level 1 (trades) to one of the four contracts,
so each connection receives 10 RealTimeMarketData a second, and answers the server's pings. Subscribers
live in `--workers` client processes, each a minimal WebSocket client (an asyncio Protocol), so the
client side measures the gateway rather than itself. A baseline with few connections runs first in the
same invocation, and the figures are printed with their ratio to it. Prints figures; never passes or
fails.

A quote's time is CQG's `quote_utc_time`, whole milliseconds from the logon's `base_time` (the mock
truncates), so each age reads up to 1 ms high; the ratio to the baseline is unaffected.
"""

from __future__ import annotations

import argparse
import asyncio
import calendar
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

from mocks.cqg.proto import webapi_pb2 as pb

HANDSHAKE = (
    b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)
Q_TRADE = 0


def client_frame(payload: bytes, opcode: int = 0x2) -> bytes:
    """A masked frame with an all-zero mask key (legal, and the payload needs no XOR)."""
    n = len(payload)
    head = (
        bytes([0x80 | opcode, 0x80 | n]) if n < 126 else bytes([0x80 | opcode, 0xFE]) + struct.pack(">H", n)
    )
    return head + b"\x00\x00\x00\x00" + payload


def base_epoch(base_time: str) -> float:
    """CQG's base_time (ISO 8601 UTC, no zone, whole seconds) as epoch seconds."""
    return float(calendar.timegm(time.strptime(base_time, "%Y-%m-%dT%H:%M:%S")))


class Subscriber(asyncio.Protocol):
    def __init__(self, creds: dict[str, Any], contract_id: int, ages: array[float], window: list[float]):
        self.creds, self.contract_id, self.ages, self.window = creds, contract_id, ages, window
        self.buf = b""
        self.upgraded = False
        self.epoch = 0.0
        self.ready = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self.msg = pb.ServerMsg()
        self.received = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(HANDSHAKE)

    def _send(self, msg: pb.ClientMsg) -> None:
        assert self.transport is not None
        self.transport.write(client_frame(msg.SerializeToString()))

    def _fail(self, why: str) -> None:
        if not self.ready.done():
            self.ready.set_exception(RuntimeError(why))

    def data_received(self, data: bytes) -> None:
        now = time.time()
        self.buf += data
        if not self.upgraded:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if not self.buf.startswith(b"HTTP/1.1 101"):
                self._fail(f"no upgrade: {self.buf[:80]!r}")
                return
            self.buf, self.upgraded = self.buf[end + 4 :], True
            logon = pb.Logon(
                user_name=self.creds["user"],
                password=self.creds["password"],
                client_app_id="bench",
                client_version="0",
                protocol_version_major=2,
                protocol_version_minor=230,
            )
            self._send(pb.ClientMsg(logon=logon))
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
                self._message(payload, now)
        self.buf = buf[pos:]

    def _message(self, payload: bytes, now: float) -> None:
        msg = self.msg
        msg.ParseFromString(payload)
        self.received += 1
        if msg.HasField("ping"):  # the server's own ping (107): answered, or the mock drops us
            pong = pb.Pong(token=msg.ping.token, ping_utc_time=msg.ping.ping_utc_time)
            self._send(pb.ClientMsg(pong=pong))
        if msg.HasField("logon_result"):
            if msg.logon_result.result_code != 0:
                self._fail(f"logon refused ({msg.logon_result.result_code})")
                return
            self.epoch = base_epoch(msg.logon_result.base_time)
            sub = pb.MarketDataSubscription(contract_id=self.contract_id, level=1, request_id=1)
            self._send(pb.ClientMsg(market_data_subscriptions=[sub]))
        for status in msg.market_data_subscription_statuses:
            if status.status_code != 0:
                self._fail(f"subscription refused ({status.status_code}): {status.text_message}")
            elif not self.ready.done():
                self.ready.set_result(None)
        low, high = self.window
        for rtmd in msg.real_time_market_data:
            if rtmd.is_snapshot:  # stamped when we subscribed, not when the market moved
                continue
            for quote in rtmd.quotes:
                if quote.type == Q_TRADE:
                    sent = self.epoch + quote.quote_utc_time / 1000
                    if low <= sent < high:
                        self.ages.append(now - sent)


def worker(port: int, creds: dict[str, Any], first: int, count: int, window: list[float], out: Any) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        ages: array[float] = array("d")
        subs: list[Subscriber] = []
        contract_ids = [c["contract_id"] for c in creds["contracts"]]
        for start in range(0, count, 250):  # open in batches so the listen backlog never overflows
            batch = []
            for i in range(start, min(start + 250, count)):
                contract_id = contract_ids[(first + i) % len(contract_ids)]
                factory = functools.partial(Subscriber, creds, contract_id, ages, window)
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
        [sys.executable, "-m", "mocks.cqg", "--ticks-per-second", "10"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    return proc, json.loads(proc.stdout.readline())


def measure(info: dict[str, Any], connections: int, workers: int, seconds: float) -> dict[str, float]:
    port = int(info["url"].rsplit(":", 1)[1])
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    workers = max(1, min(workers, connections))
    per = [connections // workers + (1 if i < connections % workers else 0) for i in range(workers)]
    # the measurement window is fixed up front, far enough out for every worker to connect
    connect_budget = 5 + connections / 400
    window = [time.time() + connect_budget, 0.0]
    window[1] = window[0] + seconds
    procs = []
    first = 0
    for n in per:
        p = ctx.Process(target=worker, args=(port, info, first, n, window, queue), daemon=True)
        p.start()
        procs.append(p)
        first += n
    ready = sum(queue.get(timeout=120)[1] for _ in procs)
    if time.time() > window[0]:
        print(f"  warning: connecting took longer than the {connect_budget:.0f}s budget", file=sys.stderr)
    ages: list[float] = []
    received = 0
    for _ in procs:
        _, part, got = queue.get(timeout=seconds + connect_budget + 120)
        ages.extend(part)
        received += got
    for p in procs:
        p.join(timeout=10)
    stats = json.loads(urllib.request.urlopen(info["control"] + "/stats", timeout=10).read())
    ages.sort()
    q = statistics.quantiles(ages, n=100) if len(ages) > 100 else [float("nan")] * 99
    return {
        "connections": ready,
        "ticks": len(ages),
        "rate_per_conn": len(ages) / max(ready, 1) / seconds,
        "p50_ms": q[49] * 1000,
        "p99_ms": q[98] * 1000,
        "max_ms": ages[-1] * 1000 if ages else float("nan"),
        "dropped": float(stats.get("dropped_ticks", float("nan"))),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--connections", type=int, default=1000)
    ap.add_argument("--baseline", type=int, default=50)
    ap.add_argument("--workers", type=int, default=max(2, min(4, os.cpu_count() or 2)))
    ap.add_argument("--seconds", type=float, default=8.0)
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
        "p50/base",
        "p99/base",
        "dropped",
    )
    print(" ".join(f"{h:>12}" for h in head))
    # dropped: ticks the gateway's slow-consumer policy dropped (GET /stats `dropped_ticks`)
    for row in rows:
        cells = [row["connections"], row["ticks"], row["rate_per_conn"], row["p50_ms"], row["p99_ms"]]
        cells += [
            row["max_ms"],
            row["p50_ms"] / base["p50_ms"],
            row["p99_ms"] / base["p99_ms"],
            row["dropped"],
        ]
        print(" ".join(f"{c:>12.2f}" for c in cells))


if __name__ == "__main__":
    main()

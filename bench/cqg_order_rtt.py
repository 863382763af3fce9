"""Order round trip through the project's CQG client: a market order's NewOrder to its FILLED order
status, p50/p99, directly against the CQG mock and through a fault-plane proxy with no toxics.

    .venv/bin/python bench/cqg_order_rtt.py [--orders 500]

The same method as bench/rithmic_order_rtt.py: the mock (`python -m mocks.cqg`) and the fault plane
(`python -m harness toxiproxy`) each run in their own process, the client runs here, and direct and
proxied runs alternate in blocks so drift hits both alike. CQG's order-rate limits (10 a second per
account, 300 per 10 s per session) would refuse a back-to-back benchmark, so they are raised through
the mock's control API for the run: this measures the round trip, not the limits. Prints figures and
the proxied/direct ratio; never passes or fails.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from _common import direct_and_proxied, print_round_trips

from mocks.cqg.proto import webapi_pb2 as pb
from reference_middleware.venues.cqg import BUY, FILLED, MKT, SELL, CQGClient


@contextmanager
def gateway() -> Iterator[dict[str, Any]]:
    proc = subprocess.Popen([sys.executable, "-m", "mocks.cqg"], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    try:
        info = json.loads(proc.stdout.readline())
        limits = {"max_orders_per_account_per_s": 100_000, "max_orders_per_session": 1_000_000}
        request = urllib.request.Request(
            f"{info['control']}/cqg/config",
            data=json.dumps(limits).encode(),
            headers={"Content-Type": "application/json"},
        )
        urllib.request.urlopen(request, timeout=5).read()
        yield info
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)


async def round_trips(url: str, info: dict[str, Any], count: int, tag: str) -> list[float]:
    client = CQGClient(url, info["user"], info["password"], request_timeout_s=10)
    waiting: dict[str, asyncio.Event] = {}

    def on_message(msg: pb.ServerMsg) -> None:
        for status in msg.order_statuses:
            if status.status == FILLED and status.order.cl_order_id in waiting:
                waiting[status.order.cl_order_id].set()

    client.on_message.append(on_message)
    await client.connect()
    samples = []
    try:
        await client.subscribe_trades()
        contract = await client.resolve("ESZ6")
        accounts = info["accounts"]
        for i in range(count):
            cl = f"{tag}-{i}"
            done = waiting[cl] = asyncio.Event()
            t0 = time.perf_counter()
            side = BUY if i % 2 == 0 else SELL
            await client.place_order(accounts[i % len(accounts)], contract, side, 1, MKT, cl_order_id=cl)
            await asyncio.wait_for(done.wait(), 10)
            samples.append(time.perf_counter() - t0)
            del waiting[cl]
    finally:
        await client.close()
    return samples[5:]  # the first few warm caches


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--orders", type=int, default=500)
    ap.add_argument("--blocks", type=int, default=4)
    args = ap.parse_args()
    with gateway() as info:
        results = direct_and_proxied("cqg", info, round_trips, args.orders, args.blocks)
    print_round_trips("NewOrder -> FILLED order status", results)


if __name__ == "__main__":
    main()

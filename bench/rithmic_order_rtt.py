"""Order round trip through the real async-rithmic client: submit_order() to its fill notification (352),
p50/p99, directly against the Rithmic gateway and through a fault-plane proxy with no toxics.

    .venv/bin/python bench/rithmic_order_rtt.py [--orders 500]

The gateway (`python -m mocks.rithmic`) and the fault plane (`python -m harness toxiproxy`) each run in their
own process; the client runs here. Direct and proxied runs alternate in blocks so drift hits both alike.
Prints figures and the proxied/direct ratio; never passes or fails.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from _common import direct_and_proxied, print_round_trips
from async_rithmic import OrderType, RetrySettings, RithmicClient, SysInfraType, TransactionType


@contextmanager
def gateway() -> Iterator[dict[str, Any]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mocks.rithmic", "--ticks-per-second", "10"], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    try:
        yield json.loads(proc.stdout.readline())
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)


async def round_trips(url: str, creds: dict[str, Any], count: int, tag: str) -> list[float]:
    client = RithmicClient(
        user=creds["user"],
        password=creds["password"],
        system_name=creds["system_name"],
        app_name="bench",
        app_version="0",
        url=url,
        retry_settings=RetrySettings(max_retries=1, timeout=10.0),
    )
    client.ssl_context = None
    waiting: dict[str, asyncio.Event] = {}

    def on_fill(note: Any) -> None:
        if note.notify_type == 5 and note.user_tag in waiting:
            waiting[note.user_tag].set()

    client.on_exchange_order_notification += on_fill
    await client.connect(plants=[SysInfraType.ORDER_PLANT])
    samples = []
    try:
        for i in range(count):
            order_id = f"{tag}-{i}"
            done = waiting[order_id] = asyncio.Event()
            side = TransactionType.BUY if i % 2 == 0 else TransactionType.SELL
            t0 = time.perf_counter()
            await client.submit_order(order_id, "ESZ6", "CME", 1, side, OrderType.MARKET)
            await asyncio.wait_for(done.wait(), 10)
            samples.append(time.perf_counter() - t0)
            del waiting[order_id]
    finally:
        await client.disconnect()
    return samples[5:]  # the first few warm caches


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", type=int, default=500)
    ap.add_argument("--blocks", type=int, default=4)
    args = ap.parse_args()
    logging.getLogger("rithmic").setLevel(logging.WARNING)
    with gateway() as info:
        results = direct_and_proxied("rithmic", info, round_trips, args.orders, args.blocks)
    print_round_trips("submit_order() -> fill notification", results)


if __name__ == "__main__":
    main()

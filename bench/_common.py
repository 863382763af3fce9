"""What the benchmarks share: the fault plane as its own process, and percentiles."""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any

from harness.faults import ToxiproxyClient
from harness.ports import free_port, wait_until


@contextmanager
def fault_plane() -> Iterator[ToxiproxyClient]:
    """`uat toxiproxy` in a process of its own, so it shares no GIL with the measuring client."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness", "--log-level", "warning", "toxiproxy", "--port", str(port)],
        stderr=subprocess.DEVNULL,
    )
    try:
        with ToxiproxyClient(f"http://127.0.0.1:{port}", timeout=2) as client:
            assert wait_until(client.is_up, 15), "uat toxiproxy did not start"
            yield client
    finally:
        proc.terminate()
        proc.wait(10)


def cpu_yardstick(steps: int = 10_000_000) -> float:
    """Seconds one core takes for a fixed pure-Python loop, best of three: load figures measured on
    different days (or machines of the same kind) differ by the CPU they got, and without this the
    two cannot be told apart from a change in the code."""
    best = float("inf")
    for _ in range(3):
        began = time.perf_counter()
        total = 0
        for i in range(steps):
            total += i
        best = min(best, time.perf_counter() - began)
    return best


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0 < q < 100, tenths allowed) of `values`."""
    return statistics.quantiles(values, n=1000)[int(q * 10) - 1]


def direct_and_proxied(
    venue: str,
    info: dict[str, Any],
    round_trips: Callable[[str, dict[str, Any], int, str], Coroutine[Any, Any, list[float]]],
    orders: int,
    blocks: int,
) -> dict[str, list[float]]:
    """Order round trips straight to a mock venue and through a fault-plane proxy with no toxics,
    alternating in blocks so drift hits both alike; seconds per order, by path."""
    with fault_plane() as plane:
        proxy = plane.create_proxy(venue, upstream=info["url"].removeprefix("ws://"))
        proxied_url = f"ws://127.0.0.1:{proxy.port}"
        results: dict[str, list[float]] = {"direct": [], "proxied": []}
        per_block = max(orders // blocks, 10)
        for block in range(blocks):
            for name, url in (("direct", info["url"]), ("proxied", proxied_url)):
                results[name] += asyncio.run(round_trips(url, info, per_block + 5, f"{name}{block}"))
    return results


def print_round_trips(what: str, results: dict[str, list[float]]) -> None:
    """p50, p99 and mean per path, and the proxied/direct ratio."""
    print(f"{what}, {len(results['direct'])} market orders each, no toxics")
    print(f"{'path':>8} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8}")
    for name, values in results.items():
        mean = statistics.mean(values) * 1000
        p50, p99 = percentile(values, 50) * 1000, percentile(values, 99) * 1000
        print(f"{name:>8} {p50:>8.3f} {p99:>8.3f} {mean:>8.3f}")
    d, p = results["direct"], results["proxied"]
    ratio50, ratio99 = percentile(p, 50) / percentile(d, 50), percentile(p, 99) / percentile(d, 99)
    print(f"ratio proxied/direct: p50 {ratio50:.2f}, p99 {ratio99:.2f}")

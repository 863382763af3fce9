"""What the benchmarks share: the fault plane as its own process, and percentiles."""

from __future__ import annotations

import statistics
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

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


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0 < q < 100, tenths allowed) of `values`."""
    return statistics.quantiles(values, n=1000)[int(q * 10) - 1]

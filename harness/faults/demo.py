"""`make demo` until the gate exists: one live connection through the fault plane, broken on
purpose four ways, with what was expected beside what was measured."""

from __future__ import annotations

import socket
import statistics
import sys
import time
from collections.abc import Callable

from rich.console import Console
from rich.table import Table

from ..testing import EchoServer
from .client import Proxy
from .plane import FaultPlane

Check = tuple[str, str, Callable[[Proxy], tuple[str, bool]]]


def _rtt_ms(port: int, samples: int = 20) -> float:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        times = []
        for _ in range(samples):
            started = time.perf_counter()
            sock.sendall(b"ping")
            if sock.recv(16) != b"ping":
                raise RuntimeError("echo upstream answered with something else")
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _baseline(proxy: Proxy) -> tuple[str, bool]:
    ms = _rtt_ms(proxy.port)
    return f"median round trip {ms:.3f} ms", ms < 50


def _latency(proxy: Proxy) -> tuple[str, bool]:
    with proxy.toxic("latency", latency=250, jitter=50):
        ms = _rtt_ms(proxy.port, samples=5)
    return f"median round trip {ms:.0f} ms", 190 <= ms <= 400


def _down(proxy: Proxy) -> tuple[str, bool]:
    live = socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
    with proxy.down():
        closed = live.recv(1) == b""
        try:
            socket.create_connection(("127.0.0.1", proxy.port), timeout=2).close()
            refused = False
        except ConnectionRefusedError:
            refused = True
    live.close()
    back = _rtt_ms(proxy.port, samples=3) < 50
    text = f"live conn closed={closed}, new conn refused={refused}, back after enable={back}"
    return text, closed and refused and back


def _timeout(proxy: Proxy) -> tuple[str, bool]:
    with (
        socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock,
        proxy.toxic("timeout", timeout=300),
    ):
        started = time.perf_counter()
        sock.sendall(b"ping")
        data = sock.recv(16)
        waited = (time.perf_counter() - started) * 1000
    return f"no reply; closed after {waited:.0f} ms (got {data!r})", data == b"" and 250 <= waited <= 1000


def _reset_peer(proxy: Proxy) -> tuple[str, bool]:
    # The toxic must exist before the connection is accepted for the close to be an RST.
    with (
        proxy.toxic("reset_peer", timeout=0, stream="upstream"),
        socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock,
    ):
        sock.sendall(b"ping")
        try:
            data = sock.recv(16)
            outcome, ok = f"got {data!r}, no reset", False
        except ConnectionResetError:
            outcome, ok = "ECONNRESET, as a crashed venue gives", True
    return outcome, ok


CHECKS: list[Check] = [
    ("no toxic", "echo in well under 50 ms", _baseline),
    ("latency 250±50 ms", "round trip 190–400 ms", _latency),
    ("proxy down", "live closed, new refused, same port back", _down),
    ("timeout 300 ms", "data dropped, closed after ~300 ms", _timeout),
    ("reset_peer", "connection reset by peer", _reset_peer),
]


def main() -> int:
    console = Console()
    with EchoServer() as echo, FaultPlane() as plane:
        console.print(f"[bold]fault plane[/] {plane.url} — {plane.reason}")
        proxy = plane.client.create_proxy("echo", upstream=f"127.0.0.1:{echo.port}")
        console.print(f"[bold]proxy[/] {proxy.listen} → echo upstream 127.0.0.1:{echo.port}\n")
        table = Table(title="Faults on a live TCP connection")
        for column in ("fault", "expected", "measured", "verdict"):
            table.add_column(column)
        failures = 0
        for name, expected, check in CHECKS:
            measured, ok = check(proxy)
            failures += not ok
            table.add_row(name, expected, measured, "[green]ok[/]" if ok else "[red]FAIL[/]")
        console.print(table)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

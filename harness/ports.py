"""Free loopback ports, and waiting for a port to open or close."""

from __future__ import annotations

import random
import socket
import time
from collections.abc import Callable
from pathlib import Path

# Below the kernel's ephemeral range: a port the OS hands out for bind(0) is also the local port of
# the next outgoing connection, so a middleware restarted on "its" port could find a client socket
# of the run sitting on it ("address already in use"). Ports below the range are never taken so.
LISTEN_RANGE = (15000, 32767)
_pick = random.Random()


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port(host: str = "127.0.0.1") -> int:
    """A port free right now, below the ephemeral range where one can be found (a race with another
    listener remains; callers retry a bind failure)."""
    high = min(LISTEN_RANGE[1], _ephemeral_low() - 1)
    for _ in range(50):
        port = _pick.randint(LISTEN_RANGE[0], high) if high > LISTEN_RANGE[0] else 0
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def is_listening(host: str, port: int, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)

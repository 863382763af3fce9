"""Network helpers shared by the harness's tests: an echo server and bounded socket I/O."""

from __future__ import annotations

import socket
import time

from harness.testing import EchoServer as EchoServer  # re-exported for the tests

IO_TIMEOUT = 5.0


def connect(port: int, host: str = "127.0.0.1") -> socket.socket:
    sock = socket.create_connection((host, port), timeout=IO_TIMEOUT)
    sock.settimeout(IO_TIMEOUT)
    return sock


def recv_exactly(sock: socket.socket, size: int) -> bytes:
    buf = bytearray()
    while len(buf) < size:
        chunk = sock.recv(size - len(buf))
        if not chunk:
            break
        buf += chunk
    return bytes(buf)


def round_trip(sock: socket.socket, payload: bytes = b"ping") -> float:
    """Seconds for `payload` to come back from an echo upstream."""
    started = time.perf_counter()
    sock.sendall(payload)
    echoed = recv_exactly(sock, len(payload))
    assert echoed == payload, f"echo returned {echoed!r}, expected {payload!r}"
    return time.perf_counter() - started

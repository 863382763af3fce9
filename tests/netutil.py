"""Network helpers shared by the harness's tests: an echo server and bounded socket I/O."""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
import time

IO_TIMEOUT = 5.0


class _EchoHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(30)
        with contextlib.suppress(OSError):
            while data := sock.recv(65536):
                sock.sendall(data)


class _ThreadingServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False


class EchoServer:
    """A threaded TCP echo server on loopback; a context manager that always shuts down."""

    def __init__(self) -> None:
        self._server = _ThreadingServer(("127.0.0.1", 0), _EchoHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.daemon = True

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def __enter__(self) -> EchoServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


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

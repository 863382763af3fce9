"""Test doubles shipped as API (as trio ships `trio.testing`): the demo and the tests share them."""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading


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
    request_queue_size = 128  # tests open dozens of connections at once; the default 5 stalls them


class EchoServer:
    """A threaded TCP echo server on loopback; a context manager that always shuts down."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._server = _ThreadingServer((host, 0), _EchoHandler)
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

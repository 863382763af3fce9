"""The flood sender's connection: kept alive across requests, reopened after one is dropped."""

from __future__ import annotations

import io
import json
import socket
import threading

from harness.security.floodsender import Plan, send


class DropsFirst:
    """Closes its first connection unanswered; on every later one answers each request 429 with a
    Retry-After and keeps the connection open (HTTP/1.1). Records each connection's request lines."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.connections: list[list[str]] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            lines: list[str] = []
            self.connections.append(lines)
            threading.Thread(
                target=self._serve, args=(conn, lines, len(self.connections) == 1), daemon=True
            ).start()

    def _serve(self, conn: socket.socket, lines: list[str], drop: bool) -> None:
        with conn, conn.makefile("rb") as reader:
            while True:
                head = [reader.readline()]
                while head[-1] not in (b"\r\n", b""):
                    head.append(reader.readline())
                if head[-1] == b"":
                    return
                lines.append(head[0].decode().strip())
                if drop:
                    return
                conn.sendall(
                    b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 2\r\nContent-Length: 4\r\n\r\nslow"
                )


def test_a_dropped_connection_is_one_failed_answer_and_the_rest_reuse_one_connection() -> None:
    server = DropsFirst()
    plan: Plan = {
        "method": "GET",
        "url": f"http://127.0.0.1:{server.port}/positions",
        "params": {"account": "A4"},
        "headers": {"Authorization": "Bearer k"},
        "threads": 1,
        "total": 6,
        "rate_rps": 1000,
        "duration_s": 5,
        "timeout_s": 2,
    }
    out = io.StringIO()
    try:
        send(plan, out)
    finally:
        server.sock.close()
    shots = [line for line in map(json.loads, out.getvalue().splitlines()) if "t" in line]
    assert len(shots) == 6
    assert shots[0]["status"] is None and shots[0]["error"], shots[0]
    assert [(s["status"], s["retry_after"]) for s in shots[1:]] == [(429, "2")] * 5
    assert len(server.connections) == 2 and len(server.connections[1]) == 5  # one kept-alive connection
    assert server.connections[1][0] == "GET /positions?account=A4 HTTP/1.1"

"""The one resend, against a real socket server that closes connections unanswered on cue."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import httpx
import pytest

from harness.adapters import resending_request


class Closer:
    """An HTTP/1.1 server on loopback that reads each request whole, then closes the connection
    without a byte of answer for the first `cut` requests, and answers 200 after that."""

    def __init__(self, cut: int) -> None:
        self.cut = cut
        self.seen: list[str] = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/metrics"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while True:
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    data += chunk
                head, _, data = data.partition(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    ),
                    0,
                )
                while len(data) < length:
                    data += conn.recv(4096)
                data = data[length:]
                self.seen.append(head.split(b" ")[0].decode())
                if len(self.seen) <= self.cut:
                    return  # closed with the request read and nothing answered
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    def close(self) -> None:
        """Stop listening now: shutdown wakes the accept a plain close would leave listening."""
        self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5, trust_env=False) as http:
        yield http


def test_an_idempotent_request_lost_to_a_closing_connection_is_sent_once_more(client: httpx.Client) -> None:
    server = Closer(cut=1)
    answer = resending_request(client, "GET", server.url)
    assert (answer.status_code, answer.text, server.seen) == (200, "ok", ["GET", "GET"])


def test_an_order_is_never_sent_twice_however_its_connection_closed(client: httpx.Client) -> None:
    server = Closer(cut=1)
    with pytest.raises(httpx.RemoteProtocolError):
        resending_request(client, "POST", server.url, json={"client_order_id": "c1"})
    assert server.seen == ["POST"]


def test_a_server_that_cuts_every_request_is_resent_to_once_and_its_cut_stands(client: httpx.Client) -> None:
    server = Closer(cut=5)
    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        resending_request(client, "GET", server.url)
    assert server.seen == ["GET", "GET"]


def test_a_server_gone_by_the_resend_leaves_the_cut_not_a_refused_connection(client: httpx.Client) -> None:
    """A stop that cut a request it had read, then stopped listening: the resend is refused, and
    the harness must still see a request cut with no answer (drained_on_shutdown judges that)."""
    server = Closer(cut=1)
    real_request = client.request

    def closing_after_first(*args: object, **kwargs: object) -> httpx.Response:
        if server.seen:
            server.close()
        return real_request(*args, **kwargs)  # type: ignore[arg-type]

    client.request = closing_after_first  # type: ignore[method-assign]
    with pytest.raises(httpx.RemoteProtocolError):
        resending_request(client, "GET", server.url)
    assert server.seen == ["GET"]


def test_a_timeout_is_not_resent(client: httpx.Client) -> None:
    """Only a connection closed with no answer is resent: a request the server sits on may be
    running, and the caller's timeout is its own to report."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True).start()
    try:
        with pytest.raises(httpx.ReadTimeout):
            resending_request(client, "GET", f"http://127.0.0.1:{listener.getsockname()[1]}/", timeout=0.3)
        assert len(accepted) == 1
    finally:
        for sock in (*accepted, listener):
            sock.close()

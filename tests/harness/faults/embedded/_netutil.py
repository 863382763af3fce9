"""Helpers for the data-path tests: a small API client, blocking sockets with bounded waits,
and an upstream whose accepted sockets the test holds (Go's tests use `ln.Accept()` the same way).

Every wait here is bounded: sockets carry a timeout, and helpers take an explicit deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx

from harness.faults.embedded import EmbeddedToxiproxy
from harness.faults.embedded.toxics import ToxicSpec

IO_TIMEOUT = 5.0  # no single socket operation in these tests should take this long


class Api:
    """The few Toxiproxy API calls the data-path tests need; every call checks its status."""

    def __init__(self, server: EmbeddedToxiproxy) -> None:
        self.server = server
        self.http = httpx.Client(base_url=server.url, timeout=10.0)

    def close(self) -> None:
        self.http.close()

    def create(self, name: str, upstream: str, listen: str = "127.0.0.1:0", **extra: Any) -> int:
        """Create a proxy and return the port it listens on."""
        reply = self.http.post(
            "/proxies", json={"name": name, "listen": listen, "upstream": upstream, **extra}
        )
        assert reply.status_code == 201, reply.text
        return port_of(reply.json()["listen"])

    def get(self, name: str) -> dict[str, Any]:
        reply = self.http.get(f"/proxies/{name}")
        assert reply.status_code == 200, reply.text
        data: dict[str, Any] = reply.json()
        return data

    def update(self, name: str, **fields: Any) -> dict[str, Any]:
        reply = self.http.patch(f"/proxies/{name}", json=fields)
        assert reply.status_code == 200, reply.text
        data: dict[str, Any] = reply.json()
        return data

    def add_toxic(
        self,
        proxy: str,
        toxic_type: str,
        stream: str = "downstream",
        name: str | None = None,
        toxicity: float = 1.0,
        **attributes: int,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"type": toxic_type, "stream": stream, "toxicity": toxicity}
        body["attributes"] = attributes
        if name is not None:
            body["name"] = name
        reply = self.http.post(f"/proxies/{proxy}/toxics", json=body)
        assert reply.status_code == 200, reply.text
        data: dict[str, Any] = reply.json()
        return data

    def update_toxic(
        self, proxy: str, name: str, toxicity: float | None = None, **attributes: int
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"attributes": attributes}
        if toxicity is not None:
            body["toxicity"] = toxicity
        reply = self.http.patch(f"/proxies/{proxy}/toxics/{name}", json=body)
        assert reply.status_code == 200, reply.text
        data: dict[str, Any] = reply.json()
        return data

    def remove_toxic(self, proxy: str, name: str) -> None:
        reply = self.http.delete(f"/proxies/{proxy}/toxics/{name}")
        assert reply.status_code == 204, reply.text

    def reset(self) -> None:
        reply = self.http.post("/reset")
        assert reply.status_code == 204, reply.text


def port_of(address: str) -> int:
    return int(address.rpartition(":")[2])


def connect(port: int, timeout: float = IO_TIMEOUT, nodelay: bool = True) -> socket.socket:
    """A blocking client socket to 127.0.0.1:port whose every operation times out."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    if nodelay:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def is_listening(port: int) -> bool:
    """True when a connect succeeds; False on "connection refused"."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT):
            return True
    except ConnectionRefusedError:
        return False


def recv_exact(sock: socket.socket, size: int) -> bytes:
    """Read exactly `size` bytes; fails on EOF first (and on the socket's timeout)."""
    buf = bytearray()
    while len(buf) < size:
        chunk = sock.recv(min(size - len(buf), 1 << 20))
        if not chunk:
            raise AssertionError(f"EOF after {len(buf)} of {size} bytes")
        buf += chunk
    return bytes(buf)


def recv_until_eof(sock: socket.socket, limit: int = 64 << 20) -> bytes:
    """Read everything up to EOF (bounded by the socket's timeout and by `limit` bytes)."""
    buf = bytearray()
    while True:
        chunk = sock.recv(1 << 20)
        if not chunk:
            return bytes(buf)
        buf += chunk
        assert len(buf) <= limit, "peer sent more than expected"


def expect_eof(sock: socket.socket, within: float) -> float:
    """Wait for EOF with no data before it; return the seconds it took."""
    start = time.monotonic()
    sock.settimeout(within)
    data = sock.recv(1024)
    assert data == b"", f"expected EOF, got {data[:40]!r}"
    return time.monotonic() - start


def expect_silence(sock: socket.socket, for_seconds: float) -> None:
    """Nothing arrives and the connection stays open for `for_seconds`."""
    sock.settimeout(for_seconds)
    try:
        data = sock.recv(1024)
    except TimeoutError:
        return
    raise AssertionError(f"expected silence, got {data[:40]!r}")


def echo(sock: socket.socket, payload: bytes) -> bytes:
    sock.sendall(payload)
    return recv_exact(sock, len(payload))


class Upstream:
    """A listening socket on 127.0.0.1 whose accepted connections the test drives by hand."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.address = f"127.0.0.1:{self.port}"
        self._accepted: list[socket.socket] = []

    def accept(self, timeout: float = IO_TIMEOUT) -> socket.socket:
        self.listener.settimeout(timeout)
        conn, _ = self.listener.accept()
        conn.settimeout(IO_TIMEOUT)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._accepted.append(conn)
        return conn

    def close(self) -> None:
        for conn in self._accepted:
            conn.close()
        self.listener.close()

    def __enter__(self) -> Upstream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Background:
    """Run a function on a thread and hand back its result or exception, with a bound wait."""

    def __init__(self, fn: Any, *args: Any) -> None:
        self._results: queue.Queue[tuple[bool, Any]] = queue.Queue()
        self._thread = threading.Thread(target=self._run, args=(fn, *args), daemon=True)
        self._thread.start()

    def _run(self, fn: Any, *args: Any) -> None:
        try:
            self._results.put((True, fn(*args)))
        except BaseException as exc:
            self._results.put((False, exc))

    def result(self, timeout: float = 30.0) -> Any:
        ok, value = self._results.get(timeout=timeout)
        if not ok:
            raise value
        return value


@contextlib.contextmanager
def api_for(server: EmbeddedToxiproxy) -> Iterator[Api]:
    api = Api(server)
    try:
        yield api
    finally:
        api.close()


class _ErrorRecords(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextlib.contextmanager
def no_loop_errors() -> Iterator[None]:
    """Fail if the server's event loop logged an error (an exception escaping a callback or a
    task): those happen on the server's thread and would otherwise pass unseen."""
    handler = _ErrorRecords()
    loggers = [logging.getLogger("asyncio"), logging.getLogger("harness.toxiproxy")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
    messages = [record.getMessage() for record in handler.records]
    assert not messages, f"server loop logged errors: {messages}"


class Collector:
    """Read a socket on a thread into a buffer, so a test can write and read at once."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = bytearray()
        self.eof = False
        self.error: OSError | None = None
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                chunk = self.sock.recv(1 << 16)
            except OSError as exc:
                with self._cond:
                    self.error = exc
                    self._cond.notify_all()
                return
            with self._cond:
                if not chunk:
                    self.eof = True
                else:
                    self.buf += chunk
                self._cond.notify_all()
            if not chunk:
                return

    def wait_for(self, size: int, timeout: float = 10.0) -> bytes:
        """What arrived once `size` bytes are in, or at EOF, an error, or the timeout."""
        with self._cond:
            self._cond.wait_for(lambda: len(self.buf) >= size or self.eof or self.error is not None, timeout)
            return bytes(self.buf)


def expect_closed(sock: socket.socket, within: float) -> None:
    """Wait for EOF or a reset, skipping data still in flight. A reset is what any TCP
    stack sends when it closes a socket holding unread data, so both count as closed."""
    deadline = time.monotonic() + within
    while True:
        sock.settimeout(max(deadline - time.monotonic(), 0.001))
        try:
            if not sock.recv(1 << 16):
                return
        except ConnectionResetError:
            return


class FakeLink:
    """What a stage sees of its link: the loop, and the byte accounting it reports to."""

    def __init__(self, loop: asyncio.AbstractEventLoop, seed: int | None = None, rng_key: str = "p") -> None:
        self.loop = loop
        self.seed = seed
        self.rng_key = rng_key
        self.discarded = 0

    def discard(self, nbytes: int) -> None:
        self.discarded += nbytes


def stage_spec(toxic_type: str, **attributes: int) -> ToxicSpec:
    return ToxicSpec(toxic_type, toxic_type, "downstream", 1.0, attributes)


_PATTERN = bytes(range(251)) * 300  # period 251, so a stream's offset fixes every byte


def pattern_stream(size: int, start: int = 0) -> bytes:
    """Bytes `start`..`start + size` of an endless stream in which byte i is i % 251."""
    out = bytearray()
    while len(out) < size:
        offset = (start + len(out)) % 251
        out += _PATTERN[offset : offset + min(size - len(out), len(_PATTERN) - 251)]
    return bytes(out)


def fill_until_blocked(client: socket.socket, idle: float = 0.3, limit: float = 10.0) -> int:
    """Write the pattern stream until the peer stops taking data for `idle` seconds (or
    `limit` passes); return how many bytes went out. Leaves the socket blocking."""
    client.setblocking(False)
    sent = 0
    now = time.monotonic()
    deadline, idle_since = now + limit, now
    try:
        while now < deadline and now - idle_since < idle:
            offset = sent % 251
            try:
                sent += client.send(_PATTERN[offset : offset + 65536])
                idle_since = time.monotonic()
            except BlockingIOError:
                time.sleep(0.01)
            now = time.monotonic()
    finally:
        client.settimeout(IO_TIMEOUT)
    return sent

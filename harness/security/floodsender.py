"""The flood's sender, run as a process of its own (`python -m harness.security.floodsender`).

A flood is another client: in the harness's own process its threads took the interpreter from
the traders whose ack latency flood_isolated judges, so on a loaded box the harness measured its
own queue for the lock, not the middleware (SECURITY-FLOOD failed 9 of 20 gates at three jobs a
run). Here it has its own interpreter and CPU time.

It reads one JSON plan on stdin (the request, the pace, the bounds), and writes JSON lines on
stdout: `{"began": t}`, one line per answer (`{"t": ..., "status": ...}`), then `{"ended": t}`,
with t on the machine's monotonic clock, which the harness shares. It stops on its own after the
plan's length, whatever happens to the harness."""

from __future__ import annotations

import http.client
import json
import ssl
import sys
import threading
import time
from typing import IO, Any, TypedDict
from urllib.parse import urlencode, urlsplit


class Plan(TypedDict):
    """The stdin plan: one type for the harness (flood.py), the bench and the tests that write one."""

    method: str
    url: str
    params: dict[str, Any] | None
    headers: dict[str, str]
    threads: int
    total: int
    rate_rps: float
    duration_s: float
    timeout_s: float


class Connection:
    """One kept-alive connection on the standard library's client: a flood sends one small request
    over and over, and httpx spent several times the CPU per request doing it (CPU the box's other
    processes, the middleware's included, then lacked). A failed request drops the connection; the
    next one opens another."""

    def __init__(self, url: str, params: dict[str, Any] | None, timeout_s: float) -> None:
        parts = urlsplit(url)
        self.https = parts.scheme == "https"
        self.host, self.port, self.timeout_s = parts.hostname or "127.0.0.1", parts.port, timeout_s
        query = "&".join(q for q in (parts.query, urlencode(params or {}, doseq=True)) if q)
        self.target = (parts.path or "/") + (f"?{query}" if query else "")
        self.conn: http.client.HTTPConnection | None = None

    def _open(self) -> http.client.HTTPConnection:
        if self.https:
            return http.client.HTTPSConnection(
                self.host, self.port, timeout=self.timeout_s, context=ssl.create_default_context()
            )
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout_s)

    def request(self, method: str, headers: dict[str, str]) -> tuple[int, str | None]:
        if self.conn is None:
            self.conn = self._open()
        try:
            self.conn.request(method, self.target, headers=headers)
            answer = self.conn.getresponse()
            answer.read()
        except BaseException:
            self.close()
            raise
        if answer.will_close:
            self.close()
        return answer.status, answer.getheader("retry-after")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def send(plan: Plan, out: IO[str]) -> None:
    """Send the plan's request `total` times at its pace from `threads` threads over kept-alive
    connections, never past `duration_s`; one line per answer on `out`."""
    threads, total = int(plan["threads"]), int(plan["total"])
    duration_s, timeout_s = float(plan["duration_s"]), float(plan["timeout_s"])
    interval = threads / max(float(plan["rate_rps"]), 1e-3)
    lock = threading.Lock()
    began = time.monotonic()

    def line(fields: dict[str, Any]) -> None:
        with lock:
            out.write(json.dumps(fields) + "\n")

    def worker(offset: int) -> None:
        conn = Connection(plan["url"], plan["params"], timeout_s)
        try:
            for n in range(offset, total, threads):
                due = began + (n // threads) * interval + offset * interval / threads
                pause = due - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                if time.monotonic() - began > duration_s:
                    return
                at, sent = time.monotonic(), time.perf_counter()
                try:
                    status, retry_after = conn.request(plan["method"], plan["headers"])
                    shot: dict[str, Any] = {"status": status, "retry_after": retry_after}
                except (OSError, http.client.HTTPException) as exc:
                    error = f"{type(exc).__name__}: {exc}"[:200]
                    shot = {"status": None, "retry_after": None, "error": error}
                line({"t": at, "latency_ms": (time.perf_counter() - sent) * 1000, **shot})
        finally:
            conn.close()

    line({"began": began})
    workers = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(max(0.0, began + duration_s + timeout_s + 1 - time.monotonic()))
    line({"ended": time.monotonic()})
    out.flush()


if __name__ == "__main__":
    send(json.loads(sys.stdin.read()), sys.stdout)

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

import json
import sys
import threading
import time
from typing import IO, Any

import httpx


def send(plan: dict[str, Any], out: IO[str]) -> None:
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
        with httpx.Client(timeout=timeout_s, trust_env=False) as client:
            for n in range(offset, total, threads):
                due = began + (n // threads) * interval + offset * interval / threads
                pause = due - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                if time.monotonic() - began > duration_s:
                    return
                at, sent = time.monotonic(), time.perf_counter()
                try:
                    answer = client.request(
                        plan["method"], plan["url"], params=plan["params"] or None, headers=plan["headers"]
                    )
                    shot = {"status": answer.status_code, "retry_after": answer.headers.get("retry-after")}
                except httpx.HTTPError as exc:
                    error = f"{type(exc).__name__}: {exc}"[:200]
                    shot = {"status": None, "retry_after": None, "error": error}
                line({"t": at, "latency_ms": (time.perf_counter() - sent) * 1000, **shot})

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

"""A flood: one trader's client sending a read at many times the normal rate for a bounded time,
paced (not as fast as it can), from a few threads over kept-alive connections. Every answer is kept:
the rate limit is judged by its 429s and their Retry-After, the service by its 5xx and silences."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from ..adapters import API_KEY, HttpApi

THREADS = 4
MAX_REQUESTS = 20_000  # a hard bound on one flood, whatever rate and length it is given
TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Shot:
    at: float  # seconds on the scenario's timeline
    status: int | None
    retry_after: str | None
    latency_ms: float
    error: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "at": round(self.at, 3),
            "status": self.status,
            "retry_after": self.retry_after,
            "latency_ms": round(self.latency_ms, 1),
            **({"error": self.error} if self.error else {}),
        }


@dataclass(frozen=True)
class FloodRecord:
    account: str
    operation: str
    rate_rps: float  # what the harness aimed at
    started: float
    ended: float
    shots: tuple[Shot, ...]

    @property
    def achieved_rps(self) -> float:
        return len(self.shots) / max(self.ended - self.started, 1e-3)

    def to_json(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "operation": self.operation,
            "rate_rps": round(self.rate_rps, 1),
            "achieved_rps": round(self.achieved_rps, 1),
            "window": [round(self.started, 3), round(self.ended, 3)],
            "requests": len(self.shots),
        }


def valid_retry_after(value: str | None) -> bool:
    """RFC 9110: a whole number of seconds, or an HTTP date."""
    if value is None or not value.strip():
        return False
    text = value.strip()
    if text.isdigit():
        return True
    try:
        parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return False
    return True


def flood(
    api: HttpApi,
    *,
    account: str,
    api_key: str | None,
    rate_rps: float,
    duration_s: float,
    now: Callable[[], float],
    operation: str = "positions",
) -> FloodRecord:
    """Send `operation` for `account` at `rate_rps` for `duration_s` (bounded by MAX_REQUESTS)."""
    args: dict[str, Any] = {"account": account, **({API_KEY: api_key} if api_key else {})}
    request = api.request(operation, args)
    shots: list[Shot] = []
    lock = threading.Lock()
    total = min(int(rate_rps * duration_s), MAX_REQUESTS)
    interval = THREADS / max(rate_rps, 1e-3)
    began = time.monotonic()
    started = now()

    def worker(offset: int) -> None:
        with httpx.Client(timeout=TIMEOUT_S, trust_env=False) as client:
            for n in range(offset, total, THREADS):
                due = began + (n // THREADS) * interval + offset * interval / THREADS
                pause = due - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                if time.monotonic() - began > duration_s:
                    return
                sent = time.perf_counter()
                at = now()
                try:
                    answer = client.request(
                        request.method, request.url, params=request.params or None, headers=request.headers
                    )
                    shot = Shot(at, answer.status_code, answer.headers.get("retry-after"), _ms(sent))
                except httpx.HTTPError as exc:
                    shot = Shot(at, None, None, _ms(sent), f"{type(exc).__name__}: {exc}"[:200])
                with lock:
                    shots.append(shot)

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(duration_s + TIMEOUT_S + 5)
    return FloodRecord(account, operation, rate_rps, started, now(), tuple(sorted(shots, key=lambda s: s.at)))


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000

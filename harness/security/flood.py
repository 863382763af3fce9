"""A flood: one trader's client sending a read at many times the normal rate for a bounded time,
paced (not as fast as it can), from a few threads over kept-alive connections, in a process of its
own (floodsender). Every answer is kept: the rate limit is judged by its 429s and their
Retry-After, the service by its 5xx and silences."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

from ..adapters import API_KEY, HttpApi
from .floodsender import Plan

THREADS = 4
MAX_REQUESTS = 20_000  # a hard bound on one flood, whatever rate and length it is given
TIMEOUT_S = 5.0


class FloodError(RuntimeError):
    """The harness could not send its flood: its own failure, never the middleware's."""


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
    """Send `operation` for `account` at `rate_rps` for `duration_s` (bounded by MAX_REQUESTS), from
    a sender process of its own (floodsender), so the flood never competes with the traders'
    threads for the harness's interpreter."""
    args: dict[str, Any] = {"account": account, **({API_KEY: api_key} if api_key else {})}
    request = api.request(operation, args)
    plan: Plan = {
        "method": request.method,
        "url": request.url,
        "params": request.params,
        "headers": request.headers,
        "threads": THREADS,
        "total": min(int(rate_rps * duration_s), MAX_REQUESTS),
        "rate_rps": rate_rps,
        "duration_s": duration_s,
        "timeout_s": TIMEOUT_S,
    }
    to_timeline = now() - time.monotonic()  # the sender's clock is this machine's monotonic clock
    started = now()
    lines = run_sender(plan, bound_s=duration_s + TIMEOUT_S + 10)
    shots = [
        Shot(
            line["t"] + to_timeline,
            line["status"],
            line["retry_after"],
            line["latency_ms"],
            line.get("error", ""),
        )
        for line in lines
        if "t" in line
    ]
    began = next((line["began"] + to_timeline for line in lines if "began" in line), started)
    ended = next((line["ended"] + to_timeline for line in lines if "ended" in line), now())
    return FloodRecord(account, operation, rate_rps, began, ended, tuple(sorted(shots, key=lambda s: s.at)))


def run_sender(plan: Plan, bound_s: float) -> list[dict[str, Any]]:
    """The sender's lines; a sender that cannot start or dies is the harness's own failure."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness.security.floodsender"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = proc.communicate(json.dumps(plan), timeout=bound_s)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    if proc.returncode != 0:
        raise FloodError(f"the flood sender exited {proc.returncode}: {err.strip()[-500:]}")
    return [json.loads(line) for line in out.splitlines() if line.strip()]

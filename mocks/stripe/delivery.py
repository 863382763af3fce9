"""Delivering one signed event to a webhook endpoint, with retries and exponential backoff.

Like Stripe: any non-2xx answer, a redirect, a connection error or a timeout is a failed attempt;
each retry is re-signed with a fresh timestamp; attempts and total time are bounded. Every attempt
is recorded as a `Delivery` in the venue ledger.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx

from mocks.common import Delivery, FaultError

from . import signing

USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
SNIPPET = 200


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 3
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0
    timeout_s: float = 10.0  # per attempt
    deadline_s: float = 60.0  # all attempts of one delivery

    def delay(self, attempt: int) -> float:
        """The pause after failed attempt `attempt` (1-based): base, 2*base, 4*base, ... capped."""
        return float(min(self.base_delay_s * 2 ** (attempt - 1), self.max_delay_s))

    @classmethod
    def from_json(cls, raw: Any, default: RetryPolicy) -> RetryPolicy:
        if raw is None:
            return default
        if not isinstance(raw, dict):
            raise FaultError("retry", "must be an object")
        limits = {
            "max_attempts": (1, 20, 1),
            "base_delay_ms": (0, 600_000, 1000),
            "max_delay_ms": (0, 3_600_000, 1000),
            "timeout_ms": (1, 600_000, 1000),
            "deadline_ms": (1, 3_600_000, 1000),
        }
        values: dict[str, float] = {}
        for name, value in raw.items():
            if name not in limits:
                raise FaultError(f"retry.{name}", "unknown field")
            low, high, _ = limits[name]
            if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
                raise FaultError(f"retry.{name}", f"must be a number in [{low}, {high}]")
            values[name] = value
        return cls(
            max_attempts=int(values.get("max_attempts", default.max_attempts)),
            base_delay_s=values.get("base_delay_ms", default.base_delay_s * 1000) / 1000,
            max_delay_s=values.get("max_delay_ms", default.max_delay_s * 1000) / 1000,
            timeout_s=values.get("timeout_ms", default.timeout_s * 1000) / 1000,
            deadline_s=values.get("deadline_ms", default.deadline_s * 1000) / 1000,
        )


@dataclass(frozen=True)
class Signing:
    """How to sign one delivery: the faults that touch the signature header or the body."""

    secret: str
    old_secret: str
    bad_signature: bool = False
    stale_age_s: int | None = None
    rotated: bool = False
    tampered: bool = False

    def prepare(self, event: dict[str, Any], body: bytes) -> tuple[bytes, str]:
        t = int(time.time()) - (self.stale_age_s or 0)
        sig = signing.signature(self.secret, t, body)
        if self.bad_signature:
            sig = signing.corrupt(sig)
        sigs = [signing.signature(self.old_secret, t, body), sig] if self.rotated else [sig]
        sent = body
        if self.tampered:
            changed = json.loads(body)
            changed["data"]["object"]["livemode"] = True
            changed["data"]["object"]["metadata"] = {
                **changed["data"]["object"].get("metadata", {}),
                "x": "1",
            }
            sent = json.dumps(changed, indent=2).encode()
        return sent, signing.header(t, sigs)


def encode(event: dict[str, Any]) -> bytes:
    """Stripe sends pretty-printed JSON; receivers must verify these exact bytes."""
    return json.dumps(event, indent=2).encode("utf-8")


async def deliver(
    client: httpx.AsyncClient,
    url: str,
    event: dict[str, Any],
    how: Signing,
    policy: RetryPolicy,
    faults: list[str],
) -> list[Delivery]:
    """All attempts for one event until a 2xx, `max_attempts`, or the deadline."""
    body = encode(event)
    records: list[Delivery] = []
    started = time.monotonic()
    for attempt in range(1, policy.max_attempts + 1):
        sent, header = how.prepare(event, body)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            "Stripe-Signature": header,
        }
        status: int | None = None
        try:
            response = await client.post(url, content=sent, headers=headers, timeout=policy.timeout_s)
            status = response.status_code
            snippet = response.text[:SNIPPET]
        except httpx.TimeoutException:
            snippet = f"timeout after {policy.timeout_s:g}s"
        except httpx.HTTPError as exc:
            snippet = f"{type(exc).__name__}: {exc}"[:SNIPPET]
        records.append(Delivery(event["id"], event["type"], url, attempt, status, snippet, list(faults)))
        if status is not None and 200 <= status < 300:
            break
        if attempt == policy.max_attempts:
            break
        pause = policy.delay(attempt)
        if time.monotonic() - started + pause > policy.deadline_s:
            break
        await asyncio.sleep(pause)
    return records

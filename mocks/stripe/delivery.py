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

from mocks.common import Delivery, RetryPolicy

from . import signing

USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
SNIPPET = 200


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

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
from mocks.common.credentials import CredentialRing

from . import signing

USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
SNIPPET = 200


@dataclass(frozen=True)
class Signing:
    """How to sign one delivery: the secret's generations, and the faults that touch the signature
    header or the body. Each attempt asks `secrets` afresh, so a retry after the grace period ends
    carries only the current signature."""

    secrets: CredentialRing
    seeded_old: str  # the `rotated_secret` fault's old secret while nothing has been rotated yet
    bad_signature: bool = False
    stale_age_s: int | None = None
    rotated: bool = False
    tampered: bool = False

    def signers(self) -> list[tuple[int | None, str]]:
        """(generation, secret) for each v1, oldest first; generation None for the seeded old secret."""
        ring = self.secrets
        older: tuple[int | None, str] | None = None
        previous = ring.previous
        if previous is not None:  # in grace: both, as Stripe does while an old secret is "expiring"
            older = (ring.generation - 1, previous)
        elif self.rotated and ring.generation:
            older = (ring.generation - 1, ring.value(ring.generation - 1))
        elif self.rotated:
            older = (None, self.seeded_old)
        return [*([older] if older else []), (ring.generation, ring.current)]

    def prepare(self, event: dict[str, Any], body: bytes) -> tuple[bytes, str, list[int]]:
        """The bytes to send, the Stripe-Signature header, and the generations that signed them.
        `bad_signature` corrupts every v1, so none signed it and the list is empty."""
        t = int(time.time()) - (self.stale_age_s or 0)
        signers = self.signers()
        sigs = [signing.signature(secret, t, body) for _, secret in signers]
        signed_with = [g for g, _ in signers if g is not None]
        if self.bad_signature:
            sigs, signed_with = [signing.corrupt(sig) for sig in sigs], []
        sent = body
        if self.tampered:
            changed = json.loads(body)
            changed["data"]["object"]["livemode"] = True
            changed["data"]["object"]["metadata"] = {
                **changed["data"]["object"].get("metadata", {}),
                "x": "1",
            }
            sent = json.dumps(changed, indent=2).encode()
        return sent, signing.header(t, sigs), signed_with


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
) -> list[tuple[Delivery, list[int]]]:
    """All attempts for one event until a 2xx, `max_attempts`, or the deadline; each with the
    generations of the secret that signed it."""
    body = encode(event)
    records: list[tuple[Delivery, list[int]]] = []
    started = time.monotonic()
    for attempt in range(1, policy.max_attempts + 1):
        sent, header, signed_with = how.prepare(event, body)
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
        record = Delivery(event["id"], event["type"], url, attempt, status, snippet, list(faults))
        records.append((record, signed_with))
        if status is not None and 200 <= status < 300:
            break
        if attempt == policy.max_attempts:
            break
        pause = policy.delay(attempt)
        if time.monotonic() - started + pause > policy.deadline_s:
            break
        await asyncio.sleep(pause)
    return records

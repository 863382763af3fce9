"""Stripe's webhook signature scheme (venues.md §3), built from the published facts.

`Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]`, where each v1 is
hex(HMAC-SHA256(secret, f"{t}.{raw_body}")). Receivers accept the header if *any* v1 matches,
which is what makes secret rotation work; the stripe library rejects `t < now - 300`.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import string

TOLERANCE_S = 300


def secret_from_seed(seed: int | str, label: str = "current") -> str:
    rng = random.Random(f"stripe-webhook-secret-{label}-{seed}")
    return "whsec_" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(32))


def signature(secret: str, timestamp: int, body: bytes) -> str:
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def header(timestamp: int, signatures: list[str]) -> str:
    return ",".join([f"t={timestamp}"] + [f"v1={s}" for s in signatures])


def corrupt(sig: str) -> str:
    """The same signature with its last hex digit changed: well-formed, and wrong."""
    last = sig[-1]
    return sig[:-1] + ("0" if last != "0" else "1")

"""Connect's JSON SIM message and its HMAC signatures (next-venues-and-contract.md §3).

Each active key signs the exact raw body: base64(HMAC-SHA256(key, body)), sent as
`X-DocuSign-Signature-1`, `-2`, ... in key order; a receiver accepts the message if any one
matches, which is what lets a key be rotated without a gap. The key is used as its UTF-8 text,
as DocuSign's own verification samples do.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from .envelopes import Ids

API_VERSION = "v2.1"
SIGNATURE_HEADER = "X-DocuSign-Signature-{n}"
MAX_KEYS = 100  # DocuSign allows up to 100 HMAC keys per account


def key_from(ids: Ids) -> str:
    """A Connect HMAC key as DocuSign's admin page hands it out: 32 random bytes, base64."""
    return base64.b64encode(ids.token(32)).decode("ascii")


def signature(key: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(key.encode("utf-8"), body, hashlib.sha256).digest()).decode("ascii")


def signature_headers(keys: list[str], body: bytes, wrong: bool = False) -> dict[str, str]:
    """One header per key; `wrong` signs with keys that are not the account's (well-formed, invalid)."""
    return {
        SIGNATURE_HEADER.format(n=n): signature(f"not-{key}" if wrong else key, body)
        for n, key in enumerate(keys, start=1)
    }


def verify(keys: list[str], body: bytes, headers: dict[str, str]) -> bool:
    """What a receiver does: any `X-DocuSign-Signature-N` matching any key it holds."""
    sent = [v for k, v in headers.items() if k.lower().startswith("x-docusign-signature-")]
    return any(hmac.compare_digest(signature(key, body), s) for key in keys for s in sent)


@dataclass(frozen=True)
class ConnectEvent:
    """One envelope event, ready to be sent to any listener on any attempt."""

    event_id: str  # "<envelopeId>:<event>": a duplicate delivery carries the same one
    event: str
    envelope_id: str
    account_id: str
    user_id: str
    generated_at: str
    summary: dict[str, Any]

    def body(self, configuration_id: int, retry_count: int) -> bytes:
        """The raw POST body; only `retryCount` differs between attempts of one delivery."""
        message = {
            "event": self.event,
            "apiVersion": API_VERSION,
            "uri": f"/restapi/{API_VERSION}/accounts/{self.account_id}/envelopes/{self.envelope_id}",
            "retryCount": retry_count,
            "configurationId": configuration_id,
            "generatedDateTime": self.generated_at,
            "data": {
                "accountId": self.account_id,
                "userId": self.user_id,
                "envelopeId": self.envelope_id,
                "envelopeSummary": self.summary,
            },
        }
        return json.dumps(message, separators=(",", ":")).encode("utf-8")

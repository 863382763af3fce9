"""DocuSign: Connect's HMAC check, and the REST calls the lifecycle makes (status changes, void).

Connect signs the exact raw body with every active key (`X-DocuSign-Signature-1`, `-2`, ...):
base64(HMAC-SHA256(key, body)), the key used as its text, as DocuSign's verification samples do. A
message is genuine when any header matches any key we hold, which is what lets a key rotate with no gap.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import httpx

SIGNATURE_PREFIX = "x-docusign-signature-"
PAGE = 1000  # listStatusChanges' largest page


def signed(keys: tuple[str, ...], body: bytes, headers: Mapping[str, str]) -> bool:
    """True when some X-DocuSign-Signature-N header is the HMAC of `body` under some key (constant time)."""
    sent = [v.strip().encode() for k, v in headers.items() if k.lower().startswith(SIGNATURE_PREFIX)]
    expected = [base64.b64encode(hmac.new(k.encode(), body, hashlib.sha256).digest()) for k in keys]
    found = False
    for mac in expected:
        for value in sent:
            found |= hmac.compare_digest(mac, value)  # no early exit: every pair is compared
    return found


class DocuSignError(RuntimeError):
    """A REST call that failed: `code` is DocuSign's errorCode when it answered one."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class DocuSignClient:
    def __init__(self, url: str, account: str, token: str, timeout_s: float) -> None:
        self.http = httpx.AsyncClient(
            base_url=f"{url}/restapi/v2.1/accounts/{account}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout_s,
            trust_env=False,
        )

    async def close(self) -> None:
        await self.http.aclose()

    async def _call(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        try:
            response = await self.http.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise DocuSignError(f"DocuSign {method} {path}: {type(exc).__name__}") from exc
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if response.status_code >= 300 or not isinstance(answer, dict):
            code = str(answer.get("errorCode", "")) if isinstance(answer, dict) else ""
            raise DocuSignError(f"DocuSign {method} {path}: HTTP {response.status_code} {code}".strip(), code)
        return answer

    async def changes(self, since: datetime) -> list[tuple[str, str]]:
        """(envelope id, status) of every envelope changed since `since`: listStatusChanges, paged,
        so one poll costs a call a thousand envelopes however many are awaiting a signature."""
        found: list[tuple[str, str]] = []
        start = 0
        while True:
            query = {"from_date": since.isoformat(), "count": PAGE, "start_position": start}
            answer = await self._call("GET", f"/envelopes?{urlencode(query)}")
            page = answer.get("envelopes") or []
            found += [(str(e.get("envelopeId")), str(e.get("status", "")).lower()) for e in page]
            start += len(page)
            if not page or start >= int(answer.get("totalSetSize") or 0):
                return found

    async def void(self, envelope_id: str, reason: str) -> None:
        await self._call("PUT", f"/envelopes/{envelope_id}", {"status": "voided", "voidedReason": reason})

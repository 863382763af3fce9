"""The outbox to the automation bus: each funded checkout POSTed to the Zap's catch hook until taken.

The row is written with the Stripe event, so nothing is lost between the webhook and the hook; it is
marked notified only on a 2xx. 429 and 5xx (and a transport error) back off, honouring Retry-After; a
410 means the Zap is switched off: logged as an error and retried slowly, never dropped.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

log = logging.getLogger("refmw.lifecycle.outbox")
ZAP_OFF_RETRY_S = 10.0
BATCH = 50


def backoff(attempts: int, cap_s: float, base_s: float = 0.5) -> float:
    """base x 2^(attempts-1), capped."""
    return float(min(cap_s, base_s * 2 ** max(0, attempts - 1)))


def retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("retry-after", "")
    try:
        return max(0.0, float(raw)) if raw else None
    except ValueError:
        return None


class Outbox:
    def __init__(self, pool: Any, http: httpx.AsyncClient, hook_url: str, cap_s: float) -> None:
        self.pool = pool
        self.http = http
        self.hook_url = hook_url
        self.cap_s = cap_s

    async def pass_once(self) -> int:
        """POST every due, un-notified row once; returns how many the hook took."""
        rows = await self.pool.fetch(
            "SELECT * FROM lifecycle WHERE notified_at IS NULL AND next_notify_at <= now() "
            "ORDER BY created_at LIMIT $1",
            BATCH,
        )
        taken = 0
        for row in rows:
            taken += await self._notify(row)
        return taken

    async def _notify(self, row: Any) -> int:
        payload = {
            "customer": row["customer_id"],
            "email": row["email"],
            "name": row["name"],
            "deposit": None if row["deposit"] is None else f"{row['deposit']:.2f}",
            "checkout_session": row["checkout_session"],
        }
        attempts = row["notify_attempts"] + 1
        delay: float | None
        try:
            response = await self.http.post(self.hook_url, json=payload)
        except httpx.HTTPError as exc:
            error, delay = f"automation bus unreachable: {type(exc).__name__}", backoff(attempts, self.cap_s)
        else:
            if response.is_success:
                await self.pool.execute(
                    "UPDATE lifecycle SET notified_at = now(), notify_attempts = $2, last_error = NULL, "
                    "updated_at = now() "
                    "WHERE customer_id = $1",
                    row["customer_id"],
                    attempts,
                )
                return 1
            if response.status_code == 410:
                error, delay = (
                    "the Zap is switched off (410): the contract waits until it is on",
                    ZAP_OFF_RETRY_S,
                )
                log.error("funded checkout %s: %s", row["customer_id"], error)
            elif response.status_code == 429 or response.status_code >= 500:
                error = f"automation bus answered {response.status_code}"
                delay = retry_after(response)
                delay = backoff(attempts, self.cap_s) if delay is None else min(delay, self.cap_s * 4)
            else:
                error, delay = (
                    f"automation bus refused the checkout: HTTP {response.status_code}",
                    ZAP_OFF_RETRY_S,
                )
                log.error("funded checkout %s: %s", row["customer_id"], error)
        await self.pool.execute(
            "UPDATE lifecycle SET notify_attempts = $2, next_notify_at = now() + make_interval(secs => $3), "
            "last_error = $4, updated_at = now() WHERE customer_id = $1",
            row["customer_id"],
            attempts,
            delay,
            error,
        )
        return 0

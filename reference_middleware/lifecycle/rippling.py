"""Rippling through httpx: look a worker or pay item up, create it, terminate a worker.

Rippling's creates do not dedupe, so every create here is preceded by a lookup (the caller's job, see
provision.py and payouts.py); a call that timed out or answered 5xx may still have created its record.
"""

from __future__ import annotations

from typing import Any

import httpx


class RipplingError(RuntimeError):
    """A failed call; `maybe_done` when the request went out and its outcome is unknown (timeout, 5xx)."""

    def __init__(self, message: str, *, maybe_done: bool = False) -> None:
        super().__init__(message)
        self.maybe_done = maybe_done


class RipplingClient:
    def __init__(self, url: str, token: str, timeout_s: float) -> None:
        self.http = httpx.AsyncClient(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=timeout_s, trust_env=False
        )

    async def close(self) -> None:
        await self.http.aclose()

    async def _call(self, method: str, path: str, *, params: Any = None, body: Any = None) -> Any:
        try:
            response = await self.http.request(method, path, params=params, json=body)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise RipplingError(f"Rippling {method} {path}: {type(exc).__name__}") from exc
        except httpx.HTTPError as exc:
            raise RipplingError(f"Rippling {method} {path}: {type(exc).__name__}", maybe_done=True) from exc
        if response.status_code >= 300:
            raise RipplingError(
                f"Rippling {method} {path}: HTTP {response.status_code} {response.text[:120]}",
                maybe_done=response.status_code >= 500,
            )
        return response.json()

    async def find_worker(self, email: str, external_id: str) -> str | None:
        """The id of the worker with this work email (and our external id, when it has one)."""
        page = await self._call("GET", "/workers", params={"work_email": email})
        for worker in page.get("results", []):
            if worker.get("external_id") in (None, external_id):
                return str(worker["id"])
        return None

    async def create_worker(self, name: str, email: str, external_id: str) -> str:
        first, _, last = name.strip().partition(" ")
        body = {
            "first_name": first or "Trader",
            "last_name": last.strip() or first or "Trader",
            "work_email": email,
            "worker_type": "CONTRACTOR",
            "external_id": external_id,
        }
        created = await self._call("POST", "/workers", body=body)
        return str(created["id"])

    async def terminate(self, worker_id: str) -> None:
        await self._call("PATCH", f"/workers/{worker_id}", body={"status": "TERMINATED"})

    async def find_pay_item(self, reference: str) -> str | None:
        page = await self._call("GET", "/pay-items", params={"reference": reference})
        results = page.get("results", [])
        return str(results[0]["id"]) if results else None

    async def create_pay_item(self, worker_id: str, amount: str, reference: str) -> str:
        body = {"worker_id": worker_id, "amount": amount, "type": "PAYOUT", "reference": reference}
        created = await self._call("POST", "/pay-items", body=body)
        return str(created["id"])

"""TT REST API 2.0 through httpx: the token lifecycle, account and risk-limit provisioning, and fills.

- The token is fetched with `grant_type=user_app` and refreshed before `seconds_until_expiry` runs out;
  a 401 refreshes it once and repeats the request.
- A 429 is retried after its Retry-After (1 s when absent), a bounded number of times.
- Fills are read from ttledger page by page (`minTimestamp = last transactTime + 1`) until `lastPage`.
- The app secret is read at each token request (secretsource.py): a rotated secret is used from the
  next request on, and the token already held stays in use until it is due.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any

import httpx

from ..config import Config
from ..secretsource import TT_APP_SECRET, SecretSource

log = logging.getLogger("refmw.tt")
MAX_ATTEMPTS = 6
MAX_RETRY_AFTER_S = 30.0


class TTError(RuntimeError):
    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class TTClient:
    def __init__(self, cfg: Config, secrets: SecretSource | None = None) -> None:
        self.cfg = cfg
        self.secrets = secrets if secrets is not None else SecretSource.from_config(cfg)
        self.http = httpx.AsyncClient(
            base_url=cfg.tt_url, timeout=cfg.tt_timeout_s, follow_redirects=True, trust_env=False
        )
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()
        self.last_ok = 0.0
        self.last_error: str | None = None
        self.token_fetches = 0
        self.rate_limited = 0

    async def close(self) -> None:
        await self.http.aclose()

    def url(self, service: str, path: str) -> str:
        return f"/{service}/{self.cfg.tt_env}/{path.lstrip('/')}"

    def status(self) -> dict[str, Any]:
        healthy = self.last_ok > 0 and (self.last_error is None)
        return {
            "status": "up" if healthy else "down",
            "last_ok_age_s": round(time.monotonic() - self.last_ok, 3) if self.last_ok else None,
            "last_error": self.last_error,
            "token_fetches": self.token_fetches,
            "rate_limited": self.rate_limited,
        }

    # ------------------------------------------------------------------ token lifecycle
    async def token(self, *, force: bool = False) -> str:
        async with self._lock:
            if self._token is not None and self.cfg.mutant("tt_token_never_refreshed"):
                return self._token
            if not force and self._token is not None and time.monotonic() < self._expires_at:
                return self._token
            secret = self.secrets.get(TT_APP_SECRET, self.cfg.tt_app_secret)
            response = await self._send(
                "POST",
                self.url("ttid", "token"),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                content=f"grant_type=user_app&app_key={self.cfg.tt_app_key}:{secret}",
            )
            if response.status_code != 200:
                raise TTError(f"token request failed: HTTP {response.status_code}", response.status_code)
            body = response.json()
            ttl = float(body.get("seconds_until_expiry", 60))
            # Refresh ahead of expiry: a fifth of the lifetime, at most a minute, at least a quarter second.
            margin = min(max(ttl * 0.2, 0.25), 60.0)
            self._token = str(body["access_token"])
            self._expires_at = time.monotonic() + ttl - margin
            self.token_fetches += 1
            return self._token

    # ------------------------------------------------------------------ requests
    async def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One request with 429 handling (Retry-After honoured, bounded attempts)."""
        headers = {"x-api-key": self.cfg.tt_app_key, **kwargs.pop("headers", {})}
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                response = await self.http.request(method, url, headers=headers, **kwargs)
            except httpx.HTTPError as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                raise TTError(f"TT unreachable: {type(exc).__name__}") from exc
            if response.status_code != 429:
                return response
            self.rate_limited += 1
            if self.cfg.mutant("tt_ignore_429"):
                if attempt >= 3:
                    return response
                continue
            if attempt == MAX_ATTEMPTS:
                return response
            await asyncio.sleep(_retry_after(response))
        raise AssertionError("unreachable")

    async def request(self, method: str, service: str, path: str, **kwargs: Any) -> Any:
        """An authenticated call; JSON body back, or TTError."""
        params = dict(kwargs.pop("params", {}))
        for attempt in (1, 2):
            token = await self.token()
            params["requestId"] = f"refmw-uat--{uuid.uuid4()}"
            response = await self._send(
                method,
                self.url(service, path),
                headers={"Authorization": f"Bearer {token}"},
                params=params,
                **kwargs,
            )
            if (
                response.status_code == 401
                and attempt == 1
                and not self.cfg.mutant("tt_token_never_refreshed")
            ):
                await self.token(force=True)
                continue
            if response.status_code >= 300:
                self.last_error = f"HTTP {response.status_code} on {service}/{path}"
                raise TTError(self.last_error, response.status_code)
            try:
                body = response.json()
            except ValueError as exc:
                self.last_error = f"malformed JSON from {service}/{path}"
                raise TTError(self.last_error, response.status_code) from exc
            self.last_ok = time.monotonic()
            self.last_error = None
            return body
        raise AssertionError("unreachable")

    # ------------------------------------------------------------------ provisioning
    async def provision_account(self, name: str, limits: dict[str, Any]) -> int:
        """Find the account by name or create it, then set its risk limits; returns TT's account id."""
        listing = await self.request("GET", "ttaccount", "accounts")
        found = [a for a in listing.get("accounts", []) if a.get("name") == name]
        if found:
            account_id = int(found[0]["id"])
        else:
            made = await self.request(
                "POST", "ttaccount", "account", json={"name": name, "description": "refmw onboarding"}
            )
            account_id = int(made["accounts"][0]["id"])
        await self.request(
            "POST", "ttaccount", f"account/{account_id}/risklimits", json={"riskLimits": [limits]}
        )
        return account_id

    # ------------------------------------------------------------------ fills
    async def fills_since(self, min_ns: int) -> tuple[list[dict[str, Any]], int]:
        """Every fill from `min_ns` on, page after page; returns them and the next cursor."""
        fills: list[dict[str, Any]] = []
        cursor = min_ns
        for _ in range(10_000):
            body = await self.request("GET", "ttledger", "fills", params={"minTimestamp": cursor})
            page = body.get("fills", [])
            fills.extend(page)
            if page:
                cursor = int(page[-1]["transactTime"]) + 1
            if self.cfg.mutant("tt_first_page_only"):
                return fills, max(cursor, time.time_ns())
            if str(body.get("lastPage", "true")).lower() == "true" or not page:
                break
        return fills, cursor


def _retry_after(response: httpx.Response) -> float:
    raw = response.headers.get("Retry-After")
    try:
        return min(max(float(raw), 0.0), MAX_RETRY_AFTER_S) if raw is not None else 1.0
    except ValueError:
        return 1.0

"""Adapters map the harness's few operations onto a middleware's API.

Every call returns an `Outcome` in the Jepsen sense: `ok` (it happened), `fail` (it
definitely did not), or `info` (unknown: a timeout, a dropped connection, a 5xx that says
nothing). Checkers treat `info` orders as maybe-placed until the venue ledger settles them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import httpx

from .netguard import check_host

OutcomeType = Literal["ok", "fail", "info"]
# A definite refusal: the order was not taken. Anything else non-2xx leaves it unknown.
_DEFINITE_FAILURES = frozenset({400, 401, 403, 404, 409, 422, 429, 503})


@dataclass(frozen=True)
class Outcome:
    type: OutcomeType
    status: int | None
    body: Any
    latency_ms: float
    error: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.type == "ok"


class Adapter(Protocol):
    def place_order(
        self,
        *,
        account: str,
        symbol: str,
        side: str,
        qty: int,
        order_type: str,
        client_order_id: str,
        limit_price: float | None = None,
    ) -> Outcome: ...

    def order_status(self, client_order_id: str) -> Outcome: ...

    def cancel_order(self, client_order_id: str) -> Outcome: ...

    def positions(self, account: str) -> Outcome: ...

    def account(self, account_id: str) -> Outcome: ...

    def health(self) -> Outcome: ...

    def accounts_for_customer(self, customer: str) -> Outcome: ...

    def close(self) -> None: ...


class DefaultAdapter:
    """Speaks the reference middleware's API (issue 4 §1), which agencies may implement too."""

    def __init__(self, base_url: str, *, timeout_s: float = 5.0, allowed_hosts: tuple[str, ...] = ()) -> None:
        host = httpx.URL(base_url).host
        check_host(host, allowed_hosts, what="middleware")
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout_s, trust_env=False)

    def _call(self, method: str, path: str, **kwargs: Any) -> Outcome:
        started = time.perf_counter()
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.ConnectError as exc:
            # Nothing reached the middleware: a definite failure, not an unknown.
            return Outcome("fail", None, None, _ms(started), f"connect: {exc}")
        except httpx.HTTPError as exc:
            return Outcome("info", None, None, _ms(started), f"{type(exc).__name__}: {exc}")
        latency = _ms(started)
        try:
            body: Any = response.json()
        except ValueError:
            body = response.text
        if response.is_success:
            return Outcome("ok", response.status_code, body, latency)
        kind: OutcomeType = "fail" if response.status_code in _DEFINITE_FAILURES else "info"
        return Outcome(kind, response.status_code, body, latency, f"HTTP {response.status_code}")

    def place_order(
        self,
        *,
        account: str,
        symbol: str,
        side: str,
        qty: int,
        order_type: str,
        client_order_id: str,
        limit_price: float | None = None,
    ) -> Outcome:
        payload: dict[str, Any] = {
            "account": account,
            "symbol": symbol,
            "side": side,
            "qty": qty,
            "type": order_type,
            "client_order_id": client_order_id,
        }
        if limit_price is not None:
            payload["limit_price"] = limit_price
        return self._call("POST", "/v1/orders", json=payload)

    def order_status(self, client_order_id: str) -> Outcome:
        return self._call("GET", f"/v1/orders/{client_order_id}")

    def cancel_order(self, client_order_id: str) -> Outcome:
        """Ask for a cancel: ok means the venue took the request, not that the order is cancelled
        yet (order_status says when); 409 (already final) is a definite fail."""
        return self._call("DELETE", f"/v1/orders/{client_order_id}")

    def positions(self, account: str) -> Outcome:
        return self._call("GET", "/v1/positions", params={"account": account})

    def account(self, account_id: str) -> Outcome:
        return self._call("GET", f"/v1/accounts/{account_id}")

    def health(self) -> Outcome:
        return self._call("GET", "/health")

    def accounts_for_customer(self, customer: str) -> Outcome:
        """The accounts a Stripe customer's onboarding created: `{"accounts": [id, ...]}`."""
        return self._call("GET", "/v1/accounts", params={"customer": customer})

    def close(self) -> None:
        self._http.close()


ADAPTERS: dict[str, type[DefaultAdapter]] = {"default": DefaultAdapter}


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000

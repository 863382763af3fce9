"""The seam between the harness and a middleware: the few operations a simulated trader and a
checker need, each answering an `Outcome`.

`Adapter` is what the harness calls. `BaseAdapter` is the documented base class for an adapter
written as code (`kind = "python"` in the target file), for an API a declaration cannot describe:
orders over a WebSocket, a signed request scheme, a two-step order entry."""

from __future__ import annotations

import time
from typing import Any, Protocol

import httpx

from ..netguard import check_host
from .outcome import Outcome, OutcomeType

OPERATIONS = (
    "place_order",
    "order_status",
    "cancel_order",
    "positions",
    "account",
    "accounts_for_customer",
    "health",
    "set_limits",
    "route_account",
    "quote",
    "account_pnl",
    "payout",
    "lifecycle",
)


class Adapter(Protocol):
    def supports(self, operation: str) -> bool:
        """Whether the target offers this operation (or "stream", or "quote_age": its health answer
        says how old its freshest quote is, or "health_database": it says whether its database is
        up); scenarios that need one it lacks do not apply to it."""

    def stream_url(self, account: str, symbols: tuple[str, ...]) -> str | None: ...

    def stream_headers(self, account: str | None) -> dict[str, str]:
        """The stream's handshake headers: the credential of `account`'s trader, where it has one."""

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
        """ok: the middleware took the order; fail: it definitely did not; info: unknown."""

    def order_status(self, client_order_id: str, account: str | None = None) -> Outcome:
        """`Outcome.order` is an OrderView in the harness's states."""

    def cancel_order(self, client_order_id: str, account: str | None = None) -> Outcome:
        """ok means the cancel was taken, not that the order is cancelled yet."""

    def positions(self, account: str) -> Outcome:
        """`Outcome.positions`: one PositionView per (venue, symbol)."""

    def account(self, account_id: str) -> Outcome:
        """`Outcome.account`: an AccountView (trading status, TT provisioning, payments)."""

    def health(self) -> Outcome:
        """`Outcome.health`: a HealthView."""

    def accounts_for_customer(self, customer: str) -> Outcome:
        """`Outcome.accounts`: the account ids a Stripe customer's onboarding created."""

    def set_limits(
        self, account: str, *, max_order_qty: int, max_position: int, daily_loss_limit: float
    ) -> Outcome:
        """Set an account's risk limits (the risk suite sets the limits it then holds the venue's
        ledger against); ok means they are in force for the next order."""

    def route_account(self, account: str, venue: str) -> Outcome:
        """Make `venue` (the harness's name: rithmic, cqg, ...) the one the account's orders go to;
        ok means the next order goes there."""

    def quote(self, symbol: str) -> Outcome:
        """`Outcome.quote`: a QuoteView of what the API shows a trader of the symbol now."""

    def account_pnl(self, account: str) -> Outcome:
        """`Outcome.pnl`: a PnlView, the account's realised P&L today (net of fees) and unrealised."""

    def payout(self, customer: str, payout_id: str, amount: str) -> Outcome:
        """Pay a funded trader `amount` (decimal text) out; ok means the payout was taken (once per
        payout_id: a repeat is the same payout)."""

    def lifecycle(self, customer: str) -> Outcome:
        """`Outcome.body`: the middleware's own view of the trader's lifecycle, shown as it is."""

    def close(self) -> None: ...


def invoke(adapter: Adapter, operation: str, args: dict[str, Any]) -> Outcome:
    """Call `operation` with the arguments as a declared adapter's templates name them
    (account, customer, client_order_id, ...): one vocabulary for every kind of adapter."""
    if operation == "place_order":
        return adapter.place_order(**args)
    if operation in ("order_status", "cancel_order"):
        method = adapter.order_status if operation == "order_status" else adapter.cancel_order
        return method(args["client_order_id"], args.get("account"))
    if operation in ("positions", "account"):
        return (
            adapter.positions(args["account"])
            if operation == "positions"
            else adapter.account(args["account"])
        )
    if operation == "accounts_for_customer":
        return adapter.accounts_for_customer(args["customer"])
    if operation == "health":
        return adapter.health()
    if operation == "set_limits":
        limits = {k: args[k] for k in ("max_order_qty", "max_position", "daily_loss_limit")}
        return adapter.set_limits(args["account"], **limits)
    if operation == "route_account":
        return adapter.route_account(args["account"], args["venue"])
    if operation == "quote":
        return adapter.quote(args["symbol"])
    if operation == "account_pnl":
        return adapter.account_pnl(args["account"])
    if operation == "payout":
        return adapter.payout(args["customer"], args["payout_id"], args["amount"])
    if operation == "lifecycle":
        return adapter.lifecycle(args["customer"])
    raise ValueError(f"unknown operation {operation!r} (known: {', '.join(OPERATIONS)})")


class BaseAdapter:
    """Subclass this for `kind = "python"`. The harness constructs it with the target's bound
    `base_url`, its `options` table (templated like the rest of the file), the request timeout
    and the hosts the target allowlists.

    Override the operations your API has and return `Outcome`s with their typed views
    (`OrderView`, `PositionsView`, `AccountView`, `AccountsView`, `HealthView`). An operation left
    alone answers `fail` and `supports()` says False, so scenarios that need it are reported as
    not applicable rather than passed. `self.request()` gives the Jepsen classification of an
    HTTP call for free. See `harness.adapters.example` for a worked example.
    """

    # Whether health() fills HealthView.quote_age_s (market-data freshness checks need it).
    reports_quote_age: bool = False
    # Whether health() fills HealthView.database_ok (health_truthful needs it).
    reports_database: bool = False
    # Which statuses are definite refusals; any other non-2xx leaves an order's outcome unknown.
    refused: frozenset[int] = frozenset({400, 401, 403, 404, 409, 422, 429, 503})

    def __init__(
        self,
        base_url: str,
        *,
        options: dict[str, Any] | None = None,
        timeout_s: float = 5.0,
        allowed_hosts: tuple[str, ...] = (),
    ) -> None:
        check_host(httpx.URL(base_url).host, allowed_hosts, what="adapter.base_url")
        self.base_url = base_url.rstrip("/")
        self.options = dict(options or {})
        self.allowed_hosts = allowed_hosts
        self.http = httpx.Client(base_url=self.base_url, timeout=timeout_s, trust_env=False)

    def supports(self, operation: str) -> bool:
        if operation == "stream":
            return type(self).stream_url is not BaseAdapter.stream_url
        if operation == "quote_age":
            return self.reports_quote_age
        if operation == "health_database":
            return self.reports_database
        method = getattr(type(self), operation, None)
        return method is not None and method is not getattr(BaseAdapter, operation, None)

    def request(self, method: str, path: str, **kwargs: Any) -> tuple[Outcome, Any]:
        """One HTTP call, classified: (outcome without a view, parsed body). Connection refused is
        a definite failure; a timeout or a dropped connection leaves the outcome unknown."""
        started = time.perf_counter()
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.ConnectError as exc:
            return Outcome("fail", None, None, _ms(started), f"connect: {exc}"), None
        except httpx.HTTPError as exc:
            return Outcome("info", None, None, _ms(started), f"{type(exc).__name__}: {exc}"), None
        try:
            body: Any = response.json()
        except ValueError:
            body = response.text
        latency = _ms(started)
        if response.is_success:
            return Outcome("ok", response.status_code, body, latency), body
        kind: OutcomeType = "fail" if response.status_code in self.refused else "info"
        return Outcome(kind, response.status_code, body, latency, f"HTTP {response.status_code}"), body

    def _unsupported(self, operation: str) -> Outcome:
        return Outcome("fail", None, None, 0.0, f"{type(self).__name__} has no {operation} operation")

    def stream_url(self, account: str, symbols: tuple[str, ...]) -> str | None:
        return None

    def stream_headers(self, account: str | None) -> dict[str, str]:
        return {}

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
        return self._unsupported("place_order")

    def order_status(self, client_order_id: str, account: str | None = None) -> Outcome:
        return self._unsupported("order_status")

    def cancel_order(self, client_order_id: str, account: str | None = None) -> Outcome:
        return self._unsupported("cancel_order")

    def positions(self, account: str) -> Outcome:
        return self._unsupported("positions")

    def account(self, account_id: str) -> Outcome:
        return self._unsupported("account")

    def health(self) -> Outcome:
        return self._unsupported("health")

    def accounts_for_customer(self, customer: str) -> Outcome:
        return self._unsupported("accounts_for_customer")

    def set_limits(
        self, account: str, *, max_order_qty: int, max_position: int, daily_loss_limit: float
    ) -> Outcome:
        return self._unsupported("set_limits")

    def route_account(self, account: str, venue: str) -> Outcome:
        return self._unsupported("route_account")

    def quote(self, symbol: str) -> Outcome:
        return self._unsupported("quote")

    def account_pnl(self, account: str) -> Outcome:
        return self._unsupported("account_pnl")

    def payout(self, customer: str, payout_id: str, amount: str) -> Outcome:
        return self._unsupported("payout")

    def lifecycle(self, customer: str) -> Outcome:
        return self._unsupported("lifecycle")

    def close(self) -> None:
        self.http.close()


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000

"""A worked example of `kind = "python"`: the reference middleware's API written as code.

The reference is declared in targets/reference.toml, and an agency's REST API should be too. Code
is for what a declaration cannot say; this example shows the shape such an adapter takes:

    [adapter]
    kind = "python"
    class = "harness.adapters.example:ReferenceCodeAdapter"
    base_url = "http://127.0.0.1:{port}"
    options = { account_path = "/v1/accounts", admin_key = "{env.REFMW_ADMIN_KEY}" }

The reference takes a back office's key (`admin_key`) on every call; this adapter acts as the back
office throughout, which is all the order flow needs. The security suite needs a declared adapter
(it varies each request's credential), so it does not apply to a coded one.

Each operation makes its calls with `self.request()`, which classifies the HTTP answer the
Jepsen way, then reads the answer into a typed view. A KeyError or ValueError while reading is
the middleware's malformed answer, never the harness's crash: `_read()` turns it into a failed
outcome that carries the answer as evidence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from .base import BaseAdapter
from .outcome import AccountsView, AccountView, HealthView, OrderView, Outcome, PositionsView, PositionView

STATES = {"sending": "pending", "partial": "partially_filled", "risk_rejected": "rejected"}


class ReferenceCodeAdapter(BaseAdapter):
    reports_quote_age = True
    reports_database = True

    def __init__(self, base_url: str, **kw: Any) -> None:
        super().__init__(base_url, **kw)
        key = self.options.get("admin_key")
        if key:
            self.http.headers["Authorization"] = f"Bearer {key}"

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
        body: dict[str, Any] = {
            "account": account,
            "symbol": symbol,
            "side": side,
            "qty": qty,
            "type": order_type,
            "client_order_id": client_order_id,
        }
        if limit_price is not None:
            body["limit_price"] = limit_price
        outcome, _ = self.request("POST", "/v1/orders", json=body)
        return outcome

    def order_status(self, client_order_id: str, account: str | None = None) -> Outcome:
        outcome, body = self.request("GET", f"/v1/orders/{client_order_id}")
        return _read(
            outcome, body, lambda b: OrderView(_state(b["status"]), int(b.get("filled_qty") or 0), b)
        )

    def cancel_order(self, client_order_id: str, account: str | None = None) -> Outcome:
        outcome, _ = self.request("DELETE", f"/v1/orders/{client_order_id}")
        return outcome

    def positions(self, account: str) -> Outcome:
        outcome, body = self.request("GET", "/v1/positions", params={"account": account})
        return _read(
            outcome,
            body,
            lambda b: PositionsView(
                tuple(
                    PositionView(p["symbol"], int(p["net_qty"]), p.get("venue", "rithmic"))
                    for p in b["positions"]
                )
            ),
        )

    def account(self, account_id: str) -> Outcome:
        path = str(self.options.get("account_path", "/v1/accounts"))
        outcome, body = self.request("GET", f"{path}/{account_id}")

        def view(b: dict[str, Any]) -> AccountView:
            tt = b.get("tt") or {}
            invoices = tuple(str(p["invoice_id"]) for p in b.get("payments") or ())
            tt_id = tt.get("account_id")
            return AccountView(
                str(b["id"]),
                b.get("trading_enabled"),
                tt.get("status"),
                None if tt_id is None else str(tt_id),
                invoices,
                b,
            )

        return _read(outcome, body, view)

    def accounts_for_customer(self, customer: str) -> Outcome:
        path = str(self.options.get("account_path", "/v1/accounts"))
        outcome, body = self.request("GET", path, params={"customer": customer})
        return _read(outcome, body, lambda b: AccountsView(tuple(str(a) for a in b["accounts"])))

    def health(self) -> Outcome:
        outcome, body = self.request("GET", "/health")
        return _read(
            outcome,
            body,
            lambda b: HealthView(
                True,
                ((b.get("venues") or {}).get("rithmic") or {}).get("last_quote_age_s"),
                b["database"] == "up" if "database" in b else None,
            ),
        )


def _state(value: Any) -> str:
    text = str(value)
    return STATES.get(text, text)


def _read(outcome: Outcome, body: Any, view: Callable[[Any], Any]) -> Outcome:
    """Attach the typed view to a 2xx outcome; an unreadable answer is a failed read, with evidence."""
    if not outcome.ok:
        return outcome
    try:
        return replace(outcome, view=view(body))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        reason = f"{type(exc).__name__}: {exc}"
        return replace(outcome, type="fail", error=f"malformed answer: {reason}", malformed=reason)

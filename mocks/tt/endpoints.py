"""The TT services the middleware uses: ttid, ttaccount, ttledger, ttmonitor and ttpds.

Field names follow TT's public docs and community clients (venues.md §1) and are indicative.
Every list endpoint pages the TT way: at most `page_size` (500) records, `lastPage` as the
*string* "true" or "false", and for ledger data the next page asked with
`minTimestamp = last transactTime + 1` (epoch nanoseconds).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..common.body import read_whole
from .auth import token_response
from .data import Account

if TYPE_CHECKING:
    from .venue import TTMock

ENV = "{env}"


def ok(**payload: Any) -> web.Response:
    return web.json_response({"status": "Ok", **payload})


def failed(status: int, message: str) -> web.Response:
    return web.json_response({"status": "Failed", "message": message}, status=status)


def _int_query(request: web.Request, name: str) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise web.HTTPBadRequest(
            text=json.dumps({"status": "Failed", "message": f"{name} must be an integer"}),
            content_type="application/json",
        ) from None


async def _json_body(request: web.Request) -> Any:
    raw = await read_whole(request)
    try:
        return json.loads(raw) if raw.strip() else None
    except (ValueError, RecursionError):
        raise web.HTTPBadRequest(
            text=json.dumps({"status": "Failed", "message": "body is not valid JSON"}),
            content_type="application/json",
        ) from None


def _page(records: list[dict[str, Any]], size: int) -> tuple[list[dict[str, Any]], str]:
    return records[:size], "true" if len(records) <= size else "false"


class TTServices:
    def __init__(self, venue: TTMock) -> None:
        self.venue = venue

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post(f"/ttid/{ENV}/token", self.token),
            web.get(f"/ttaccount/{ENV}/accounts", self.accounts),
            web.post(f"/ttaccount/{ENV}/account", self.create_accounts),
            web.get(f"/ttaccount/{ENV}/account/{{account_id}}", self.account),
            web.get(f"/ttaccount/{ENV}/account/{{account_id}}/risklimits", self.risk_limits),
            web.post(f"/ttaccount/{ENV}/account/{{account_id}}/risklimits", self.set_risk_limits),
            web.get(f"/ttledger/{ENV}/fills", self.fills),
            web.get(f"/ttledger/{ENV}/orders", self.orders),
            web.get(f"/ttledger/{ENV}/orders/{{order_id}}", self.order),
            web.get(f"/ttledger/{ENV}/orderdata", self.order_data),
            web.get(f"/ttmonitor/{ENV}/position", self.positions),
            web.get(f"/ttmonitor/{ENV}/position/{{account_id}}", self.account_positions),
            web.get(f"/ttpds/{ENV}/instruments", self.instruments),
            web.get(f"/ttpds/{ENV}/instrument/{{instrument_id}}", self.instrument),
        ]

    # -- ttid -----------------------------------------------------------------------------------

    async def token(self, request: web.Request) -> web.Response:
        venue = self.venue
        response, presented = await token_response(request, venue.config, venue.tokens, venue.secrets)
        venue.events.add("token_request", status=response.status, **presented)
        return response

    # -- ttaccount ------------------------------------------------------------------------------

    def _account(self, request: web.Request) -> Account:
        account = self.venue.state.find_account(request.match_info["account_id"])
        if account is None:
            raise web.HTTPNotFound(
                text=json.dumps({"status": "Failed", "message": "account not found"}),
                content_type="application/json",
            )
        return account

    async def accounts(self, request: web.Request) -> web.Response:
        rows = [a.to_json() for a in self.venue.state.accounts.values()]
        return ok(accounts=rows, lastPage="true")

    async def account(self, request: web.Request) -> web.Response:
        return ok(account=[self._account(request).to_json()])

    async def create_accounts(self, request: web.Request) -> web.Response:
        """Provision accounts: one object, or a list of at most `post_max_items`."""
        body = await _json_body(request)
        items = body.get("accounts", body) if isinstance(body, dict) else body
        items = [items] if isinstance(items, dict) else items
        if not isinstance(items, list) or not items:
            return failed(400, "body must be an account object or a non-empty list of them")
        if len(items) > self.venue.config.post_max_items:
            return failed(400, f"at most {self.venue.config.post_max_items} items per POST")
        checked = []
        for n, item in enumerate(items):
            name = item.get("name") if isinstance(item, dict) else None
            if not isinstance(name, str) or not name.strip() or len(name) > 128:
                return failed(400, f"accounts[{n}].name must be a non-empty string")
            parent = item.get("parentId")
            if parent is not None and (
                isinstance(parent, bool)
                or not isinstance(parent, int)
                or parent not in self.venue.state.accounts
            ):
                return failed(400, f"accounts[{n}].parentId is not a known account")
            description = item.get("description", "")
            checked.append((name.strip(), description if isinstance(description, str) else "", parent))
        made = [self.venue.state.add_account(name, desc, parent).to_json() for name, desc, parent in checked]
        self.venue.events.add("accounts_provisioned", ids=[a["id"] for a in made])
        return ok(accounts=made)

    async def risk_limits(self, request: web.Request) -> web.Response:
        account = self._account(request)
        return ok(accountId=account.id, riskLimits=account.risk_limits)

    async def set_risk_limits(self, request: web.Request) -> web.Response:
        """Replace an account's per-product limits: a list of at most `post_max_items` objects."""
        account = self._account(request)
        body = await _json_body(request)
        items = body.get("riskLimits") if isinstance(body, dict) else body
        if not isinstance(items, list):
            return failed(400, "body must be {'riskLimits': [...]} or a list")
        if len(items) > self.venue.config.post_max_items:
            return failed(400, f"at most {self.venue.config.post_max_items} items per POST")
        limits = []
        for n, item in enumerate(items):
            if not isinstance(item, dict):
                return failed(400, f"riskLimits[{n}] must be an object")
            for key in ("maxOrderQty", "maxPosition", "maxLongShort", "creditLimit"):
                value = item.get(key)
                if value is not None and (
                    isinstance(value, bool) or not isinstance(value, int | float) or value < 0
                ):
                    return failed(400, f"riskLimits[{n}].{key} must be a non-negative number")
            product = item.get("productId")
            if product is not None and not isinstance(product, int | str):
                return failed(400, f"riskLimits[{n}].productId must be an id")
            limits.append(dict(item))
        account.risk_limits = limits
        self.venue.events.add("risk_limits_set", account=account.id, count=len(limits))
        return ok(accountId=account.id, riskLimits=limits)

    # -- ttledger -------------------------------------------------------------------------------

    def _window(self, request: web.Request) -> tuple[int, int, str | None]:
        low = _int_query(request, "minTimestamp")
        high = _int_query(request, "maxTimestamp")
        account = request.query.get("accountId")
        return (low if low is not None else 0), (high if high is not None else 2**63), account

    async def fills(self, request: web.Request) -> web.Response:
        state = self.venue.state
        low, high, account = self._window(request)
        order_id = request.query.get("orderId")
        rows = []
        for fill in self.venue.ledger.fills:
            ns = state.fill_times.get(fill.fill_id, 0)
            if not low <= ns <= high:
                continue
            if (account is not None and fill.account != account) or (
                order_id is not None and fill.order_id != order_id
            ):
                continue
            rows.append(state.fill_json(fill))
        rows.sort(key=lambda r: r["transactTime"])
        page, last = _page(rows, self.venue.config.page_size)
        return ok(fills=page, lastPage=last)

    async def orders(self, request: web.Request) -> web.Response:
        state = self.venue.state
        low, high, account = self._window(request)
        rows = [
            state.order_json(o)
            for o in self.venue.ledger.orders.values()
            if low <= state.order_times.get(o.order_id, 0) <= high
            and (account is None or o.account == account)
        ]
        rows.sort(key=lambda r: r["transactTime"])
        page, last = _page(rows, self.venue.config.page_size)
        return ok(orders=page, lastPage=last)

    async def order(self, request: web.Request) -> web.Response:
        order = self.venue.ledger.orders.get(request.match_info["order_id"])
        if order is None:
            return failed(404, "order not found")
        return ok(orders=[self.venue.state.order_json(order)])

    async def order_data(self, request: web.Request) -> web.Response:
        return ok(
            orderData={
                "side": {"1": "Buy", "2": "Sell"},
                "ordType": {"1": "Market", "2": "Limit"},
                "ordStatus": {"open": "New", "partial": "PartiallyFilled", "filled": "Filled"},
            }
        )

    # -- ttmonitor ------------------------------------------------------------------------------

    async def positions(self, request: web.Request) -> web.Response:
        raw = request.query.get("accountIds")
        ids = {a.strip() for a in raw.split(",") if a.strip()} if raw else None
        start = _int_query(request, "nextPageKey") or 0
        rows = self.venue.state.positions(ids)[max(start, 0) :]
        page, last = _page(rows, self.venue.config.page_size)
        extra = {} if last == "true" else {"nextPageKey": str(max(start, 0) + len(page))}
        return ok(positions=page, lastPage=last, **extra)

    async def account_positions(self, request: web.Request) -> web.Response:
        account = self._account(request)
        return ok(positions=self.venue.state.positions({str(account.id)}), lastPage="true")

    # -- ttpds ----------------------------------------------------------------------------------

    async def instruments(self, request: web.Request) -> web.Response:
        product = request.query.get("productId")
        rows = [
            i.to_json()
            for i in self.venue.state.instruments.values()
            if product is None or str(i.product_id) == product
        ]
        return ok(instruments=rows, lastPage="true")

    async def instrument(self, request: web.Request) -> web.Response:
        inst = self.venue.state.instruments.get(request.match_info["instrument_id"])
        if inst is None:
            return failed(404, "instrument not found")
        return ok(instrument=[inst.to_json()])

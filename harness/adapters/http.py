"""`kind = "http"`: a REST API of any shape, declared in the target file.

Two halves, so that Locust can send the same requests through its own client (and keep its
statistics): `HttpApi` renders requests and reads answers and does no I/O; `HttpAdapter` sends
them with httpx. Reading an answer is where blame is decided: a 2xx answer the declared fields
cannot be read from is the middleware's fault, reported with the answer as evidence."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from jmespath.parser import ParsedResult

from ..netguard import check_host
from .auth import API_KEY, AuthSpec, KeyRing
from .outcome import (
    ORDER_STATES,
    AccountsView,
    AccountView,
    HealthView,
    KeyView,
    OrderView,
    Outcome,
    OutcomeType,
    PnlView,
    PositionsView,
    PositionView,
    QuoteView,
    View,
)
from .resend import resending_request
from .spec import PLACEHOLDER, TOPOLOGY_ROOTS, AdapterSpec, OperationSpec

READS = frozenset(
    {
        "order_status",
        "positions",
        "account",
        "accounts_for_customer",
        "health",
        "quote",
        "account_pnl",
        "issue_key",
        "lifecycle",
    }
)


class Malformed(ValueError):
    """A 2xx answer that does not hold what the target file says it holds."""


@dataclass(frozen=True)
class Request:
    operation: str
    method: str
    url: str
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    json: Any = None
    name: str = ""  # the request's name in Locust's statistics: method and path template
    timeout_s: float = 5.0


def bind(text: str, values: dict[str, Any]) -> str:
    """Fill the topology's placeholders ({port}, {env.API_KEY}, ...) and leave an operation's own
    arguments ({client_order_id}) for each call."""

    def lookup(match: Any) -> str:
        parts = match.group(1).split(".")
        if parts[0] not in TOPOLOGY_ROOTS:
            return str(match.group(0))
        node: Any = values
        for part in parts:
            if not isinstance(node, dict) or part not in node:
                raise KeyError(f"unknown placeholder {{{match.group(1)}}}")
            node = node[part]
        return str(node)

    return PLACEHOLDER.sub(lookup, text)


class HttpApi:
    """The declared API, bound to a running topology: requests out, typed outcomes in."""

    def __init__(
        self, spec: AdapterSpec, values: dict[str, Any], allowed_hosts: tuple[str, ...] = ()
    ) -> None:
        self.spec = spec
        self.base_url = bind(spec.base_url, values).rstrip("/")
        check_host(urlsplit(self.base_url).hostname or "", allowed_hosts, what="adapter.base_url")
        self.headers = {k: bind(v, values) for k, v in spec.headers.items()}
        self.auth = spec.auth or AuthSpec()
        self.admin_headers = {k: bind(v, values) for k, v in self.auth.admin.items()}
        self.trader_headers = {k: bind(v, values) for k, v in self.auth.trader.items()}
        self.secrets = tuple(v for v in (*self.headers.values(), *self.admin_headers.values()) if v)
        self._ops: dict[str, OperationSpec] = {}
        for name, op in spec.operations.items():
            path = bind(op.path, values)
            if path.startswith(("http://", "https://")):
                host = urlsplit(PLACEHOLDER.sub("0", path)).hostname or ""
                check_host(host, allowed_hosts, what=f"adapter.operations.{name}.path")
            self._ops[name] = OperationSpec(
                name,
                op.method,
                path,
                {k: bind(v, values) for k, v in op.query.items()},
                {k: bind(v, values) for k, v in op.headers.items()},
                _bind_tree(op.body, values),
                op.fields,
                op.items,
                op.refused,
                op.timeout_s,
            )
        self.stream_url = bind(spec.stream.url, values) if spec.stream else None

    def operations(self) -> tuple[str, ...]:
        """The operations the target file declares, in its order."""
        return tuple(self._ops)

    def supports(self, operation: str) -> bool:
        if operation == "stream":
            return self.stream_url is not None
        if operation == "quote_age":
            return self.spec.supports("quote_age")
        return operation in self._ops

    # ---------------------------------------------------------------- requests
    def request(self, operation: str, args: dict[str, Any]) -> Request:
        op = self._ops[operation]
        args = self._api_values(args)
        path = _fill(op.path, args, url=True)
        url = path if path.startswith(("http://", "https://")) else self.base_url + path
        params = {k: _fill(v, args) for k, v in op.query.items()}
        params = {k: v for k, v in params.items() if v != ""}
        headers = {
            **self.headers,
            **self.credentials(operation, args.get(API_KEY)),
            **{k: _fill(v, args) for k, v in op.headers.items()},
        }
        body = _fill_tree(op.body, args) if op.body is not None else None
        return Request(
            operation,
            op.method,
            url,
            params,
            headers,
            body,
            f"{op.method} {op.path}",
            op.timeout_s or self.spec.timeout_s,
        )

    def credentials(self, operation: str, api_key: str | None) -> dict[str, str]:
        """The headers `operation` carries by its role: a trader's with its key, the back office's
        for admin operations and for trader reads made with no key (a checker's lookups)."""
        role = self.auth.role(operation)
        if role == "trader" and api_key and self.trader_headers:
            return {k: _fill(v, {API_KEY: api_key}) for k, v in self.trader_headers.items()}
        if role in ("admin", "trader"):
            return dict(self.admin_headers)
        return {}

    def stream_headers(self, api_key: str | None) -> dict[str, str]:
        """The WebSocket handshake's headers: the static ones and the stream's credential."""
        return {**self.headers, **self.credentials("stream", api_key)}

    def _api_values(self, args: dict[str, Any]) -> dict[str, Any]:
        out = dict(args)
        for name, mapping in self.spec.values.items():
            if name in out and out[name] in mapping:
                out[name] = mapping[out[name]]
        return out

    def stream(self, account: str, symbols: tuple[str, ...]) -> str | None:
        if self.stream_url is None:
            return None
        return _fill(self.stream_url, {"account": account, "symbols": ",".join(symbols)}, url=True)

    # ---------------------------------------------------------------- answers
    def interpret(self, operation: str, status: int, body: Any, latency_ms: float) -> Outcome:
        op = self._ops[operation]
        if not 200 <= status < 300:
            kind: OutcomeType = "fail" if status in op.refused else "info"
            return Outcome(kind, status, body, latency_ms, f"HTTP {status}")
        try:
            view = self.read(op, body)
        except Malformed as exc:
            # A read we cannot read is a failed read; an order or cancel the middleware took is
            # still taken, whatever its answer looked like.
            kind = "fail" if operation in READS else "ok"
            return Outcome(kind, status, body, latency_ms, f"malformed answer: {exc}", malformed=str(exc))
        return Outcome("ok", status, body, latency_ms, view=view)

    def read(self, op: OperationSpec, body: Any) -> View:
        fields = op.fields
        if op.name == "order_status":
            return OrderView(
                self.state(_field(fields, "status", body)),
                _int_field(fields, "filled_qty", body),
                avg_price=_float(_optional(fields, "avg_price", body), "avg_price"),
            )
        if op.name == "place_order":
            return OrderView(self.state(_field(fields, "status", body))) if "status" in fields else None
        if op.name == "positions":
            assert op.items is not None
            rows = op.items.search(body)
            if not isinstance(rows, list):
                raise Malformed(
                    f"items {op.items.expression!r} is not a list in the answer (got {_kind(rows)})"
                )
            out = []
            for index, row in enumerate(rows):
                try:
                    out.append(
                        PositionView(
                            str(_field(fields, "symbol", row)),
                            _int_field(fields, "net_qty", row, required=True),
                            str(_optional(fields, "venue", row) or "rithmic").lower(),
                        )
                    )
                except Malformed as exc:
                    raise Malformed(f"row {index}: {exc}") from None
            return PositionsView(tuple(out))
        if op.name == "account":
            invoices = _optional(fields, "payment_invoices", body)
            if invoices is not None and not isinstance(invoices, list):
                raise Malformed(f"payment_invoices is not a list (got {_kind(invoices)})")
            enabled = _optional(fields, "trading_enabled", body)
            if enabled is not None and not isinstance(enabled, bool):
                raise Malformed(f"trading_enabled is not true or false (got {enabled!r})")
            tt_status, tt_id = _optional(fields, "tt_status", body), _optional(fields, "tt_account_id", body)
            return AccountView(
                str(_optional(fields, "account_id", body) or ""),
                enabled,
                None if tt_status is None else str(tt_status),
                None if tt_id is None else str(tt_id),
                tuple(str(i) for i in invoices or ()),
                raw=body,
            )
        if op.name == "accounts_for_customer":
            ids = _field(fields, "accounts", body)
            if not isinstance(ids, list) or any(isinstance(i, (dict, list, bool)) or i is None for i in ids):
                raise Malformed(f"accounts is not a list of ids (got {ids!r:.200})")
            return AccountsView(tuple(str(i) for i in ids))
        if op.name == "health":
            healthy = _optional(fields, "healthy", body)
            age = _optional(fields, "quote_age_s", body)
            database = _optional(fields, "database_ok", body)
            if database is not None and not isinstance(database, bool):
                raise Malformed(f"database_ok is not true or false (got {database!r:.200})")
            return HealthView(
                True if healthy is None else bool(healthy), _float(age, "quote_age_s"), database
            )
        if op.name == "quote":
            return QuoteView(  # the symbol asked for is filled in by the caller, which knows it
                "",
                _float(_optional(fields, "bid", body), "bid"),  # null: no bid (a one-sided market)
                _float(_optional(fields, "ask", body), "ask"),
                _bool(_optional(fields, "stale", body), "stale"),
                raw=body,
            )
        if op.name == "issue_key":
            key = _field(fields, "key", body)
            if not isinstance(key, str) or not key:
                raise Malformed("key is not a non-empty string")
            return KeyView(
                key,
                str(_optional(fields, "key_id", body) or ""),
                str(_optional(fields, "expires_at", body) or ""),
            )
        if op.name == "account_pnl":
            realized = _float(_field(fields, "realized", body), "realized")
            assert realized is not None
            return PnlView(realized, _float(_optional(fields, "unrealized", body), "unrealized"), raw=body)
        return None

    def state(self, value: Any) -> str:
        """The API's order state in the harness's words."""
        text = str(value)
        if self.spec.states:
            if text not in self.spec.states:
                raise Malformed(f"order state {text!r} is not declared in [adapter.states]")
            return self.spec.states[text]
        if text.lower() not in ORDER_STATES:
            raise Malformed(f"order state {text!r} is not a harness state; map it in [adapter.states]")
        return text.lower()

    def stream_message(self, message: Any) -> tuple[str, Any, Any]:
        """("quote", quote time, None), ("order", client order id, harness state) or ("", ...)."""
        stream = self.spec.stream
        assert stream is not None
        kind = str(stream.kind.search(message))
        if stream.quote_when and kind == stream.quote_when:
            at = stream.quote_time.search(message) if stream.quote_time else None
            return "quote", at, None
        if stream.order_when and kind == stream.order_when:
            assert stream.order_id is not None and stream.order_status is not None
            raw = stream.order_status.search(message)
            try:
                status = self.state(raw)
            except Malformed:
                status = str(raw).lower()
            return "order", stream.order_id.search(message), status
        return "", None, None

    def stream_quote(self, message: Any) -> QuoteView | None:
        """A quote message's symbol, prices and stale flag; None for any other message, or where the
        target declares no prices for its stream quotes. Garbage is the middleware's: Malformed."""
        stream = self.spec.stream
        if stream is None:
            return None
        symbol_at, bid_at, ask_at = stream.quote_symbol, stream.quote_bid, stream.quote_ask
        if symbol_at is None or bid_at is None or ask_at is None:
            return None
        if str(stream.kind.search(message)) != stream.quote_when:
            return None
        symbol = symbol_at.search(message)
        if symbol is None:
            raise Malformed(f"symbol ({symbol_at.expression!r}) is not in the quote message")
        stale = stream.quote_stale.search(message) if stream.quote_stale else None
        return QuoteView(
            str(symbol),
            _float(bid_at.search(message), "bid"),
            _float(ask_at.search(message), "ask"),
            _bool(stale, "stale"),
            raw=message,
        )


class HttpAdapter:
    """The declared API over httpx, for the gate's traders and checkers."""

    def __init__(self, api: HttpApi, on_secret: Callable[[str], None] | None = None) -> None:
        self.api = api
        self._http = httpx.Client(timeout=api.spec.timeout_s, trust_env=False)
        self.keys = KeyRing(self._mint)
        self.on_secret = on_secret  # told each trader key minted, so that reports redact it

    def supports(self, operation: str) -> bool:
        return self.api.supports(operation)

    def stream_url(self, account: str, symbols: tuple[str, ...]) -> str | None:
        return self.api.stream(account, symbols)

    def stream_headers(self, account: str | None) -> dict[str, str]:
        key = self.keys.key(account)[0] if account and self.api.auth.per_trader else None
        return self.api.stream_headers(key)

    def issue_key(self, account: str, ttl_s: float | None = None) -> Outcome:
        """A new trader key for `account` from the back office (`Outcome.key`); not kept."""
        outcome = self._call("issue_key", account=account, ttl_s=ttl_s)
        if outcome.key is not None and self.on_secret is not None:
            self.on_secret(outcome.key.key)
        return outcome

    def revoke_key(self, key_id: str) -> Outcome:
        return self._call("revoke_key", key_id=key_id)

    def _mint(self, account: str) -> tuple[str | None, str]:
        outcome = self.issue_key(account)
        if outcome.key is not None:
            return outcome.key.key, ""
        return (
            None,
            f"no trader key for account {account}: issue_key answered {outcome.error or outcome.status}",
        )

    def _call(self, operation: str, **args: Any) -> Outcome:
        if not self.api.supports(operation):
            return Outcome("fail", None, None, 0.0, f"the target file declares no {operation} operation")
        account = args.get("account")
        if self.api.auth.role(operation) == "trader" and self.api.auth.per_trader and account:
            key, why = self.keys.key(str(account))
            if key is None:
                # The middleware would not mint the key this call needs: a definite refusal, its own.
                return Outcome("fail", None, None, 0.0, why)
            args[API_KEY] = key
        request = self.api.request(operation, args)
        started = time.perf_counter()
        try:
            response = resending_request(
                self._http,
                request.method,
                request.url,
                params=request.params or None,
                headers=request.headers or None,
                json=request.json,
                timeout=request.timeout_s,
            )
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
        return self.api.interpret(operation, response.status_code, body, latency)

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
        return self._call(
            "place_order",
            account=account,
            symbol=symbol,
            side=side,
            qty=qty,
            order_type=order_type,
            client_order_id=client_order_id,
            limit_price=limit_price,
        )

    def order_status(self, client_order_id: str, account: str | None = None) -> Outcome:
        return self._call("order_status", client_order_id=client_order_id, account=account)

    def cancel_order(self, client_order_id: str, account: str | None = None) -> Outcome:
        return self._call("cancel_order", client_order_id=client_order_id, account=account)

    def positions(self, account: str) -> Outcome:
        return self._call("positions", account=account)

    def account(self, account_id: str) -> Outcome:
        return self._call("account", account=account_id)

    def health(self) -> Outcome:
        return self._call("health")

    def accounts_for_customer(self, customer: str) -> Outcome:
        return self._call("accounts_for_customer", customer=customer)

    def set_limits(
        self, account: str, *, max_order_qty: int, max_position: int, daily_loss_limit: float
    ) -> Outcome:
        return self._call(
            "set_limits",
            account=account,
            max_order_qty=max_order_qty,
            max_position=max_position,
            daily_loss_limit=daily_loss_limit,
        )

    def route_account(self, account: str, venue: str) -> Outcome:
        return self._call("route_account", account=account, venue=venue)

    def quote(self, symbol: str) -> Outcome:
        outcome = self._call("quote", symbol=symbol)
        shown = outcome.quote
        return outcome if shown is None else replace(outcome, view=replace(shown, symbol=symbol))

    def account_pnl(self, account: str) -> Outcome:
        return self._call("account_pnl", account=account)

    def payout(self, customer: str, payout_id: str, amount: str) -> Outcome:
        return self._call("payout", customer=customer, payout_id=payout_id, amount=amount)

    def lifecycle(self, customer: str) -> Outcome:
        return self._call("lifecycle", customer=customer)

    def stream_quote(self, message: Any) -> QuoteView | None:
        """The quote a stream message shows, where the target declares its symbol, bid and ask."""
        return self.api.stream_quote(message)

    def close(self) -> None:
        self._http.close()


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _bind_tree(node: Any, values: dict[str, Any]) -> Any:
    if isinstance(node, str):
        return bind(node, values)
    if isinstance(node, dict):
        return {k: _bind_tree(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [_bind_tree(v, values) for v in node]
    return node


def _fill(text: str, args: dict[str, Any], *, url: bool = False) -> str:
    def value(match: Any) -> str:
        found = _argument(match.group(1), args)
        if found is None:
            return ""
        return quote(str(found), safe="") if url else str(found)

    return PLACEHOLDER.sub(value, text)


def _argument(placeholder: str, args: dict[str, Any]) -> Any:
    """An argument's value, in the format the placeholder names (`{limit_price|decimal}`)."""
    name, _, form = placeholder.partition("|")
    found = args.get(name)
    if found is None or form != "decimal" or isinstance(found, bool):
        return found
    try:
        return format(Decimal(str(found)), "f")  # 6000.25, never 6.00025E+3
    except InvalidOperation:
        return str(found)


_ABSENT = object()


def _fill_tree(node: Any, args: dict[str, Any]) -> Any:
    """A JSON template: "{qty}" alone keeps the argument's type, and a key whose argument is
    absent (None, or not given) is left out; anything else is text."""
    if isinstance(node, str):
        whole = PLACEHOLDER.fullmatch(node)
        if whole:  # an argument the call did not give (None or left out) is left out of the body
            found = _argument(whole.group(1), args)
            return _ABSENT if found is None else found
        return _fill(node, args)
    if isinstance(node, dict):
        filled = {k: _fill_tree(v, args) for k, v in node.items()}
        return {k: v for k, v in filled.items() if v is not _ABSENT}
    if isinstance(node, list):
        return [v for v in (_fill_tree(item, args) for item in node) if v is not _ABSENT]
    return node


def _field(fields: dict[str, ParsedResult], name: str, body: Any) -> Any:
    found = fields[name].search(body)
    if found is None:
        raise Malformed(f"{name} ({fields[name].expression!r}) is not in the answer")
    return found


def _optional(fields: dict[str, ParsedResult], name: str, body: Any) -> Any:
    return fields[name].search(body) if name in fields else None


def _int_field(fields: dict[str, ParsedResult], name: str, body: Any, *, required: bool = False) -> int:
    if name not in fields:
        return 0
    found = _field(fields, name, body) if required else fields[name].search(body)
    if found is None:
        return 0
    return _int(found, name)


def _int(value: Any, name: str) -> int:
    """Quantities arrive as numbers or decimal strings ("2", "2.0"); anything fractional is wrong."""
    if isinstance(value, bool):
        raise Malformed(f"{name} is a boolean, not a quantity")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise Malformed(f"{name} is not a number: {value!r:.80}") from None
    if not number.is_finite() or number != number.to_integral_value():
        raise Malformed(f"{name} is not a whole quantity: {value!r}")
    return int(number)


def _float(value: Any, name: str) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise Malformed(f"{name} is not a number: {value!r:.80}") from None


def _bool(value: Any, name: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise Malformed(f"{name} is not true or false (got {value!r:.80})")


def _kind(value: Any) -> str:
    return "nothing" if value is None else type(value).__name__

"""The `[adapter]` table of a target file, validated into specs: which adapter, and for `http`,
every operation's request template and where each field the harness needs is in the answer.

Field locations are JMESPath expressions (a kept query language, compiled once here), so an
agency engineer writes `data.filledQuantity` or `items[?venue=='CME']` rather than learning a
path syntax of ours. Every mistake is refused with the dotted key that holds it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

import jmespath
from jmespath.exceptions import JMESPathError
from jmespath.parser import ParsedResult

from ..targetfields import Fields, TargetError
from .auth import AuthSpec, parse_auth
from .outcome import ORDER_STATES

PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
# How an argument may be written into a template: `{limit_price|decimal}` sends a price as a decimal
# string ("6000.25"), for an API that takes money as text, never as a binary float.
FORMATS = ("decimal",)
# Placeholders filled from the running topology when the adapter is built (the target's roots),
# and `{env.NAME}`: a value of the target's rendered [env], e.g. an API key the middleware reads.
TOPOLOGY_ROOTS = ("port", "seed", "python", "toxiproxy", "mocks", "postgres", "secrets", "env")

# Each operation: the arguments its templates may name, its answer fields (required ones first).
ARGUMENTS: dict[str, tuple[str, ...]] = {
    "place_order": ("account", "symbol", "side", "qty", "order_type", "client_order_id", "limit_price"),
    "order_status": ("client_order_id", "account"),
    "cancel_order": ("client_order_id", "account"),
    "positions": ("account",),
    "account": ("account",),
    "accounts_for_customer": ("customer",),
    "health": (),
    "set_limits": ("account", "max_order_qty", "max_position", "daily_loss_limit"),
    "route_account": ("account", "venue"),  # the back office moves an account to a venue (cqg, ...)
    "quote": ("symbol",),
    "account_pnl": ("account",),
    "issue_key": ("account", "ttl_s"),  # the back office mints a trader's key ([adapter.auth])
    "revoke_key": ("key_id",),
    # the lifecycle: the back office pays a funded trader out; the middleware's view of a trader's chain
    "payout": ("customer", "payout_id", "amount"),
    "lifecycle": ("customer",),
}
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "place_order": (),
    "order_status": ("status",),
    "cancel_order": (),
    "positions": ("symbol", "net_qty"),
    "account": (),
    "accounts_for_customer": ("accounts",),
    "health": (),
    "set_limits": (),
    "route_account": (),
    "quote": ("bid", "ask"),
    "account_pnl": ("realized",),
    "issue_key": ("key",),
    "revoke_key": (),
    "payout": (),
    "lifecycle": (),
}
OPTIONAL_FIELDS: dict[str, tuple[str, ...]] = {
    "place_order": ("status",),
    "order_status": ("filled_qty", "avg_price"),
    "cancel_order": (),
    "positions": ("venue",),
    "account": ("account_id", "trading_enabled", "tt_status", "tt_account_id", "payment_invoices"),
    "accounts_for_customer": (),
    "health": ("healthy", "quote_age_s", "database_ok"),
    "set_limits": (),
    "route_account": (),
    "quote": ("stale",),
    "account_pnl": ("unrealized",),
    "issue_key": ("key_id", "expires_at"),
    "revoke_key": (),
    "payout": (),
    "lifecycle": (),  # its answer is shown as it is, in `uat investigate`
}
# The order flow cannot be judged without these; the rest may be left out (scenarios that need
# them are then not applicable to the target).
REQUIRED_OPERATIONS = ("place_order", "order_status", "positions", "health")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
VALUE_MAPS = {"side": ("BUY", "SELL"), "order_type": ("MARKET", "LIMIT")}
# A definite refusal: the order was not taken. Any other non-2xx status leaves the outcome unknown.
DEFAULT_REFUSED = (400, 401, 403, 404, 409, 422, 429, 503)

AdapterKind = Literal["http", "python"]
# Capabilities a scenario may need of the adapter itself: requests the harness renders (so it can
# vary their credentials and bodies), and a key of each trader's own ([adapter.auth] trader).
DECLARED_REQUESTS = "declared_requests"
PER_TRADER_KEYS = "per_trader_keys"
QUOTE_SHOWS = ("symbol", "bid", "ask", "stale")  # a stream quote's optional fields


@dataclass(frozen=True)
class OperationSpec:
    name: str
    method: str
    path: str  # a path under base_url, or an absolute URL; {argument} and topology placeholders
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None  # a JSON template: strings that are exactly "{arg}" keep the argument's type
    fields: dict[str, ParsedResult] = field(default_factory=dict)
    items: ParsedResult | None = None  # positions: where the list of rows is
    refused: frozenset[int] = frozenset(DEFAULT_REFUSED)
    timeout_s: float | None = None


@dataclass(frozen=True)
class StreamSpec:
    """The optional order and market-data stream: a WebSocket URL and where things are in its messages."""

    url: str
    kind: ParsedResult  # what kind of message this is
    quote_when: str = ""  # the kind value of a quote message
    quote_time: ParsedResult | None = None  # epoch seconds of the quote
    # what the quote shows, for the checks that hold it against the venue's price path
    quote_symbol: ParsedResult | None = None
    quote_bid: ParsedResult | None = None
    quote_ask: ParsedResult | None = None
    quote_stale: ParsedResult | None = None  # true while the middleware calls the quote stale
    order_when: str = ""
    order_id: ParsedResult | None = None  # the client order id
    order_status: ParsedResult | None = None  # mapped through [adapter.states]


@dataclass(frozen=True)
class AdapterSpec:
    kind: AdapterKind
    base_url: str
    timeout_s: float = 5.0
    headers: dict[str, str] = field(default_factory=dict)
    operations: dict[str, OperationSpec] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # harness value -> API value
    states: dict[str, str] = field(default_factory=dict)  # API order state -> harness state
    stream: StreamSpec | None = None
    python_class: str = ""  # kind = "python": "module:Class"
    options: dict[str, Any] = field(default_factory=dict)  # kind = "python": passed to the class
    auth: AuthSpec | None = None  # [adapter.auth]: which credential each call carries

    def supports(self, operation: str) -> bool:
        if operation == "stream":
            return self.stream is not None
        if operation == DECLARED_REQUESTS:
            return self.kind == "http"
        if operation == PER_TRADER_KEYS:
            return self.auth is not None and self.auth.per_trader
        if self.kind == "python":
            return True  # known only once the class is built: BaseAdapter.supports
        if operation == "quote_age":
            health = self.operations.get("health")
            return health is not None and "quote_age_s" in health.fields
        if operation == "health_database":
            health = self.operations.get("health")
            return health is not None and "database_ok" in health.fields
        return operation in self.operations


def parse_adapter(table: Fields) -> AdapterSpec:
    kind = table.get("kind", str, "http")
    if kind not in ("http", "python"):
        raise table.error("kind", f"unknown adapter kind {kind!r} (known: http, python)")
    base_url = table.get("base_url", str, required=True)
    timeout_s = table.positive("timeout_s", 5.0)
    headers = _string_table(table, "headers", ())
    if kind == "python":
        target = table.get("class", str, required=True)
        if not re.fullmatch(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*|[\w.-]+", target):
            raise table.error(
                "class", f"must be 'package.module:ClassName' or an entry point name, got {target!r}"
            )
        try:
            load_class(target)
        except LookupError as exc:
            raise table.error("class", str(exc)) from None
        options = table.get("options", dict, {})
        table.no_unknown()
        return AdapterSpec("python", base_url, timeout_s, headers, python_class=target, options=dict(options))
    refused = _statuses(table, "refused", DEFAULT_REFUSED)
    values = _values(table.table("values"))
    states = _states(table.table("states"))
    operations_table = table.table("operations")
    operations = {}
    for name in list(operations_table.data):
        if name not in ARGUMENTS:
            raise operations_table.error(name, f"unknown operation (known: {', '.join(ARGUMENTS)})")
        operations[name] = _operation(name, operations_table.table(name), refused)
    operations_table.no_unknown()
    for name in REQUIRED_OPERATIONS:
        if name not in operations:
            raise operations_table.error(name, "is required: the order flow cannot be judged without it")
    stream_table = table.table("stream")
    stream = _stream(stream_table) if stream_table.data else None
    auth = parse_auth(table.table("auth"), tuple(operations))
    table.no_unknown()
    return AdapterSpec("http", base_url, timeout_s, headers, operations, values, states, stream, auth=auth)


ENTRY_POINTS = "stack_uat.adapters"


def load_class(target: str) -> type:
    """`module:Class`, or the name of an entry point in the `stack_uat.adapters` group."""
    import importlib
    from importlib.metadata import entry_points

    if ":" not in target:
        found = [ep for ep in entry_points(group=ENTRY_POINTS) if ep.name == target]
        if not found:
            known = ", ".join(sorted(ep.name for ep in entry_points(group=ENTRY_POINTS))) or "none"
            raise LookupError(f"no adapter entry point {target!r} in {ENTRY_POINTS} (installed: {known})")
        loaded = found[0].load()
    else:
        module_name, _, class_name = target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise LookupError(f"cannot import {module_name!r}: {exc}") from None
        loaded = getattr(module, class_name, None)
        if loaded is None:
            raise LookupError(f"module {module_name!r} has no {class_name!r}")
    if not isinstance(loaded, type):
        raise LookupError(f"{target!r} is not a class")
    return loaded


def _operation(name: str, table: Fields, refused: tuple[int, ...]) -> OperationSpec:
    method = table.get("method", str, required=True).upper()
    if method not in METHODS:
        raise table.error("method", f"must be one of {', '.join(METHODS)}, got {method!r}")
    path = table.get("path", str, required=True)
    if not path.startswith(("/", "http://", "https://")):
        raise table.error("path", f"must start with / (under base_url) or be an absolute URL, got {path!r}")
    allowed = ARGUMENTS[name]
    query = _string_table(table, "query", allowed)
    headers = _string_table(table, "headers", allowed)
    body = table.get("body", (dict, list, str))
    if body is not None:
        _check_template_tree(table, "body", body, allowed)
    _check_placeholders(table, "path", path, allowed)
    fields_table = table.table("fields")
    known = REQUIRED_FIELDS[name] + OPTIONAL_FIELDS[name]
    fields = {}
    for key in list(fields_table.data):
        if key not in known:
            raise fields_table.error(key, f"unknown field for {name} (known: {', '.join(known) or 'none'})")
        fields[key] = _expression(fields_table, key)
    fields_table.no_unknown()
    for key in REQUIRED_FIELDS[name]:
        if key not in fields:
            raise fields_table.error(key, f"is required: where the {key.replace('_', ' ')} is in the answer")
    items = _expression(table, "items") if name == "positions" and "items" in table.data else None
    if name == "positions" and items is None:
        raise table.error("items", "is required: where the list of position rows is in the answer")
    timeout = table.get("timeout_s", (int, float))
    if timeout is not None and timeout <= 0:
        raise table.error("timeout_s", f"must be a positive number, got {timeout:g}")
    statuses = _statuses(table, "refused", refused)
    table.no_unknown()
    return OperationSpec(
        name,
        method,
        path,
        query,
        headers,
        body,
        fields,
        items,
        frozenset(statuses),
        float(timeout) if timeout is not None else None,
    )


def _stream(table: Fields) -> StreamSpec:
    url = table.get("url", str, required=True)
    if not url.startswith(("ws://", "wss://")):
        raise table.error("url", f"must be a ws:// or wss:// URL, got {url!r}")
    _check_placeholders(table, "url", url, ("account", "symbols"))
    kind = _expression(table, "kind")
    quote = table.table("quote")
    quote_when = quote.get("when", str, "")
    quote_time = _expression(quote, "time") if "time" in quote.data else None
    shown = {key: _expression(quote, key) if key in quote.data else None for key in QUOTE_SHOWS}
    if any(shown.values()) and not all(shown[key] for key in ("symbol", "bid", "ask")):
        missing = next(key for key in ("symbol", "bid", "ask") if shown[key] is None)
        raise quote.error(missing, "a quote's prices are read only with its symbol, bid and ask all declared")
    quote.no_unknown()
    order = table.table("order")
    order_when = order.get("when", str, "")
    order_id = _expression(order, "client_order_id") if "client_order_id" in order.data else None
    order_status = _expression(order, "status") if "status" in order.data else None
    order.no_unknown()
    if order_when and (order_id is None or order_status is None):
        raise order.error("client_order_id", "an order message needs both client_order_id and status")
    table.no_unknown()
    return StreamSpec(
        url,
        kind,
        quote_when,
        quote_time,
        shown["symbol"],
        shown["bid"],
        shown["ask"],
        shown["stale"],
        order_when,
        order_id,
        order_status,
    )


def _expression(table: Fields, key: str) -> ParsedResult:
    text = table.get(key, str, required=True)
    try:
        return jmespath.compile(text)
    except JMESPathError as exc:
        message = str(exc).splitlines()[0]
        raise table.error(key, f"is not a valid JMESPath expression ({message}): {text!r}") from None


def _string_table(table: Fields, key: str, allowed: tuple[str, ...]) -> dict[str, str]:
    sub = table.table(key)
    out = {}
    for name in list(sub.data):
        value = sub.get(name, str, required=True)
        _check_placeholders(sub, name, value, allowed)
        out[name] = value
    return out


def _check_template_tree(table: Fields, where: str, node: Any, allowed: tuple[str, ...]) -> None:
    if isinstance(node, str):
        _check_placeholders(table, where, node, allowed)
    elif isinstance(node, dict):
        for key, value in node.items():
            _check_template_tree(table, f"{where}.{key}", value, allowed)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _check_template_tree(table, f"{where}[{index}]", value, allowed)


def _check_placeholders(table: Fields, key: str, text: str, allowed: tuple[str, ...]) -> None:
    for match in PLACEHOLDER.finditer(text):
        name, bar, form = match.group(1).partition("|")
        if bar and name in allowed:
            if form not in FORMATS:
                raise table.error(
                    key, f"unknown format |{form} in {{{match.group(0)[1:-1]}}} (known: {', '.join(FORMATS)})"
                )
            continue
        if name in allowed or name.split(".")[0] in TOPOLOGY_ROOTS:
            continue
        known = ", ".join(f"{{{a}}}" for a in allowed) or "none"
        raise table.error(
            key,
            f"unknown placeholder {{{name}}}; this operation's arguments: {known}; "
            f"topology roots: {', '.join(TOPOLOGY_ROOTS)}",
        )


def _statuses(table: Fields, key: str, default: tuple[int, ...]) -> tuple[int, ...]:
    values = table.get(key, list, list(default))
    for index, status in enumerate(values):
        if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
            raise table.error(f"{key}[{index}]", f"must be an HTTP status code, got {status!r}")
        if 200 <= status < 300:
            raise table.error(f"{key}[{index}]", f"{status} is a success, it cannot be a refusal")
    return tuple(values)


def _values(table: Fields) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for name in list(table.data):
        if name not in VALUE_MAPS:
            raise table.error(name, f"unknown value map (known: {', '.join(VALUE_MAPS)})")
        sub = table.table(name)
        mapping = {key: sub.get(key, str, required=True) for key in list(sub.data)}
        for key in mapping:
            if key not in VALUE_MAPS[name]:
                raise sub.error(key, f"unknown {name} (the harness's are {', '.join(VALUE_MAPS[name])})")
        out[name] = mapping
    return out


def _states(table: Fields) -> dict[str, str]:
    out = {}
    for name in list(table.data):
        value = table.get(name, str, required=True)
        if value not in ORDER_STATES:
            raise table.error(name, f"must be one of the harness's states {', '.join(ORDER_STATES)}")
        out[name] = value
    return out


__all__ = ["AdapterSpec", "OperationSpec", "StreamSpec", "TargetError", "parse_adapter"]

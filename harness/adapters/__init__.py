"""Adapters: the harness's few operations mapped onto a middleware's API, whatever its shape.

The target file declares one (`[adapter] kind = "http"`, or `kind = "python"` naming a class);
`build()` binds it to the running topology. Nothing else in the harness knows an API path."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .auth import API_KEY, AuthSpec, KeyRing
from .base import OPERATIONS, Adapter, BaseAdapter, invoke
from .http import HttpAdapter, HttpApi, Malformed, Request, bind
from .outcome import (
    KNOWN_STATES,
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
    view_json,
)
from .resend import resending_request
from .spec import AdapterSpec, OperationSpec, StreamSpec, load_class, parse_adapter


def build(
    spec: AdapterSpec,
    values: dict[str, Any],
    allowed_hosts: tuple[str, ...] = (),
    on_secret: Callable[[str], None] | None = None,
) -> Adapter:
    """The target's adapter, bound to the running topology (`values` fill its placeholders);
    `on_secret` learns each credential it is given later (a trader key it minted)."""
    if spec.kind == "http":
        return HttpAdapter(HttpApi(spec, values, allowed_hosts), on_secret)
    cls = load_class(spec.python_class)
    options = {k: bind(v, values) if isinstance(v, str) else v for k, v in spec.options.items()}
    adapter: Adapter = cls(
        bind(spec.base_url, values), options=options, timeout_s=spec.timeout_s, allowed_hosts=allowed_hosts
    )
    return adapter


__all__ = [
    "API_KEY",
    "KNOWN_STATES",
    "OPERATIONS",
    "ORDER_STATES",
    "AccountView",
    "AccountsView",
    "Adapter",
    "AdapterSpec",
    "AuthSpec",
    "BaseAdapter",
    "HealthView",
    "HttpAdapter",
    "HttpApi",
    "KeyRing",
    "KeyView",
    "Malformed",
    "OperationSpec",
    "OrderView",
    "Outcome",
    "OutcomeType",
    "PnlView",
    "PositionView",
    "PositionsView",
    "QuoteView",
    "Request",
    "StreamSpec",
    "bind",
    "build",
    "invoke",
    "parse_adapter",
    "resending_request",
    "view_json",
]

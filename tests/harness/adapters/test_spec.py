"""The [adapter] table: every mistake refused with the dotted key that holds it."""

from __future__ import annotations

import tomllib
from collections.abc import Callable

import pytest

from harness.target import TargetError, parse

from .conftest import TARGET


@pytest.mark.parametrize(
    ("edit", "field", "message"),
    [
        (
            lambda t: t.replace("[adapter.operations.health]", "[adapter.operations.heath]"),
            r"adapter\.operations\.heath",
            "unknown operation",
        ),
        (
            lambda t: t.replace('path = "/healthz"\n', 'path = "/healthz"\nmethod2 = "GET"\n'),
            r"adapter\.operations\.health\.method2",
            "unknown field",
        ),
        (
            lambda t: t.replace(
                'fields = { status = "data.state", filled_qty', 'fields = { status = "data.[", filled_qty'
            ),
            r"adapter\.operations\.order_status\.fields\.status",
            "not a valid JMESPath",
        ),
        (
            lambda t: t.replace('filled_qty = "data.filledQuantity"', 'filled = "data.filledQuantity"'),
            r"adapter\.operations\.order_status\.fields\.filled",
            "unknown field for order_status",
        ),
        (
            lambda t: t.replace('fields = { status = "data.state", filled_qty', "fields = { filled_qty"),
            r"adapter\.operations\.order_status\.fields\.status",
            "is required",
        ),
        (
            lambda t: t.replace('items = "data"\n', ""),
            r"adapter\.operations\.positions\.items",
            "is required",
        ),
        (
            lambda t: t.replace(
                "/api/v2/trading/orders/{client_order_id}", "/api/v2/trading/orders/{order_id}"
            ),
            r"adapter\.operations\.order_status\.path",
            r"unknown placeholder \{order_id\}",
        ),
        (
            lambda t: t.replace('instrument = "{symbol}"', 'instrument = "{symbl}"'),
            r"adapter\.operations\.place_order\.body\.instrument",
            r"unknown placeholder \{symbl\}",
        ),
        (
            lambda t: t.replace("Bearer {env.API_KEY}", "Bearer {env.API_TOKEN}"),
            r"adapter\.headers\.Authorization",
            r"\[env\] has API_KEY",
        ),
        (
            lambda t: t.replace('method = "GET"', 'method = "FETCH"', 1),
            r"adapter\.operations\.order_status\.method",
            "must be one of",
        ),
        (
            lambda t: t.replace('limitPrice = "{limit_price}"', 'limitPrice = "{limit_price|money}"'),
            r"adapter\.operations\.place_order\.body\.limitPrice",
            r"unknown format \|money",
        ),
        (
            lambda t: t.replace('FILLED = "filled"', 'FILLED = "done"'),
            r"adapter\.states\.FILLED",
            "harness's states",
        ),
        (lambda t: t.replace('BUY = "buy"', 'LONG = "buy"'), r"adapter\.values\.side\.LONG", "unknown side"),
        (
            lambda t: t.replace('base_url = "http', 'refused = [404, 200]\nbase_url = "http'),
            r"adapter\.refused\[1\]",
            "200 is a success",
        ),
        (
            lambda t: t.split("[adapter.operations.health]")[0],
            r"adapter\.operations\.health",
            "is required",
        ),
        (
            lambda t: t.replace('bid = "data.bestBid", ', ""),
            r"adapter\.operations\.quote\.fields\.bid",
            "is required",
        ),
        (
            lambda t: (
                t
                + '[adapter.stream]\nurl = "ws://x/ws"\nkind = "t"\n'
                + '[adapter.stream.quote]\nwhen = "q"\nbid = "b"\n'
            ),
            r"adapter\.stream\.quote\.symbol",
            "symbol, bid and ask all declared",
        ),
        (
            lambda t: t.replace(
                'base_url = "http', 'kind = "python"\nclass = "no_such_module:X"\nbase_url = "http'
            ),
            r"adapter\.class",
            "cannot import 'no_such_module'",
        ),
        (
            lambda t: t.replace(
                'base_url = "http', 'kind = "python"\nclass = "harness.adapters:Nope"\nbase_url = "http'
            ),
            r"adapter\.class",
            "has no 'Nope'",
        ),
    ],
)
def test_each_bad_adapter_key_is_named(edit: Callable[[str], str], field: str, message: str) -> None:
    with pytest.raises(TargetError, match=rf"agency\.toml: {field}: .*{message}"):
        parse(tomllib.loads(edit(TARGET)), "agency.toml")


def test_a_coded_adapter_is_named_by_class() -> None:
    head = TARGET.split("[adapter]")[0]
    text = head + (
        '[adapter]\nkind = "python"\nclass = "harness.adapters.example:ReferenceCodeAdapter"\n'
        'base_url = "http://127.0.0.1:{port}"\noptions = { account_path = "/v1/accounts" }\n'
    )
    spec = parse(tomllib.loads(text), "agency.toml").adapter
    assert spec.kind == "python" and spec.options == {"account_path": "/v1/accounts"}
    assert spec.supports("cancel_order")

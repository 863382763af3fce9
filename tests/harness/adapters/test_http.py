"""The declared HTTP adapter against a scripted API of another shape than the reference's: requests
built from the templates, answers read through JMESPath, and blame where it belongs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from harness.adapters import HttpAdapter, invoke
from harness.netguard import TargetRefused
from harness.ports import free_port

from .conftest import TARGET, StandIn

Make = Callable[..., HttpAdapter]
ORDER: dict[str, Any] = dict(
    account="A-1", symbol="ESZ6", side="BUY", qty=2, order_type="MARKET", client_order_id="c/1"
)


def test_an_order_is_sent_in_the_apis_own_words(stand_in: StandIn, declared: Make) -> None:
    stand_in.script[("POST", "/api/v2/trading/orders")] = (201, {"data": {"state": "NEW"}}, 0)
    outcome = declared().place_order(**ORDER)
    assert outcome.ok and outcome.order is not None and outcome.order.status == "pending"
    (request,) = stand_in.seen
    # the harness's values mapped, qty kept a number, the absent limit price left out
    assert request["json"] == {
        "accountId": "A-1",
        "instrument": "ESZ6",
        "direction": "buy",
        "quantity": 2,
        "orderType": "market",
        "clientRef": "ref:c/1",
    }
    assert request["headers"]["Authorization"] == "Bearer k-123456-secret"


def test_a_limit_price_is_sent_when_there_is_one(stand_in: StandIn, declared: Make) -> None:
    stand_in.script[("POST", "/api/v2/trading/orders")] = (201, {"data": {"state": "WORKING"}}, 0)
    outcome = declared().place_order(**{**ORDER, "order_type": "LIMIT", "limit_price": 6000.25})
    assert outcome.order is not None and outcome.order.status == "working"
    assert stand_in.seen[0]["json"]["limitPrice"] == 6000.25
    assert stand_in.seen[0]["json"]["orderType"] == "limit"


def test_path_arguments_are_escaped(stand_in: StandIn, declared: Make) -> None:
    stand_in.script[("GET", "/api/v2/trading/orders/c%2F1")] = (
        200,
        {"data": {"state": "PARTIALLY_FILLED", "filledQuantity": "1.0"}},
        0,
    )
    outcome = declared().order_status("c/1")
    assert outcome.order is not None
    assert (outcome.order.status, outcome.order.filled_qty) == ("partially_filled", 1)


def test_an_average_fill_price_is_read_where_the_api_gives_one(stand_in: StandIn, declared: Make) -> None:
    path = ("GET", "/api/v2/trading/orders/c%2F1")
    stand_in.script[path] = (
        200,
        {"data": {"state": "FILLED", "filledQuantity": 3, "avgPrice": "6800.25"}},
        0,
    )
    order = declared().order_status("c/1").order
    assert order is not None and order.avg_price == 6800.25
    stand_in.script[path] = (200, {"data": {"state": "WORKING", "filledQuantity": 0}}, 0)
    order = declared().order_status("c/1").order
    assert order is not None and order.avg_price is None, "no fill yet: no average"
    stand_in.script[path] = (200, {"data": {"state": "FILLED", "avgPrice": "n/a"}}, 0)
    garbled = declared().order_status("c/1")
    assert garbled.type == "fail" and "avg_price" in garbled.malformed


def test_risk_limits_are_set_in_the_apis_own_words(stand_in: StandIn, declared: Make) -> None:
    stand_in.script[("PUT", "/api/v2/accounts/A-1/risk")] = (204, None, 0)
    outcome = declared().set_limits("A-1", max_order_qty=3, max_position=6, daily_loss_limit=1500.0)
    assert outcome.ok, outcome
    assert stand_in.seen[0]["json"] == {"maxOrderSize": 3, "maxPosition": 6, "dailyLoss": {"usd": 1500.0}}
    stand_in.script[("PUT", "/api/v2/accounts/A-1/risk")] = (422, {"error": "too high"}, 0)
    refused = invoke(
        declared(),
        "set_limits",
        {"account": "A-1", "max_order_qty": 3, "max_position": 6, "daily_loss_limit": 1},
    )
    assert refused.type == "fail" and refused.status == 422


def test_an_account_is_routed_to_a_venue_in_the_apis_own_words(stand_in: StandIn, declared: Make) -> None:
    stand_in.script[("POST", "/api/v2/accounts/A-1/route")] = (200, {"ok": True}, 0)
    outcome = invoke(declared(), "route_account", {"account": "A-1", "venue": "cqg"})
    assert outcome.ok, outcome
    assert stand_in.seen[0]["json"] == {"executionVenue": "cqg"}
    stand_in.script[("POST", "/api/v2/accounts/A-1/route")] = (400, {"error": "unknown venue"}, 0)
    refused = declared().route_account("A-1", "mt5")
    assert refused.type == "fail" and refused.status == 400


def test_a_quote_is_read_in_the_harness_words_with_the_symbol_asked_for(
    stand_in: StandIn, declared: Make
) -> None:
    path = ("GET", "/api/v2/md/ESZ6")
    stand_in.script[path] = (200, {"data": {"bestBid": "6800.25", "bestAsk": 6800.5, "isStale": False}}, 0)
    shown = declared().quote("ESZ6").quote
    assert shown is not None
    assert (shown.symbol, shown.bid, shown.ask, shown.stale) == ("ESZ6", 6800.25, 6800.5, False)
    stand_in.script[path] = (200, {"data": {"bestBid": None, "bestAsk": 6800.5}}, 0)
    one_sided = declared().quote("ESZ6").quote
    assert one_sided is not None and one_sided.bid is None and one_sided.stale is None
    stand_in.script[path] = (200, {"data": {"bestBid": 1, "bestAsk": 2, "isStale": "no"}}, 0)
    garbled = declared().quote("ESZ6")
    assert garbled.type == "fail" and "stale" in garbled.malformed
    stand_in.script[path] = (503, {"error": "no fresh quote"}, 0)
    refused = invoke(declared(), "quote", {"symbol": "ESZ6"})
    assert refused.type == "fail" and refused.status == 503 and refused.quote is None


def test_an_accounts_pnl_is_read_as_money(stand_in: StandIn, declared: Make) -> None:
    path = ("GET", "/api/v2/accounts/A-1/pnl")
    stand_in.script[path] = (200, {"data": {"realised": {"usd": "-112.50"}, "unrealised": {"usd": "25"}}}, 0)
    pnl = invoke(declared(), "account_pnl", {"account": "A-1"}).pnl
    assert pnl is not None and (pnl.realized, pnl.unrealized) == (-112.5, 25.0)
    stand_in.script[path] = (200, {"data": {"unrealised": {"usd": "25"}}}, 0)
    missing = declared().account_pnl("A-1")
    assert missing.type == "fail" and "realized" in missing.malformed


def test_a_stream_quote_shows_its_prices_where_the_target_declares_them(declared: Make) -> None:
    text = TARGET + (
        '[adapter.stream]\nurl = "ws://127.0.0.1:{port}/ws"\nkind = "t"\n'
        '[adapter.stream.quote]\nwhen = "q"\nsymbol = "s"\nbid = "b[0]"\nask = "a[0]"\nstale = "old"\n'
    )
    adapter = declared(text)
    shown = adapter.stream_quote({"t": "q", "s": "NQZ6", "b": ["21000.5"], "a": [21000.75], "old": True})
    assert shown is not None and (shown.symbol, shown.bid, shown.ask, shown.stale) == (
        "NQZ6",
        21000.5,
        21000.75,
        True,
    )
    assert adapter.stream_quote({"t": "order"}) is None, "not a quote"
    bare = declared(TARGET + '[adapter.stream]\nurl = "ws://127.0.0.1:{port}/ws"\nkind = "t"\n')
    assert bare.stream_quote({"t": "q", "s": "NQZ6"}) is None, "no prices declared: nothing to read"


@pytest.mark.parametrize(
    ("status", "kind"),
    [(201, "ok"), (422, "fail"), (503, "fail"), (429, "fail"), (504, "info"), (500, "info")],
)
def test_each_status_is_classified(stand_in: StandIn, declared: Make, status: int, kind: str) -> None:
    stand_in.script[("POST", "/api/v2/trading/orders")] = (status, {"data": {"state": "NEW"}}, 0)
    outcome = declared().place_order(**ORDER)
    assert (outcome.type, outcome.status) == (kind, status)


def test_a_timeout_leaves_the_outcome_unknown(stand_in: StandIn, declared: Make) -> None:
    stand_in.script[("POST", "/api/v2/trading/orders")] = (201, {}, 1.0)
    outcome = declared(timeout_s=0.2).place_order(**ORDER)
    assert outcome.type == "info" and outcome.status is None and "Timeout" in outcome.error


def test_nothing_listening_is_a_definite_failure(declared: Make) -> None:
    text = TARGET.replace(
        'base_url = "http://127.0.0.1:{port}"', f'base_url = "http://127.0.0.1:{free_port()}"'
    )
    outcome = declared(text).health()
    assert outcome.type == "fail" and outcome.status is None and "connect" in outcome.error


def test_positions_are_read_row_by_row(stand_in: StandIn, declared: Make) -> None:
    rows = [
        {"instrument": "ESZ6", "netQuantity": -3, "venue": "RITHMIC"},
        {"instrument": "NQZ6", "netQuantity": "2", "venue": "TT"},
    ]
    stand_in.script[("GET", "/api/v2/accounts/A-1/positions")] = (200, {"data": rows}, 0)
    positions = declared().positions("A-1").positions
    assert positions is not None
    assert [(p.symbol, p.net_qty, p.venue) for p in positions] == [("ESZ6", -3, "rithmic"), ("NQZ6", 2, "tt")]


@pytest.mark.parametrize(
    ("rows", "reason"),
    [
        ([{"instrument": "ESZ6", "venue": "RITHMIC"}], "row 0: net_qty ('netQuantity') is not in the answer"),
        ([{"instrument": "ESZ6", "netQuantity": 1.5}], "net_qty is not a whole quantity"),
        ([{"instrument": "ESZ6", "netQuantity": True}], "net_qty is a boolean"),
        ({"not": "a list"}, "is not a list in the answer"),
    ],
)
def test_a_position_the_fields_cannot_read_is_a_failed_read_with_evidence(
    stand_in: StandIn, declared: Make, rows: object, reason: str
) -> None:
    stand_in.script[("GET", "/api/v2/accounts/A-1/positions")] = (200, {"data": rows}, 0)
    outcome = declared().positions("A-1")
    assert outcome.type == "fail" and outcome.positions is None
    assert reason in outcome.malformed
    assert outcome.evidence()["answer"] == {"data": rows}


def test_an_order_state_the_target_never_declared_is_malformed(stand_in: StandIn, declared: Make) -> None:
    stand_in.script[("GET", "/api/v2/trading/orders/c1")] = (200, {"data": {"state": "LIMBO"}}, 0)
    outcome = declared().order_status("c1")
    assert outcome.type == "fail" and "'LIMBO' is not declared in [adapter.states]" in outcome.malformed


def test_an_order_taken_with_a_garbled_answer_is_still_taken(stand_in: StandIn, declared: Make) -> None:
    stand_in.script[("POST", "/api/v2/trading/orders")] = (201, "<html>ok</html>", 0)
    outcome = declared().place_order(**ORDER)
    assert outcome.ok and outcome.malformed and outcome.order is None


def test_account_fields_may_be_computed_by_the_expression(stand_in: StandIn, declared: Make) -> None:
    body = {
        "data": {
            "id": "A-1",
            "canTrade": True,
            "tt": {"state": "ACTIVE"},
            "payments": [{"invoice": "in_1"}, {"invoice": "in_1"}],
        }
    }
    stand_in.script[("GET", "/api/v2/accounts/A-1")] = (200, body, 0)
    view = declared().account("A-1").account
    assert view is not None
    assert (view.account_id, view.trading_enabled, view.tt_status) == ("A-1", True, "provisioned")
    assert view.payment_invoices == ("in_1", "in_1")
    stand_in.script[("GET", "/api/v2/accounts/A-1")] = (200, {"data": {**body["data"], "canTrade": "yes"}}, 0)
    assert "trading_enabled is not true or false" in declared().account("A-1").malformed


def test_accounts_of_a_customer(stand_in: StandIn, declared: Make) -> None:
    stand_in.script[("GET", "/api/v2/customers/cus_1/accounts")] = (
        200,
        {"data": [{"id": 7}, {"id": "B"}]},
        0,
    )
    assert declared().accounts_for_customer("cus_1").accounts == ("7", "B")
    stand_in.script[("GET", "/api/v2/customers/cus_1/accounts")] = (200, {"data": None}, 0)
    assert declared().accounts_for_customer("cus_1").accounts is None


def test_an_operation_the_target_does_not_declare(declared: Make) -> None:
    adapter = declared()
    assert not adapter.supports("cancel_order") and not adapter.supports("stream")
    assert not adapter.supports("quote_age")  # its health answer says nothing of quotes
    outcome = adapter.cancel_order("c1")
    assert outcome.type == "fail" and "declares no cancel_order" in outcome.error


def test_header_values_are_known_secrets(declared: Make) -> None:
    assert "Bearer k-123456-secret" in declared().api.secrets


def test_an_absolute_operation_url_off_loopback_is_refused_when_bound(declared: Make) -> None:
    text = TARGET.replace('path = "/healthz"', 'path = "http://{env.HOST}/healthz"').replace(
        'API_KEY = "k-123456-secret"', 'API_KEY = "k-123456-secret"\nHOST = "192.0.2.7"'
    )
    with pytest.raises(TargetRefused, match=r"adapter.operations.health.path"):
        declared(text)


def test_invoke_speaks_the_templates_vocabulary_for_every_adapter(stand_in: StandIn, declared: Make) -> None:
    stand_in.script[("GET", "/api/v2/accounts/A-1")] = (200, {"data": {"id": "A-1"}}, 0)
    stand_in.script[("GET", "/api/v2/customers/cus_9/accounts")] = (200, {"data": [{"id": "A-1"}]}, 0)
    adapter = declared()
    view = invoke(adapter, "account", {"account": "A-1"}).account
    assert view is not None and view.account_id == "A-1"
    assert invoke(adapter, "accounts_for_customer", {"customer": "cus_9"}).accounts == ("A-1",)
    with pytest.raises(ValueError, match="unknown operation 'acount'"):
        invoke(adapter, "acount", {})


def test_a_price_can_be_sent_as_a_decimal_string(stand_in: StandIn, declared: Make) -> None:
    stand_in.script[("POST", "/api/v2/trading/orders")] = (201, {"data": {"state": "NEW"}}, 0)
    text = TARGET.replace('limitPrice = "{limit_price}"', 'limitPrice = "{limit_price|decimal}"')
    declared(text).place_order(**{**ORDER, "order_type": "LIMIT", "limit_price": 6800.25})
    declared(text).place_order(**ORDER)  # a market order: no price, so no key
    (limit, market) = stand_in.seen
    assert limit["json"]["limitPrice"] == "6800.25" and "limitPrice" not in market["json"]

"""Issue 4's acceptance list for the healthy build, against the real mocks through the proxies."""

from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from websockets.sync.client import connect

from harness.load.identities import identity
from harness.testing import reference_adapter

from .conftest import Env, wait_for


@pytest.fixture
def fresh(env: Env) -> Env:
    env.restart()
    return env


def test_onboarding_by_stripe_webhook_creates_trader_and_account_and_provisions_it_at_tt(fresh: Env) -> None:
    customer, account_id = fresh.onboard()
    info = fresh.account_info(account_id).json()
    assert info["customer_id"] == customer and info["trader_id"]
    assert info["trading_enabled"] is True and info["subscription"]["status"] == "active"
    tt_accounts = fresh.http.get(f"{fresh.tt_ctl}/tt/accounts").json()["accounts"]
    provisioned = [a for a in tt_accounts if a["name"] == account_id]
    assert len(provisioned) == 1, tt_accounts
    assert provisioned[0]["id"] == info["tt"]["account_id"]
    assert provisioned[0]["riskLimitsCount"] == 1, "risk limits were not provisioned at TT"


def test_an_order_flows_to_a_fill_and_the_position_matches_the_venue_ledger(fresh: Env) -> None:
    response = fresh.order("flow-1", qty=3)
    assert response.status_code == 202, response.text
    assert response.json()["status"] in ("working", "filled", "partially_filled")
    order = wait_for(lambda: fresh.get_order("flow-1"), lambda o: o["status"] == "filled", 10)
    assert order["filled_qty"] == 3, order
    sell = fresh.order("flow-2", side="SELL", qty=1, symbol="CLF7")
    assert sell.status_code == 202, sell.text
    wait_for(lambda: fresh.get_order("flow-2"), lambda o: o["status"] == "filled", 10)
    ours = fresh.positions()
    assert ours == {"ESZ6": 3, "CLF7": -1}
    assert ours == fresh.venue_positions()
    fills = [f for f in fresh.ledger()["fills"] if f["client_tag"] == "flow-1" and not f["duplicate_of"]]
    assert sum(f["qty"] for f in fills) == 3


def test_the_same_client_order_id_twice_reaches_the_venue_once(fresh: Env) -> None:
    first = fresh.order("dup-1", qty=2)
    again = fresh.order("dup-1", qty=2)
    assert first.status_code == 202 and again.status_code == 202
    assert again.json()["venue_order_id"] == first.json()["venue_order_id"]
    with ThreadPoolExecutor(8) as pool:  # and a burst of concurrent retries of a new one
        answers = list(pool.map(lambda _: fresh.order("dup-2"), range(8)))
    assert {a.status_code for a in answers} == {202}
    assert len({a.json()["client_order_id"] for a in answers}) == 1
    time.sleep(0.5)
    assert len(fresh.venue_orders("dup-1")) == 1
    assert len(fresh.venue_orders("dup-2")) == 1
    assert fresh.positions() == {"ESZ6": 3}


def test_rithmic_down_gives_fast_503_while_admin_and_webhooks_stay_up(fresh: Env) -> None:
    with fresh.proxy("rithmic").down():
        health = wait_for(fresh.health, lambda h: h["venues"]["rithmic"]["status"] == "down", 10)
        assert health["status"] == "degraded"
        started = time.monotonic()
        response = fresh.order("down-1", timeout=5)
        elapsed_ms = (time.monotonic() - started) * 1000
        assert response.status_code == 503, response.text
        assert elapsed_ms < fresh.slo.fast_reject_ms, f"503 took {elapsed_ms:.0f} ms"
        assert fresh.account_info(fresh.account).status_code == 200
        _, account_id = fresh.onboard()  # onboarding and TT provisioning do not need Rithmic
        assert fresh.account_info(account_id).status_code == 200
        assert fresh.venue_orders("down-1") == []
    recovered = wait_for(
        lambda: fresh.order("down-1"), lambda r: r.status_code == 202, fresh.slo.recovery_s, 0.5
    )
    assert recovered.status_code == 202, "the same client_order_id must go through once the venue is back"


def test_fills_made_while_the_order_plant_was_cut_off_appear_after_it_comes_back(fresh: Env) -> None:
    fresh.arm(fresh.rithmic_ctl, "hold_fills", {"delay_ms": 1500}, count=1)
    response = fresh.order("cut-1", qty=2)
    assert response.status_code == 202, response.text
    with fresh.proxy("rithmic").down():
        fills = wait_for(
            lambda: [f for f in fresh.ledger()["fills"] if f["client_tag"] == "cut-1"], lambda f: bool(f), 10
        )
        assert fills, "the venue never filled the order"
        time.sleep(0.3)
        assert fresh.positions() == {}, "the fill cannot be known while the venue is unreachable"
    ours = wait_for(fresh.positions, lambda p: p == {"ESZ6": 2}, fresh.slo.fill_visible_s)
    assert ours == fresh.venue_positions() == {"ESZ6": 2}
    assert fresh.get_order("cut-1")["status"] == "filled"


def test_risk_rejects_are_422_and_reach_nothing(fresh: Env) -> None:
    patch = fresh.http.patch(f"{fresh.base}/v1/accounts/{fresh.account}", json={"max_position": 2})
    assert patch.status_code == 200, patch.text
    too_big = fresh.order("risk-1", qty=3)
    assert too_big.status_code == 422 and "position" in too_big.json()["reason"]
    fresh.http.patch(f"{fresh.base}/v1/accounts/{fresh.account}", json={"trading_enabled": False})
    disabled = fresh.order("risk-2")
    assert disabled.status_code == 422 and "disabled" in disabled.json()["reason"]
    assert fresh.order("risk-2").status_code == 422, "a repeat of a rejected order is the same rejection"
    assert fresh.venue_orders("risk-1") == [] and fresh.venue_orders("risk-2") == []
    bad = fresh.order("risk-3", side="SIDEWAYS")
    assert bad.status_code == 400 and bad.json()["field"] == "side"


def test_money_is_taken_as_a_decimal_string_and_a_float_is_refused_naming_the_field(fresh: Env) -> None:
    order = {"account": fresh.account, "symbol": "ESZ6", "side": "BUY", "qty": 1, "type": "LIMIT"}
    url = f"{fresh.base}/v1/orders"
    for price in (6000.5, "0", "0.00", "-5", "6e3", "1" * 25):
        refused = fresh.http.post(url, json={**order, "client_order_id": "px-bad", "limit_price": price})
        assert refused.status_code == 400 and refused.json()["field"] == "limit_price", (price, refused.text)
    taken = fresh.http.post(url, json={**order, "client_order_id": "px-ok", "limit_price": "6000.25"})
    assert taken.status_code == 202 and fresh.venue_orders("px-bad") == []
    account = f"{fresh.base}/v1/accounts/{fresh.account}"
    assert fresh.http.patch(account, json={"daily_loss_limit": 1500}).json()["field"] == "daily_loss_limit"
    patched = fresh.http.patch(account, json={"daily_loss_limit": "1500.00"})
    assert patched.status_code == 200 and patched.json()["risk_limits"]["daily_loss_limit"] == 1500.0


def test_onboarded_trader_without_active_subscription_cannot_trade(fresh: Env) -> None:
    customer = f"cus_{uuid.uuid4().hex[:14]}"
    fresh.stripe_send(["checkout.session.completed", "customer.subscription.created"], customer)
    account_id = fresh.accounts_of(customer)[0]
    assert fresh.order("sub-1", account=account_id).status_code == 202
    fresh.stripe_send(["customer.subscription.deleted"], customer)
    assert fresh.account_info(account_id).json()["trading_enabled"] is False
    assert fresh.order("sub-2", account=account_id).status_code == 422


def test_stream_carries_quotes_and_order_updates(fresh: Env) -> None:
    url = fresh.base.replace("http://", "ws://") + "/v1/stream"
    seen: set[str] = set()
    with connect(url, open_timeout=5, additional_headers=fresh.auth_headers()) as ws:
        fresh.order("ws-1")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not {"quote", "order"} <= seen:
            message = json.loads(ws.recv(timeout=5))
            seen.add(message["type"])
            if message["type"] == "order":
                assert message["order"]["client_order_id"] == "ws-1"
    assert {"quote", "order"} <= seen


def test_stream_for_an_account_carries_only_that_accounts_orders(fresh: Env) -> None:
    """At 5,000 traders every order update to every client would swamp both sides."""
    base = fresh.base.replace("http://", "ws://") + "/v1/stream"
    with (
        connect(
            f"{base}?account=someone-else", open_timeout=5, additional_headers=fresh.auth_headers()
        ) as other,
        connect(
            f"{base}?account={fresh.account}", open_timeout=5, additional_headers=fresh.auth_headers()
        ) as mine,
    ):
        fresh.order("ws-mine")
        mine_types: set[str] = set()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and "order" not in mine_types:
            mine_types.add(json.loads(mine.recv(timeout=5))["type"])
        assert "order" in mine_types
        other_types = set()
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            other_types.add(json.loads(other.recv(timeout=5))["type"])
        assert other_types == {"quote"}


def test_health_shows_the_collector_tuned_for_thousands_of_connections(fresh: Env) -> None:
    gc = fresh.health()["gc"]
    assert gc["young_threshold"] == 50_000, gc
    assert set(gc) == {"young_threshold", "full_collections", "longest_pause_ms"}, gc


def test_openapi_lists_the_contract(fresh: Env) -> None:
    spec = fresh.http.get(f"{fresh.base}/openapi.json").json()
    for path in ("/v1/orders", "/v1/orders/{client_order_id}", "/v1/positions", "/v1/accounts/{account_id}"):
        assert path in spec["paths"]
    assert "/v1/webhooks/stripe" in spec["paths"] and "/health" in spec["paths"]


def test_a_working_limit_order_is_cancelled_at_the_venue_and_never_fills(fresh: Env) -> None:
    placed = fresh.order("cxl-1", type="LIMIT", limit_price=5000.0, qty=2)  # far below the market
    assert placed.status_code == 202 and placed.json()["status"] == "working", placed.text
    adapter = reference_adapter(fresh.base, fresh.admin_key)
    try:
        outcome = adapter.cancel_order("cxl-1")
    finally:
        adapter.close()
    assert outcome.ok and outcome.status == 202, outcome
    assert outcome.body["client_order_id"] == "cxl-1"
    order = wait_for(lambda: fresh.get_order("cxl-1"), lambda o: o["status"] == "cancelled", 10)
    assert order["status"] == "cancelled" and order["filled_qty"] == 0, order
    assert [o["status"] for o in fresh.venue_orders("cxl-1")] == ["cancelled"]
    assert not [f for f in fresh.ledger()["fills"] if f["client_tag"] == "cxl-1"]
    assert fresh.positions() == {}
    again = fresh.http.delete(f"{fresh.base}/v1/orders/cxl-1")
    assert again.status_code == 409 and again.json()["order"]["status"] == "cancelled", again.text


def test_cancel_of_an_unknown_or_filled_order_is_refused(fresh: Env) -> None:
    unknown = fresh.http.delete(f"{fresh.base}/v1/orders/no-such-order")
    assert unknown.status_code == 404 and unknown.json()["field"] == "client_order_id"
    assert fresh.order("cxl-2").status_code == 202
    wait_for(lambda: fresh.get_order("cxl-2"), lambda o: o["status"] == "filled", 10)
    filled = fresh.http.delete(f"{fresh.base}/v1/orders/cxl-2")
    assert filled.status_code == 409, filled.text
    assert filled.json()["order"]["status"] == "filled" and filled.json()["order"]["filled_qty"] == 1
    assert fresh.positions() == {"ESZ6": 1} == fresh.venue_positions()


def test_cancel_while_rithmic_is_down_is_a_fast_503_and_works_once_it_is_back(fresh: Env) -> None:
    assert fresh.order("cxl-3", type="LIMIT", limit_price=5000.0).status_code == 202
    with fresh.proxy("rithmic").down():
        wait_for(fresh.health, lambda h: h["venues"]["rithmic"]["status"] == "down", 10)
        started = time.monotonic()
        refused = fresh.http.delete(f"{fresh.base}/v1/orders/cxl-3", timeout=5)
        elapsed_ms = (time.monotonic() - started) * 1000
        assert refused.status_code == 503, refused.text
        assert elapsed_ms < fresh.slo.fast_reject_ms, f"503 took {elapsed_ms:.0f} ms"
    accepted = wait_for(
        lambda: fresh.http.delete(f"{fresh.base}/v1/orders/cxl-3"),
        lambda r: r.status_code == 202,
        fresh.slo.recovery_s,
        0.5,
    )
    assert accepted.status_code == 202, accepted.text
    order = wait_for(lambda: fresh.get_order("cxl-3"), lambda o: o["status"] == "cancelled", 10)
    assert order["status"] == "cancelled"


def test_onboarding_records_the_traders_name_and_email_from_the_checkout(fresh: Env) -> None:
    who = identity(5, 42)
    sent = fresh.stripe_send(
        ["checkout.session.completed", "customer.subscription.created"],
        who.customer_id,
        metadata=who.metadata(),
    )
    assert all(d["status"] == 200 for d in sent["deliveries"]), sent
    account_id = fresh.accounts_of(who.customer_id)[0]
    trader = fresh.account_info(account_id).json()["trader"]
    assert trader == {"name": who.name, "email": who.email, "country": who.country}

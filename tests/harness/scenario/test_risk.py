"""The risk plan the runner hands the risk checkers, built from a hand-made run (fast: no topology)."""

from __future__ import annotations

from typing import Any

from harness.checks.ledger import RiskPlan
from harness.scenario import Limits, Scenario, action, protocol
from harness.scenario.risk import disabled_at, instrument_specs, risk_plan
from harness.target import Slo
from harness.timeline import Timeline

from .fakes import make_scenario

HALT = protocol("rithmic", "halt", symbol="ESZ6", for_s=6.0)
CANCEL = action("stripe", "stripe_send", customer="trader", types=("customer.subscription.deleted",))


def scenario(**extra: Any) -> Scenario:
    return make_scenario(**({"schedule": (HALT,)} | extra))


def delivery(kind: str, status: int | None, at: float) -> dict[str, Any]:
    return {"event_type": kind, "status": status, "sent_at": at}


def test_trading_stops_for_a_customers_accounts_when_the_cancellation_is_acknowledged() -> None:
    sends = [
        {"customer": "cus_a", "deliveries": [delivery("customer.subscription.deleted", 500, 10.0)]},
        {"customer": "cus_a", "deliveries": [delivery("customer.subscription.deleted", 200, 12.0)]},
        {"customer": "cus_b", "deliveries": [delivery("invoice.paid", 200, 11.0)]},
        {"customer": "cus_c", "deliveries": [delivery("customer.subscription.deleted", None, 13.0)]},
    ]
    customers = {"ACC-1": "cus_a", "ACC-2": "cus_b", "ACC-3": "cus_c", "ACC-4": "cus_a"}
    # a refused (500) or undelivered send changes nothing; another event type is not a cancellation
    assert disabled_at(sends, customers) == {"ACC-1": 12.0, "ACC-4": 12.0}


def test_instruments_are_read_from_the_rithmic_mocks_description() -> None:
    described = {
        "symbols": [
            {"symbol": "ESZ6", "exchange": "CME", "point_value": 50.0, "fee_per_contract": 2.25},
            {"symbol": "XX", "exchange": "CME"},  # a mock that says nothing of money
        ]
    }
    assert instrument_specs(described) == {"ESZ6": {"point_value": 50.0, "fee_per_contract": 2.25}, "XX": {}}


def test_a_scenario_without_limits_has_no_plan() -> None:
    plan = risk_plan(
        scenario(),
        accounts=["A"],
        customers={},
        webhook_sends=[],
        timeline=Timeline(),
        slo=Slo(),
        rithmic={},
    )
    assert plan is None


def test_the_plan_carries_limits_tolerance_money_and_the_stale_windows_in_epoch_seconds() -> None:
    timeline = Timeline(started=0.0)
    window = timeline.begin(HALT.label, kind="protocol", target="rithmic")
    window.start, window.end = 4.0, 10.0
    other = timeline.begin(CANCEL.label, kind="action", target="stripe")
    other.start, other.end = 1.0, 2.0
    s = scenario(
        schedule=(HALT, CANCEL),
        limits=Limits(max_order_qty=3, daily_loss_limit=900),
        stale_during=("rithmic:halt",),
    )
    plan = risk_plan(
        s,
        accounts=["A", "B"],
        customers={"A": "cus_a"},
        webhook_sends=[
            {"customer": "cus_a", "deliveries": [delivery("customer.subscription.deleted", 200, 5.0)]}
        ],
        timeline=timeline,
        slo=Slo(stale_quote_s=2.5, risk_in_flight_ms=250),
        rithmic={"symbols": [{"symbol": "ESZ6", "point_value": 50.0, "fee_per_contract": 2.25}]},
    )
    assert plan is not None
    assert plan["limits"] == {
        "A": {"max_order_qty": 3, "max_position": 50, "daily_loss_limit": 900},
        "B": {"max_order_qty": 3, "max_position": 50, "daily_loss_limit": 900},
    }
    assert plan["disabled_at"] == {"A": 5.0} and plan["in_flight_s"] == 0.25
    zero = plan["epoch0"]
    assert plan["stale"]["bound_s"] == 2.5
    # only the halt's window is stale market data, shifted from run-clock to epoch seconds
    assert plan["stale"]["windows"] == [[zero + 4.0, zero + 10.0]]
    typed = RiskPlan.from_extras({"risk": plan})  # what the checkers read
    assert typed is not None and typed.limits["B"].max_order_qty == 3
    assert typed.instruments["ESZ6"].fee_per_contract == 2.25
    assert typed.stale is not None and typed.stale.windows == ((zero + 4.0, zero + 10.0),)


def test_limits_and_cancels_are_needs_a_target_must_offer() -> None:
    s = scenario(limits=Limits(), cancel_after_s=0.5)
    assert {"set_limits", "cancel_order"} <= set(s.requires)
    assert "set_limits" not in scenario().requires

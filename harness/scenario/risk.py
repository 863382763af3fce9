"""The risk suite's half of a run: the limits set on every account before trading, and the plan the
risk checkers hold the venue's ledger against (limits, when trading was turned off, the in-flight
tolerance, the instruments' money, the windows of stale market data)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from ..adapters import Adapter
from ..target import Slo
from ..timeline import Timeline
from .evidence import fault_windows
from .model import Limits, Scenario
from .result import MiddlewareFault

# Stripe events after which the customer may no longer trade.
DISABLING_EVENTS = frozenset({"customer.subscription.deleted"})


def apply_limits(adapter: Adapter, accounts: Sequence[str], limits: Limits) -> None:
    """Every account gets the scenario's limits; a middleware that will not take them fails
    `set_limits` with its answer (its limits would otherwise be unknown to the checkers)."""
    for account in accounts:
        outcome = adapter.set_limits(
            account,
            max_order_qty=limits.max_order_qty,
            max_position=limits.max_position,
            daily_loss_limit=limits.daily_loss_limit,
        )
        if not outcome.ok:
            raise MiddlewareFault(
                "set_limits",
                f"the middleware refused the scenario's risk limits for account {account}",
                [{"account": account, "limits": limits.to_json(), **outcome.evidence()}],
            )


def epoch_zero(timeline: Timeline) -> float:
    """The wall-clock time of the run clock's 0 (the ledgers keep epoch seconds)."""
    return time.time() - timeline.now()


def disabled_at(webhook_sends: Sequence[Mapping[str, Any]], customers: Mapping[str, str]) -> dict[str, float]:
    """account -> when the middleware acknowledged (2xx) the first event that ended its customer's
    right to trade."""
    found: dict[str, float] = {}
    accounts_of: dict[str, list[str]] = {}
    for account, customer in customers.items():
        accounts_of.setdefault(customer, []).append(account)
    for send in webhook_sends:
        for delivery in send.get("deliveries", ()) or ():
            status = delivery.get("status")
            kind = delivery.get("event_type") or delivery.get("type")
            if kind not in DISABLING_EVENTS or not isinstance(status, int) or not 200 <= status < 300:
                continue
            for account in accounts_of.get(str(send.get("customer")), ()):
                at = float(delivery.get("sent_at") or 0.0)
                found[account] = min(found.get(account, at), at)
    return found


def instrument_specs(rithmic: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    """symbol -> point_value, fee_per_contract, tick_size, as the Rithmic mock describes them."""
    out: dict[str, dict[str, float]] = {}
    for entry in rithmic.get("symbols", ()) or ():
        money = {k: float(entry[k]) for k in ("point_value", "fee_per_contract", "tick_size") if k in entry}
        out[str(entry["symbol"])] = money
    return out


def risk_plan(
    scenario: Scenario,
    *,
    accounts: Sequence[str],
    customers: Mapping[str, str],
    webhook_sends: Sequence[Mapping[str, Any]],
    timeline: Timeline,
    slo: Slo,
    rithmic: Mapping[str, Any],
) -> dict[str, Any] | None:
    """What harness.checks.risk reads from `extras["risk"]`; None for a scenario without limits."""
    if scenario.limits is None:
        return None
    zero = epoch_zero(timeline)
    plan: dict[str, Any] = {
        "limits": {account: scenario.limits.to_json() for account in accounts},
        "disabled_at": disabled_at(webhook_sends, customers),
        "in_flight_s": slo.risk_in_flight_ms / 1000,
        "instruments": instrument_specs(rithmic),
        "epoch0": zero,
    }
    if scenario.stale_during:
        end_now = timeline.now()
        windows = [
            [zero + start, zero + (end if end is not None else end_now)]
            for key, start, end in fault_windows(scenario, timeline)
            if key in scenario.stale_during
        ]
        plan["stale"] = {"bound_s": slo.stale_quote_s, "windows": windows}
    return plan

"""A scenario, declared: what it breaks, for how long, with how many traders, and what must
still hold. The machinery that runs it lives in runner.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from .faults import FaultStep

Severity = Literal["blocker", "critical", "normal", "minor"]
Workload = Literal["orders", "quiet"]  # quiet: no trader orders, only the admin prober (webhooks, TT)
DOCS = "https://github.com/stack-uat/stack-uat/blob/main/scenarios/README.md"

# The checkers every order-flow scenario runs unless it says otherwise.
ORDER_CHECKS = ("no_lost_fill", "no_duplicate_order", "positions_reconcile", "unknown_outcomes_resolve")


@dataclass(frozen=True)
class Scenario:
    id: str  # stable: RITHMIC-ORDER-PLANT-DROP
    title: str
    description: str  # for the architect: what happens, and why it matters
    suite: str  # connectivity, latency, malformed, execution, tt, webhooks, separation
    venue: str  # the Allure epic
    fault_class: str  # the Allure feature
    severity: Severity
    schedule: tuple[FaultStep, ...]
    checks: tuple[str, ...] = ORDER_CHECKS
    traders: int = 3
    steady_s: float = 2.0
    recovery_s: float = 3.0  # trading continues this long after the last fault clears
    order_interval_s: tuple[float, float] = (0.15, 0.4)
    max_orders_per_trader: int = 60
    symbols: tuple[str, ...] = ("ESZ6",)
    tags: tuple[str, ...] = field(default_factory=tuple)
    workload: Workload = "orders"
    client_retry_rate: float = 0.0  # chance a trader's client re-sends its last order (same client_order_id)
    resting_limit_rate: float = 0.0  # chance an order is a limit far from the market (it rests, unfilled)
    target_env: dict[str, str] = field(default_factory=dict)  # extra middleware env for this scenario
    # (venue, control path, JSON body) posted to a mock after the world is reset, before the target starts
    mock_setup: tuple[tuple[str, str, dict[str, Any]], ...] = ()

    @property
    def fault_s(self) -> float:
        ends = [step.at + (step.for_s or 0.0) for step in self.schedule]
        return max(ends, default=0.0)

    @property
    def doc_url(self) -> str:
        return f"{DOCS}#{self.id.lower()}"

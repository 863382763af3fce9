"""Execution integrity: the venue's fill notifications are duplicated, reordered, held or refused."""

from __future__ import annotations

from harness.scenario import ORDER_CHECKS, Scenario, down, protocol

SCENARIOS = (
    Scenario(
        id="RITHMIC-DUPLICATE-FILL",
        title="Rithmic sends fill notifications twice",
        description=(
            "For 3 s every fill notification from Rithmic arrives twice with the same fill id. Positions "
            "must count each fill once: a middleware that double-counts shows traders positions they do not "
            "hold, and risk limits act on them."
        ),
        suite="execution",
        venue="rithmic",
        fault_class="execution integrity",
        severity="blocker",
        schedule=(protocol("rithmic", "duplicate_fill", for_s=3.0),),
        checks=(*ORDER_CHECKS, "db_reconcile"),
    ),
    Scenario(
        id="RITHMIC-OUT-OF-ORDER-NOTIFICATIONS",
        title="Rithmic sends the fill before the order's open notification",
        description=(
            "For 3 s Rithmic's notifications for each order arrive fill first, then the open. The "
            "middleware must not let the late open overwrite the fill, nor lose it."
        ),
        suite="execution",
        venue="rithmic",
        fault_class="execution integrity",
        severity="critical",
        schedule=(protocol("rithmic", "out_of_order", for_s=3.0),),
        checks=(*ORDER_CHECKS, "db_reconcile"),
    ),
    Scenario(
        id="RITHMIC-FILLS-HELD-ACROSS-RECONNECT",
        title="Fills happen while the order plant is cut off",
        description=(
            "Rithmic holds fill notifications for 1.5 s and the connection drops meanwhile for 2.5 s, so "
            "orders fill at the exchange while the middleware cannot hear it. After reconnecting it must "
            "reconcile with the venue (show orders) and book every fill made during the drop."
        ),
        suite="execution",
        venue="rithmic",
        fault_class="execution integrity",
        severity="blocker",
        schedule=(
            protocol("rithmic", "hold_fills", delay_ms=1500, for_s=0.8),
            down("rithmic", at=0.5, for_s=2.5),
        ),
        checks=(*ORDER_CHECKS, "fast_fail", "recovery_slo", "db_reconcile"),
    ),
    Scenario(
        id="EXEC-RESTING-LIMIT-ORDERS",
        title="Traders leave limit orders resting, unfilled, at the venue",
        description=(
            "Some orders are limit buys far below the market: the venue accepts them and they rest, "
            "unfilled. Positions must come from fills only, never from accepted orders."
        ),
        suite="execution",
        venue="rithmic",
        fault_class="execution integrity",
        severity="blocker",
        schedule=(),
        checks=(*ORDER_CHECKS, "db_reconcile"),
        resting_limit_rate=0.4,
        steady_s=3.0,
        recovery_s=1.0,
    ),
    Scenario(
        id="RITHMIC-ORDER-REJECTS",
        title="Rithmic rejects every new order for 3 s",
        description=(
            "The venue rejects new orders for 3 s after accepting them for delivery. Rejected orders must "
            "end rejected in the middleware, with no position and no retry sent to the venue."
        ),
        suite="execution",
        venue="rithmic",
        fault_class="execution integrity",
        severity="normal",
        schedule=(protocol("rithmic", "order_reject", for_s=3.0),),
        checks=(*ORDER_CHECKS, "db_reconcile"),
    ),
)

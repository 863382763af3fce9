"""Separation and data integrity: admin and webhooks stay up while a venue is down, and the
middleware's database reconciles after a run full of faults."""

from __future__ import annotations

from harness.scenario import ORDER_CHECKS, Scenario, action, down, protocol

SCENARIOS = (
    Scenario(
        id="SEP-ADMIN-AND-WEBHOOKS-DURING-OUTAGE",
        title="Admin reads and Stripe webhooks while Rithmic is down",
        description=(
            "Rithmic is down for 4 s. Meanwhile a new trader signs up and an existing trader's invoice is "
            "paid. Admin reads must keep answering, the webhooks must take effect exactly once, and orders "
            "must be refused fast rather than hang."
        ),
        suite="separation",
        venue="rithmic",
        fault_class="separation",
        severity="blocker",
        schedule=(
            down("rithmic", for_s=4.0),
            action(
                "stripe",
                "stripe_send",
                at=1.0,
                types=("checkout.session.completed", "customer.subscription.created"),
            ),
            action("stripe", "stripe_send", at=1.5, customer="trader", types=("invoice.paid",)),
        ),
        checks=(
            "admin_separation",
            "fast_fail",
            "recovery_slo",
            "webhook_exactly_once",
            "webhook_state",
            *ORDER_CHECKS,
        ),
    ),
    Scenario(
        id="SEP-DB-RECONCILE-AFTER-CHAOS",
        title="The middleware's database reconciles after duplicated, reordered and dropped notifications",
        description=(
            "Fill notifications are duplicated and reordered, then Rithmic drops for 2 s. Afterwards the "
            "middleware's own database must hold together: each fill booked once, orders equal to their "
            "fills, positions equal to the fills, a balanced transaction log and no orphan rows."
        ),
        suite="separation",
        venue="rithmic",
        fault_class="data integrity",
        severity="blocker",
        schedule=(
            protocol("rithmic", "duplicate_fill", for_s=2.0),
            protocol("rithmic", "out_of_order", at=1.0, for_s=2.0),
            down("rithmic", at=3.0, for_s=2.0),
        ),
        checks=(*ORDER_CHECKS, "db_reconcile", "recovery_slo"),
    ),
)

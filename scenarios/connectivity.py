"""Connectivity: the venue's connection drops, resets, goes silent, or logs the middleware out."""

from __future__ import annotations

from harness.scenario import ORDER_CHECKS, Scenario, down

OUTAGE_CHECKS = (*ORDER_CHECKS, "fast_fail", "admin_separation", "recovery_slo")

SCENARIOS = (
    Scenario(
        id="RITHMIC-ORDER-PLANT-DROP",
        title="Rithmic order plant drops for 4 s",
        description=(
            "The connection to Rithmic drops while traders are sending orders, and comes back 4 s later. "
            "Orders sent meanwhile must be refused at once (not hang), admin must keep answering, trading "
            "must resume within the recovery SLO, and no fill may be lost or counted twice."
        ),
        suite="connectivity",
        venue="rithmic",
        fault_class="connectivity",
        severity="blocker",
        schedule=(down("rithmic", for_s=4.0),),
        checks=OUTAGE_CHECKS,
    ),
)

"""Execution integrity: the venue's fill notifications are duplicated, reordered, held or partial."""

from __future__ import annotations

from harness.scenario import Scenario, protocol

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
    ),
)

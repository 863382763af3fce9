"""`uat gate` and `uat reproduce`: scenarios run by pytest through the harness's plugin
(harness.gate.plugin), reported to Allure, JUnit, gate.json and gate-summary.md."""

from .run import GateConfig, GateOutcome, GateUsageError, run_gate

__all__ = ["GateConfig", "GateOutcome", "GateUsageError", "run_gate"]

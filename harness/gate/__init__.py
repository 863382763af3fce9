"""`uat gate` and `uat reproduce`: scenarios run by pytest through the harness's plugin
(harness.gate.plugin), reported to Allure, JUnit, gate.json and gate-summary.md (outputs). The
verdict and exit code are in status; `--shard` splits the selection (shard), `uat report --out`
merges the shards (merge), and `--repeat` runs the gate N times for pass rates (repeat)."""

from .run import GateConfig, GateOutcome, GateUsageError, run_gate

__all__ = ["GateConfig", "GateOutcome", "GateUsageError", "run_gate"]

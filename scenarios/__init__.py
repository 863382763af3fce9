"""The UAT suites `uat gate` runs against a target. Each suite module declares SCENARIOS; the
registry below is what the gate, `uat reproduce` and the mutant matrix look scenarios up in."""

from __future__ import annotations

from harness.scenario import Scenario

from . import (
    admin_state,
    connectivity,
    contract,
    cqg,
    execution,
    latency,
    lifecycle,
    malformed,
    risk,
    security,
    separation,
    tt,
    webhooks,
)

SUITES: dict[str, tuple[Scenario, ...]] = {
    "connectivity": connectivity.SCENARIOS,
    "latency": latency.SCENARIOS,
    "malformed": malformed.SCENARIOS,
    "execution": execution.SCENARIOS,
    "tt": tt.SCENARIOS,
    "webhooks": webhooks.SCENARIOS,
    "separation": separation.SCENARIOS,
    "admin-state": admin_state.SCENARIOS,
    "contract": contract.SCENARIOS,
    "risk": risk.SCENARIOS,
    "security": security.SCENARIOS,
    "cqg": cqg.SCENARIOS,
    "lifecycle": lifecycle.SCENARIOS,
}
SCENARIOS: dict[str, Scenario] = {s.id: s for suite in SUITES.values() for s in suite}

assert len(SCENARIOS) == sum(len(s) for s in SUITES.values()), "scenario ids must be unique"

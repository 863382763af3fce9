"""The gate's one test: each scenario selected by --suite/--scenario, run through the harness
(see harness.gate.plugin, which parametrizes it from the registry in scenarios/)."""

from __future__ import annotations

from typing import Any


def test_scenario(uat_scenario: Any, uat_gate: Any) -> None:
    uat_gate.run(uat_scenario)

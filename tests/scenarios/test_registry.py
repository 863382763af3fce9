"""The scenario registry and the mutant map are consistent (fast: nothing runs)."""

from __future__ import annotations

import subprocess
import sys

from harness.checks import CHECKERS
from scenarios import SCENARIOS, SUITES
from scenarios.mutants import MUTANT_KILLS

ISSUE_SUITES = {"connectivity", "latency", "malformed", "execution", "tt", "webhooks", "separation"}


def test_at_least_30_scenarios_across_every_suite() -> None:
    assert len(SCENARIOS) >= 30
    assert set(SUITES) == ISSUE_SUITES
    assert all(SUITES[name] for name in ISSUE_SUITES)
    for suite, scenarios in SUITES.items():
        assert all(s.suite == suite for s in scenarios), suite


def test_every_scenario_names_known_checkers_and_a_bounded_load() -> None:
    for scenario in SCENARIOS.values():
        assert scenario.checks and set(scenario.checks) <= set(CHECKERS), scenario.id
        assert scenario.id == scenario.id.upper() and " " not in scenario.id
        assert scenario.max_orders_per_trader <= 100 and scenario.traders <= 5
        assert scenario.steady_s + scenario.fault_s + scenario.recovery_s <= 20, scenario.id


def test_every_mutant_is_mapped_to_scenarios_that_run_its_checkers() -> None:
    listed = subprocess.run(
        [sys.executable, "-m", "reference_middleware", "--list-mutants"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    mutants = {line.split(":")[0].strip() for line in listed.splitlines() if line.strip()}
    assert set(MUTANT_KILLS) == mutants
    for name, kill in MUTANT_KILLS.items():
        assert kill.scenarios and kill.checks, name
        for sid in kill.scenarios:
            assert set(kill.checks) & set(SCENARIOS[sid].checks), (name, sid)


def test_the_scenario_docs_page_is_in_step_with_the_registry() -> None:
    """Every report links to scenarios/README.md#<id>: the page must say what the gate runs."""
    from pathlib import Path

    from scenarios import SCENARIOS
    from scenarios.docs import render

    page = (Path(__file__).parents[2] / "scenarios" / "README.md").read_text()
    assert page == render(), "regenerate with: python -m scenarios.docs > scenarios/README.md"
    for scenario_id in SCENARIOS:
        assert f'<a id="{scenario_id.lower()}"></a>' in page

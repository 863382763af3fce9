"""The scenario registry and the mutant map are consistent (fast: nothing runs)."""

from __future__ import annotations

import subprocess
import sys

from harness.checks import CHECKERS
from harness.target import SETTINGS
from scenarios import SCENARIOS, SUITES
from scenarios.mutants import MUTANT_KILLS

ISSUE_SUITES = {
    "connectivity",
    "latency",
    "malformed",
    "contract",
    "execution",
    "tt",
    "webhooks",
    "separation",
    "cqg",
    "admin-state",
    "risk",
    "security",
    "lifecycle",
}


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
        assert kill.scenarios and (kill.checks or kill.inconclusive), name
        for sid in kill.scenarios:
            if kill.checks:
                assert set(kill.checks) & set(SCENARIOS[sid].checks), (name, sid)
            else:  # killed for want of evidence: the scenario must declare some to want
                assert SCENARIOS[sid].minimum.describe(), (name, sid)


def test_every_scenario_declares_what_it_needs_in_known_terms() -> None:
    """Needs name a venue the mock stack runs or an adapter operation; the minimum evidence names the
    schedule's own faults and the mocks' own venues, so a typo cannot make a scenario unjudgeable."""
    from harness.contract.targetspec import CONTRACT_NEED
    from harness.mockstack import VENUES
    from harness.scenario.evidence import ADAPTER_OPERATIONS
    from harness.scenario.faults import PLANE_EXTENSIONS
    from harness.scenario.model import fault_key
    from harness.security.secretspec import ROTATION_NEED
    from harness.security.spec import ALLOWLIST_NEED
    from harness.targetfaults import STATE_NEEDS

    for scenario in SCENARIOS.values():
        settings = {f"setting:{name}" for name in SETTINGS}
        known = (
            set(VENUES)
            | set(ADAPTER_OPERATIONS)
            | settings
            | STATE_NEEDS
            | {PLANE_EXTENSIONS, CONTRACT_NEED, ALLOWLIST_NEED, ROTATION_NEED}
        )
        assert set(scenario.requires) <= known, (scenario.id, set(scenario.requires) - known)
        minimum = scenario.minimum
        assert set(minimum.faults_fired) <= {fault_key(s) for s in scenario.schedule}, scenario.id
        assert {venue for venue, _, _ in minimum.mock_events} <= set(VENUES), scenario.id
        if scenario.workload == "orders":
            assert minimum.accepted_orders and minimum.venue_fills, scenario.id
        protocol = {fault_key(s) for s in scenario.schedule if s.kind == "protocol"}
        protocol -= UNFIRED_BY_DESIGN.get(scenario.id, set())
        assert protocol <= set(minimum.faults_fired), f"{scenario.id}: a protocol fault need not fire"


# Faults a correct build never sets off, by design: CQG's logon refusal is what a restored session
# avoids (the mutant that only logs on sets it off, and trading_resumes fails it; a healthy pass and
# that kill are paired in the mutant matrix, so the fault is known to be in force).
UNFIRED_BY_DESIGN = {"CQG-LOGONS-REFUSED-SESSION-RESTORED": {"cqg:logon_result"}}


def test_the_scenario_docs_page_is_in_step_with_the_registry() -> None:
    """Every report links to the packaged scenarios/README.md#<id> and attaches the scenario's
    section of it: the page must exist where the link points and say what the gate runs."""
    from pathlib import Path
    from urllib.parse import urlsplit
    from urllib.request import url2pathname

    from harness import resources
    from scenarios.docs import render, section

    page = resources.data(resources.SCENARIOS, "README.md").read_text()
    assert page == render(), "regenerate with: python -m scenarios.docs > scenarios/README.md"
    for scenario in SCENARIOS.values():
        link = urlsplit(scenario.doc_url)
        assert link.scheme == "file" and link.fragment == scenario.id.lower(), scenario.doc_url
        target = Path(url2pathname(link.path))
        assert target.is_file() and f'<a id="{link.fragment}"></a>' in target.read_text()
        assert "\n".join(section(scenario)) in page

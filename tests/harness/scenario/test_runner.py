"""The scenario runner end to end: the healthy reference build passes, a mutant is caught by
the checker its bug breaks, and the evidence names what went wrong."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from harness import target
from harness.scenario import ScenarioRunner
from harness.topology import Topology
from scenarios import SCENARIOS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def topology() -> Iterator[Topology]:
    with Topology(target.load("reference"), seed=3, backend="embedded") as topo:
        yield topo


def test_healthy_build_passes_an_order_plant_drop(topology: Topology) -> None:
    result = ScenarioRunner(topology, seed=3).run(SCENARIOS["RITHMIC-ORDER-PLANT-DROP"])
    assert result.passed, [v.to_json() for v in result.verdicts if not v.passed]
    placed = result.history.completions("place_order")
    assert any(done.type == "fail" for _, done in placed), "no order was refused during the outage"
    assert any(done.type == "ok" for _, done in placed)
    assert [w.name for w in result.timeline.windows] == ["rithmic down"]
    assert set(result.phases) == {"setup", "steady", "fault", "recovery", "verdict"}
    assert result.reproduce == "uat reproduce RITHMIC-ORDER-PLANT-DROP --seed 3"


def test_admin_coupled_mutant_fails_admin_separation(
    topology: Topology, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REFMW_MUTANTS", "admin_coupled")
    assert os.environ["REFMW_MUTANTS"] == "admin_coupled"
    result = ScenarioRunner(topology, seed=3).run(SCENARIOS["RITHMIC-ORDER-PLANT-DROP"])
    failed = {v.check: v for v in result.verdicts if not v.passed}
    assert set(failed) == {"admin_separation"}, {k: v.summary for k, v in failed.items()}
    evidence = failed["admin_separation"].evidence
    assert evidence and all(e["fault"] == "rithmic down" for e in evidence)


def test_double_count_mutant_fails_positions_on_duplicate_fills(
    topology: Topology, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REFMW_MUTANTS", "double_count_fills")
    result = ScenarioRunner(topology, seed=3).run(SCENARIOS["RITHMIC-DUPLICATE-FILL"])
    failed = {v.check for v in result.verdicts if not v.passed}
    assert "positions_reconcile" in failed
    assert "no_duplicate_order" not in failed


def test_the_last_middleware_is_stopped_before_the_world_is_reset(
    topology: Topology, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Alive, it would answer the reset (the CQG mock logs its session off, it reconnects and
    reconciles) and race the schema being dropped: a deadlock once failed a healthy scenario."""
    topology.restart_target()
    topology.untouched = False  # as after an earlier scenario: this one must reset the world
    alive_at_reset: list[bool] = []
    reset = topology.reset_world

    def recording() -> None:
        alive_at_reset.append(topology.process is not None and topology.process.alive())
        reset()

    monkeypatch.setattr(topology, "reset_world", recording)
    result = ScenarioRunner(topology, seed=3).run(SCENARIOS["CQG-ORDER-FLOW"])
    assert alive_at_reset == [False]
    assert result.passed, [v.to_json() for v in result.verdicts if not v.passed]


def test_a_build_that_refuses_every_order_when_nothing_is_broken_gets_no_fault(
    topology: Topology, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing a fault does could be judged: the scenario is inconclusive after its steady phase,
    saying why, instead of running its faults and waiting out a recovery that cannot come."""
    monkeypatch.setenv("REFMW_MUTANTS", "reject_all_orders")
    result = ScenarioRunner(topology, seed=3).run(SCENARIOS["RITHMIC-ORDER-PLANT-DROP"])
    assert result.status == "inconclusive"
    assert result.timeline.windows == []
    assert set(result.phases) == {"setup", "steady", "verdict"}
    assert "were not injected" in result.missing_evidence[0], result.missing_evidence
    assert {v.status for v in result.verdicts} == {"no_evidence"}
    refused = result.verdicts[0].evidence[0]["refused_in_steady_phase"]
    assert set(refused) == {"503"} and refused["503"] > 0


def test_only_the_first_scenario_on_a_fresh_topology_keeps_the_middleware_it_started_with(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("REFMW_MUTANTS", raising=False)
    scenario = SCENARIOS["WEBHOOK-DUPLICATE"]
    with Topology(target.load("reference"), seed=4, backend="embedded") as topo:
        assert topo.process is not None
        first = topo.process.pid
        assert ScenarioRunner(topo, seed=4).run(scenario).passed
        assert topo.process.pid == first  # the world was already clean: no reset, no restart
        assert ScenarioRunner(topo, seed=4).run(scenario).passed
        assert topo.process.pid != first
        # never when the middleware would not start as it did: the scenario's settings, another mutant
        topo.untouched = True
        assert not topo.claim_untouched({"REFMW_ORDER_TIMEOUT_S": "1"})
        topo.untouched = True
        monkeypatch.setenv("REFMW_MUTANTS", "reject_all_orders")
        assert not topo.claim_untouched({})
        monkeypatch.delenv("REFMW_MUTANTS")
        topo.untouched = True
        assert topo.claim_untouched({}) and not topo.claim_untouched({})  # once

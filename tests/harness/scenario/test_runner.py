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
    alive_at_reset: list[bool] = []
    reset = topology.reset_world

    def recording() -> None:
        alive_at_reset.append(topology.process is not None and topology.process.alive())
        reset()

    monkeypatch.setattr(topology, "reset_world", recording)
    result = ScenarioRunner(topology, seed=3).run(SCENARIOS["CQG-ORDER-FLOW"])
    assert alive_at_reset == [False]
    assert result.passed, [v.to_json() for v in result.verdicts if not v.passed]

"""The mutant matrix: the healthy reference build passes every scenario, and every mutant fails at least
one of its mapped scenarios through a checker matching its documented class (scenarios/mutants.py).

Slow (about 9 minutes on a 2-core box): `make mutants`. One topology for the module; each scenario
restarts the middleware over a clean world, with REFMW_MUTANTS passed through from the environment.
UAT_MATRIX_SEED picks the seed (default 7). The last test prints the kill rate and the wall times."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from harness import target
from harness.scenario import ScenarioRunner
from harness.topology import Topology
from scenarios import SCENARIOS
from scenarios.mutants import MUTANT_KILLS

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]
SEED = int(os.environ.get("UAT_MATRIX_SEED", "7"))
WALL: dict[str, float] = {"healthy": 0.0, "mutants": 0.0}
KILLED: dict[str, str] = {}
RAN: set[str] = set()


@pytest.fixture(scope="module")
def topology() -> Iterator[Topology]:
    with Topology(target.load("reference"), seed=SEED, backend="embedded") as topo:
        yield topo


@pytest.mark.parametrize("scenario_id", list(SCENARIOS))
def test_healthy_build_passes(topology: Topology, monkeypatch: pytest.MonkeyPatch, scenario_id: str) -> None:
    monkeypatch.delenv("REFMW_MUTANTS", raising=False)
    started = time.monotonic()
    result = ScenarioRunner(topology, seed=SEED).run(SCENARIOS[scenario_id])
    WALL["healthy"] += time.monotonic() - started
    failed = {v.check: (v.summary, v.evidence[:3]) for v in result.verdicts if v.status == "failed"}
    assert result.status == "passed", (
        f"{result.reproduce}: {result.reason} {failed}\n{result.log_tail[-3000:]}"
    )


@pytest.mark.parametrize("mutant", list(MUTANT_KILLS))
def test_mutant_is_killed_by_its_documented_class(
    topology: Topology, monkeypatch: pytest.MonkeyPatch, mutant: str
) -> None:
    monkeypatch.setenv("REFMW_MUTANTS", mutant)
    kill = MUTANT_KILLS[mutant]
    started = time.monotonic()
    seen: dict[str, dict[str, str]] = {}
    RAN.add(mutant)
    try:
        for sid in kill.scenarios:
            result = ScenarioRunner(topology, seed=SEED).run(SCENARIOS[sid])
            seen[sid] = {v.check: v.summary for v in result.verdicts if v.status == "failed"}
            matching = sorted(set(seen[sid]) & set(kill.checks))
            if kill.inconclusive and result.status in ("inconclusive", "failed"):
                matching.append(f"{result.status}: {result.reason}")
            if matching:
                KILLED[mutant] = f"{sid} / {', '.join(matching)}"
                print(f"\nmutant {mutant}: killed by {KILLED[mutant]}")
                return
    finally:
        WALL["mutants"] += time.monotonic() - started
    pytest.fail(f"mutant {mutant} survived its scenarios (expected {kill.checks} to fail): {seen}")


def test_kill_rate() -> None:
    print(
        f"\nkill rate: {len(KILLED)}/{len(RAN)} mutants run ({len(MUTANT_KILLS)} mapped); "
        f"healthy scenarios {WALL['healthy']:.0f} s, mutants {WALL['mutants']:.0f} s"
    )
    for mutant in MUTANT_KILLS:
        print(f"  {mutant:28} {KILLED.get(mutant, 'SURVIVED' if mutant in RAN else 'not run')}")
    assert set(KILLED) == RAN

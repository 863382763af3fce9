"""The mutant matrix: the healthy reference build passes every scenario, and every mutant fails at least
one of its mapped scenarios through a checker matching its documented class (scenarios/mutants.py),
diagnosed as the cause it names.

Slow (about 9 minutes on a 2-core box): `make mutants`. Each run is a real `uat gate` (its own
topology), three side by side (harness.testing.gate_lanes): the healthy build as the three shards of
`--shard i/3` (balanced by expected duration), then one gate per mutant, three running at any time,
each with REFMW_MUTANTS set for its own gate only.

A kill means something only against a scenario that passes on the healthy build at the same seed: a
mutant "killed" by a scenario that also fails without it was killed by flakiness. So each kill is
paired with the healthy run of that scenario and seed, and does not count without it.
UAT_MATRIX_SEEDS picks the seeds (default "7"; `make mutants` runs 7 8 9), and each seed is a
healthy run and a kill run of its own. The last test prints the kill rate and the wall times.

The healthy run also holds the lifecycle suite's own evidence (it ran as a test of its own, which
played the same 17 scenarios a second time): each lifecycle scenario leaves its snapshot, and
`uat investigate` finds every trader in it agreeing."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.testing import gate_lanes
from scenarios import SCENARIOS, SUITES
from scenarios.mutants import MUTANT_KILLS, Kill

pytestmark = [pytest.mark.slow, pytest.mark.lanes]
SEEDS = os.environ.get("UAT_MATRIX_SEEDS", os.environ.get("UAT_MATRIX_SEED", "7")).split()
WALL: dict[str, float] = {"healthy": 0.0, "mutants": 0.0}
HEALTHY: dict[str, dict[str, str]] = {}  # seed -> scenario -> its status on the healthy build
KILLED: dict[str, list[str]] = {}  # mutant -> how it was killed, at each seed
RAN: set[str] = set()
LANES = 3  # gates at once: they mostly wait on their phases, and three fit on 2 cores


def _args(scenarios: list[str], seed: str) -> list[str]:
    return [*(a for sid in scenarios for a in ("--scenario", sid)), "--seed", seed, "--backend", "embedded"]


def _env(mutant: str = "") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "REFMW_MUTANTS"}
    if mutant:
        env["REFMW_MUTANTS"] = mutant
    return env


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.timeout(1500)
def test_healthy_build_passes_every_scenario(tmp_path: Path, seed: str) -> None:
    ids = list(SCENARIOS)
    started = time.monotonic()
    shards = [[*_args(ids, seed), "--shard", f"{i}/{LANES}"] for i in range(1, LANES + 1)]
    runs = gate_lanes(shards, tmp_path, env=_env(), timeout_s=1400)
    WALL["healthy"] += time.monotonic() - started
    records = [record for _, gate, _ in runs for record in gate.get("scenarios", [])]
    HEALTHY[seed] = {r["id"]: r["status"] for r in records}
    assert sorted(r["id"] for r in records) == sorted(ids), [output for _, _, output in runs]
    failed = {
        r["id"]: (r["reason"], r.get("failing_checks", [])[:2]) for r in records if r["status"] != "passed"
    }
    assert not failed, failed
    assert all(code == 0 for code, _, _ in runs)
    _lifecycle_reports_agree(tmp_path, {r["id"]: r for r in records})


def _lifecycle_reports_agree(report: Path, records: dict[str, dict[str, Any]]) -> None:
    """Each lifecycle scenario funded traders and left its snapshot; investigate finds them agreeing,
    and the cancellation's snapshot shows both MT5 users disabled with their deposits and payouts."""
    lifecycle = sorted(s.id for s in SUITES["lifecycle"])
    for sid in lifecycle:
        assert records[sid]["evidence"]["measured"]["lifecycle_traders"] >= 2, (sid, records[sid])
    snapshots = sorted(report.glob("lane-*/lifecycle/*/lifecycle-snapshot.json"))
    assert sorted(p.parent.name for p in snapshots) == lifecycle
    (cancelled,) = (json.loads(p.read_text()) for p in snapshots if p.parent.name == "LIFECYCLE-CANCELLED")
    funded = {t["email"] for t in cancelled["traders"]}
    users = [u for u in cancelled["mt5_users"] if u["email"] in funded]
    assert len(users) == 2 and not any(u["enabled"] for u in users), users
    deals = [d for d in cancelled["mt5_deals"] if d["login"] in {u["login"] for u in users}]
    assert sorted(d["amount"] for d in deals) == ["-1000.00", "-1000.00", "25000.00", "25000.00"]
    for lane in sorted({p.parents[2] for p in snapshots}):
        investigated = CliRunner().invoke(main, ["investigate", str(lane)])
        assert investigated.exit_code == 0, investigated.output
        held = sum(1 for p in snapshots if p.parents[2] == lane)
        assert investigated.output.count("0 disagree") == held, investigated.output


def _killed_by(mutant: str, kill: Kill, gate: dict[str, Any], healthy: dict[str, str]) -> str | None:
    """Which scenario and check killed it, with the diagnosis it was given; None if it survived. A
    scenario that did not pass on the healthy build at this seed kills nothing."""
    for record in gate.get("scenarios", []):
        if healthy.get(record["id"]) != "passed":
            continue
        failing = {c["check"]: c for c in record.get("failing_checks", [])}
        matching = sorted(set(failing) & set(kill.checks))
        if kill.cause:
            causes = {check: (failing[check].get("diagnosis") or {}).get("cause") for check in matching}
            assert all(cause == kill.cause for cause in causes.values()), (
                f"mutant {mutant}: {record['id']} failed {matching}, but its diagnosis named {causes}, "
                f"not {kill.cause!r}: {[failing[c].get('diagnosis') for c in matching]}"
            )
            matching = [f"{check} (diagnosis: {kill.cause})" for check in matching]
        if kill.inconclusive and record["status"] in ("inconclusive", "failed"):
            matching.append(f"{record['status']}: {record['reason']}")
        if matching:
            return f"{record['id']} / {', '.join(matching)}"
    return None


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.timeout(1500)
def test_every_mutant_is_killed_by_its_documented_class(tmp_path: Path, seed: str) -> None:
    healthy = HEALTHY.get(seed)
    if healthy is None:
        pytest.skip(f"the healthy run at seed {seed} did not run first: a kill needs it to mean anything")
    mutants = list(MUTANT_KILLS)
    started = time.monotonic()
    survived: dict[str, Any] = {}
    lanes = [_args(list(MUTANT_KILLS[m].scenarios), seed) for m in mutants]
    envs = [_env(m) for m in mutants]
    runs = gate_lanes(lanes, tmp_path, envs=envs, timeout_s=600, width=LANES)
    for mutant, (code, gate, output) in zip(mutants, runs, strict=True):
        RAN.add(mutant)
        found = _killed_by(mutant, MUTANT_KILLS[mutant], gate, healthy)
        if found is not None and code == 1:
            KILLED.setdefault(mutant, []).append(f"seed {seed}: {found}")
            print(f"\nmutant {mutant}: killed at seed {seed} by {found}")
        else:
            statuses = {
                r["id"]: (r["status"], healthy.get(r["id"]), r.get("reason"))
                for r in gate.get("scenarios", [])
            }
            survived[mutant] = {
                "exit": code,
                "scenarios (mutant, healthy, why)": statuses,
                "output": output[-1500:],
            }
    WALL["mutants"] += time.monotonic() - started
    assert not survived, survived


def test_kill_rate() -> None:
    print(
        f"\nkill rate: {len(KILLED)}/{len(RAN)} mutants run ({len(MUTANT_KILLS)} mapped); "
        f"healthy scenarios {WALL['healthy']:.0f} s, mutants {WALL['mutants']:.0f} s"
    )
    for mutant in MUTANT_KILLS:
        how = "; ".join(KILLED[mutant]) if mutant in KILLED else "SURVIVED" if mutant in RAN else "not run"
        print(f"  {mutant:28} {how}")
    assert set(KILLED) == RAN
    assert all(len(ways) == len(SEEDS) for ways in KILLED.values()), KILLED  # killed at every seed

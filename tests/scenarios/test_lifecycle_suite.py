"""The lifecycle suite on the healthy reference, end to end: every scenario passes with its evidence,
each leaves its snapshot in the report, and `uat investigate` finds every trader agreeing there.

Slow (17 scenarios in one gate, about 100 s; the mutant matrix runs the six that kill mutants).
UAT_MATRIX_SEED picks the seed (default 7)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.testing import gate_lanes
from scenarios import SUITES

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
SEED = os.environ.get("UAT_MATRIX_SEED", "7")


def test_the_healthy_reference_passes_the_lifecycle_suite_and_investigates_clean(tmp_path: Path) -> None:
    args = ["--suite", "lifecycle", "--seed", SEED, "--backend", "embedded"]
    ((code, gate, output),) = gate_lanes([args], tmp_path, timeout_s=800)
    assert code == 0, output
    records = {r["id"]: r for r in gate["scenarios"]}
    assert sorted(records) == sorted(s.id for s in SUITES["lifecycle"])
    for sid, record in records.items():
        assert record["status"] == "passed", (sid, record["reason"])
        measured = record["evidence"]["measured"]
        assert measured["lifecycle_traders"] >= 2, (sid, measured)
    report = tmp_path / "lane-0"
    snapshots = sorted(report.glob("lifecycle/*/lifecycle-snapshot.json"))
    assert [p.parent.name for p in snapshots] == sorted(records)
    cancelled = json.loads(
        (report / "lifecycle" / "LIFECYCLE-CANCELLED" / "lifecycle-snapshot.json").read_text()
    )
    funded = {t["email"] for t in cancelled["traders"]}
    users = [u for u in cancelled["mt5_users"] if u["email"] in funded]
    assert len(users) == 2 and not any(u["enabled"] for u in users), users
    deals = [d for d in cancelled["mt5_deals"] if d["login"] in {u["login"] for u in users}]
    assert sorted(d["amount"] for d in deals) == ["-1000.00", "-1000.00", "25000.00", "25000.00"]
    investigated = CliRunner().invoke(main, ["investigate", str(report)])
    assert investigated.exit_code == 0, investigated.output
    assert investigated.output.count("0 disagree") == len(records)

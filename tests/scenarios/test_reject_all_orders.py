"""No verdict without evidence, end to end: a build that answers 503 to every order (the
`reject_all_orders` mutant) passes no order-flow scenario. Each one is inconclusive (no order reached
the venue, nothing filled, so there is nothing to judge) or failed (e.g. trading never recovered).

Slow (every order-flow scenario, one gate run, one topology: about 6 minutes on 2 cores).
UAT_MATRIX_SEED picks the seed (default 7)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scenarios import SCENARIOS

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]
SEED = os.environ.get("UAT_MATRIX_SEED", "7")
ORDER_FLOW = [s.id for s in SCENARIOS.values() if s.workload == "orders"]


def test_a_build_that_refuses_every_order_passes_no_order_flow_scenario(tmp_path: Path) -> None:
    args = [arg for sid in ORDER_FLOW for arg in ("--scenario", sid)]
    done = subprocess.run(
        [sys.executable, "-m", "harness", "gate", *args, "--seed", SEED, "--no-html",
         "--backend", "embedded", "--report", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=1150,
        env={**os.environ, "REFMW_MUTANTS": "reject_all_orders"},
        check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout[-5000:] + done.stderr[-5000:]
    gate = json.loads((tmp_path / "gate.json").read_text())
    statuses = {r["id"]: r["status"] for r in gate["scenarios"]}
    assert sorted(statuses) == sorted(ORDER_FLOW)
    assert set(statuses.values()) <= {"inconclusive", "failed"}, statuses
    for record in gate["scenarios"]:
        if record["status"] == "inconclusive":
            # it says exactly what was missing: no order got in
            assert any("order(s) accepted (2xx)" in m for m in record["missing_evidence"]), record
            assert record["evidence"]["measured"]["accepted_orders"] == 0, record
    summary = (tmp_path / "gate-summary.md").read_text()
    assert "**INCONCLUSIVE**" in summary
    print("\n" + "\n".join(f"  {sid:40} {status}" for sid, status in statuses.items()))

"""No verdict without evidence, end to end: a build that answers 503 to every order (the
`reject_all_orders` mutant) passes no order-flow scenario. Each one is inconclusive (no order reached
the venue, nothing filled, so there is nothing to judge) or failed (e.g. trading never recovered).

Slow (every order-flow scenario, in four gate runs side by side: nothing fills, so four fit on
2 cores; about 100 s, since a scenario whose steady phase saw every order refused injects no fault).
UAT_MATRIX_SEED picks the seed (default 7)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.testing import gate_lanes
from scenarios import SCENARIOS

pytestmark = [pytest.mark.slow, pytest.mark.lanes, pytest.mark.timeout(1200)]
SEED = os.environ.get("UAT_MATRIX_SEED", "7")
LANES = 4
ORDER_FLOW = [s.id for s in SCENARIOS.values() if s.workload == "orders"]


def test_a_build_that_refuses_every_order_passes_no_order_flow_scenario(tmp_path: Path) -> None:
    lanes = [
        [
            *(arg for sid in ORDER_FLOW[lane::LANES] for arg in ("--scenario", sid)),
            "--seed",
            SEED,
            "--backend",
            "embedded",
        ]
        for lane in range(LANES)
    ]
    runs = gate_lanes(
        lanes, tmp_path, env={**os.environ, "REFMW_MUTANTS": "reject_all_orders"}, timeout_s=1100
    )
    records = []
    for code, gate, output in runs:
        assert code == 1, output
        records += gate["scenarios"]
    statuses = {r["id"]: r["status"] for r in records}
    assert sorted(statuses) == sorted(ORDER_FLOW)
    assert set(statuses.values()) <= {"inconclusive", "failed"}, statuses
    for record in records:
        if record["status"] == "inconclusive":
            # it says exactly what was missing: no order got in
            assert any("order(s) accepted (2xx)" in m for m in record["missing_evidence"]), record
            assert record["evidence"]["measured"]["accepted_orders"] == 0, record
    summary = (tmp_path / "lane-0" / "gate-summary.md").read_text()
    assert "**INCONCLUSIVE**" in summary
    print("\n" + "\n".join(f"  {sid:40} {status}" for sid, status in statuses.items()))

"""The gate judges the agency-style Express target through its target file alone: the healthy
build passes every suite, and each seeded bug (EXPRESS_BUGS) fails the gate (exit 1), named by the
check that caught it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.testing import gate_lanes
from scenarios import SCENARIOS, SUITES

from .test_express_sample import TARGET_FILE, _missing

pytestmark = [pytest.mark.slow, pytest.mark.lanes]

# bug -> (the scenario that must kill it, the checks that must fail)
KILLS: dict[str, tuple[str, frozenset[str]]] = {
    "no_idempotency": ("LATENCY-ORDER-PATH-SPIKE", frozenset({"no_duplicate_order"})),
    "no_reconnect": ("RITHMIC-FORCED-LOGOUT", frozenset({"recovery_slo"})),
    "positions_from_orders": ("EXEC-RESTING-LIMIT-ORDERS", frozenset({"positions_reconcile"})),
    "unsigned_webhooks": ("WEBHOOK-BAD-SIGNATURE", frozenset({"webhook_authentic"})),
    "no_fill_dedup": ("RITHMIC-DUPLICATE-FILL", frozenset({"positions_reconcile"})),
    "no_reconcile": ("RITHMIC-FILLS-HELD-ACROSS-RECONNECT", frozenset({"no_lost_fill"})),
    "no_rate_limit": ("SECURITY-FLOOD", frozenset({"flood_rate_limited"})),
    "secrets_read_once": ("SECURITY-CREDENTIAL-ROTATION", frozenset({"credentials_rotated"})),
}


@pytest.fixture(autouse=True)
def _node() -> None:
    missing = _missing()
    if missing:
        pytest.skip(missing)


# Three gates side by side, each one shard of every suite (`--shard i/3`, balanced by expected duration,
# each its own topology): the healthy gate in about a third of the time of one.
LANES = 3


@pytest.mark.timeout(900)
def test_the_healthy_build_passes_every_suite(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "EXPRESS_BUGS"}
    lanes = [
        ["--target", str(TARGET_FILE), "--seed", "2", "--shard", f"{i}/{LANES}"] for i in range(1, LANES + 1)
    ]
    statuses: dict[str, str] = {}
    for code, gate, output in gate_lanes(lanes, tmp_path, env=env, timeout_s=800):
        assert code == 0, output
        assert not set(statuses) & {s["id"] for s in gate["scenarios"]}, "two shards ran one scenario"
        statuses.update({s["id"]: s["status"] for s in gate["scenarios"]})
    assert set(statuses) == set(SCENARIOS)  # every scenario, between the shards
    assert set(statuses.values()) <= {"passed", "skipped"}, statuses
    assert sum(s == "passed" for s in statuses.values()) >= 48  # the suites it implements, not a vacuous run
    # the sample declares its database locks, lock table, deploy and bad-release switch: none skipped
    assert {statuses[s.id] for s in SUITES["admin-state"]} == {"passed"}, statuses


@pytest.mark.timeout(600)
def test_each_seeded_bug_fails_the_gate_named_by_its_check(tmp_path: Path) -> None:
    """One gate per bug, three at a time: about 70 s for the seven."""
    bugs = sorted(KILLS)
    base = {k: v for k, v in os.environ.items() if k != "EXPRESS_BUGS"}
    lanes = [["--target", str(TARGET_FILE), "--seed", "2", "--scenario", KILLS[bug][0]] for bug in bugs]
    runs = gate_lanes(lanes, tmp_path, envs=[{**base, "EXPRESS_BUGS": bug} for bug in bugs], width=LANES)
    for bug, (code, gate, output) in zip(bugs, runs, strict=True):
        scenario, checks = KILLS[bug]
        assert code == 1, (bug, output)
        (record,) = gate["scenarios"]
        failing = {c["check"] for c in record["failing_checks"]}
        assert record["status"] == "failed" and checks <= failing, (bug, failing, output)
        assert record["reproduce"].startswith(f"EXPRESS_BUGS={bug} uat reproduce {scenario}")

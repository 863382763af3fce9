"""The gate with the mocks and the fault plane in containers: a whole suite green against the
reference middleware, and the same mutant caught by the same checker as with local mocks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.containers import LABEL, list_containers
from scenarios.mutants import MUTANT_KILLS
from tests.harness.gate.test_gate import uat

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def _gate(report: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((report / "gate.json").read_text())
    return data


def _no_harness_containers(docker_host: str) -> None:
    assert list_containers(docker_host, label=LABEL) == []


def test_connectivity_suite_is_green_on_containers(
    tmp_path: Path, docker_engine: str, harness_image: str
) -> None:
    report = tmp_path / "g"
    done = uat("gate", "--backend", "docker", "--suite", "connectivity", "--seed", "7", "--no-html",
               "--report", str(report), timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    gate = _gate(report)
    assert gate["verdict"] == "passed"
    scenarios = gate["scenarios"]
    assert isinstance(scenarios, list) and len(scenarios) >= 5
    assert all(s["status"] == "passed" for s in scenarios)
    assert all("--backend docker" in s["reproduce"] for s in scenarios)
    _no_harness_containers(docker_engine)


def test_the_mutant_fails_the_check_it_fails_locally(
    tmp_path: Path, docker_engine: str, harness_image: str
) -> None:
    """The local run of this mutant is in the mutant matrix; here it must fail the same way."""
    report = tmp_path / "docker"
    done = uat("gate", "--backend", "docker", "--scenario", "RITHMIC-ORDER-PLANT-DROP", "--seed", "7",
               "--no-html", "--report", str(report), env={"REFMW_MUTANTS": "hang_when_down"})  # fmt: skip
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    (record,) = _gate(report)["scenarios"]
    failed = {c["check"] for c in record["failing_checks"]}
    assert set(MUTANT_KILLS["hang_when_down"].checks) <= failed
    assert record["reproduce"].startswith("REFMW_MUTANTS=hang_when_down uat reproduce")
    assert "--backend docker" in record["reproduce"]
    _no_harness_containers(docker_engine)

"""Blame where it belongs: a middleware that never onboards a trader, or answers what its target
file says it cannot read, fails a named check (exit 1) with evidence. It is never a harness error
(exit 3), and it is never a pass."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.resources import data
from tests.harness.reference_copy import companions

pytestmark = pytest.mark.slow

REFERENCE = data("targets", "reference.toml").read_text()


def _target(tmp_path: Path, text: str) -> Path:
    companions(tmp_path)
    path = tmp_path / "variant.toml"
    path.write_text(text)
    return path


def _gate(target: Path, scenario: str, report: Path) -> tuple[int, dict[str, Any], str]:
    done = subprocess.run(
        [sys.executable, "-m", "harness", "gate", "--target", str(target), "--scenario", scenario,
         "--no-html", "--seed", "5", "--report", str(report)],
        capture_output=True, text=True, timeout=300, env=dict(os.environ), check=False,
    )  # fmt: skip
    gate = json.loads((report / "gate.json").read_text()) if (report / "gate.json").exists() else {}
    return done.returncode, gate, done.stdout + done.stderr


def _failing(gate: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The failing checks of the one scenario run, with their evidence."""
    (scenario,) = gate["scenarios"]
    assert scenario["status"] == "failed"
    return {v["check"]: v for v in scenario["failing_checks"]}


def test_a_middleware_that_never_onboards_fails_the_onboarding_check(tmp_path: Path) -> None:
    # The Stripe webhooks go to a path the middleware does not serve: no trader is ever created.
    text = REFERENCE.replace("/v1/webhooks/stripe", "/v1/webhooks/nowhere")
    code, gate, output = _gate(_target(tmp_path, text), "RITHMIC-DUPLICATE-FILL", tmp_path / "r")
    assert code == 1, output
    onboarding = _failing(gate)["onboarding"]
    assert onboarding["status"] == "failed" and "onboarded by the Stripe webhooks" in str(
        onboarding["summary"]
    )
    evidence = onboarding["evidence"][0]
    # refused before routing: an unknown path without a credential is a 401, which reveals no path
    assert evidence["deliveries"] and all(d["status"] == 401 for d in evidence["deliveries"])


def test_a_position_answer_without_its_quantity_fails_reconciliation_with_the_answer(tmp_path: Path) -> None:
    # The target file says net_qty is in a field the answers do not have: every read is malformed.
    text = REFERENCE.replace('net_qty = "net_qty"', 'net_qty = "netQuantity"')
    code, gate, output = _gate(_target(tmp_path, text), "RITHMIC-DUPLICATE-FILL", tmp_path / "r")
    assert code == 1, output
    verdict = _failing(gate)["positions_reconcile"]
    assert verdict["status"] == "failed"
    assert any("netQuantity" in str(e.get("malformed", "")) for e in verdict["evidence"])

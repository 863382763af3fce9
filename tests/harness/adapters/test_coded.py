"""`kind = "python"`: the worked example (the reference API written as code) judged by the gate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.resources import data
from tests.harness.reference_copy import companions

pytestmark = pytest.mark.slow

CODED = """[adapter]
kind = "python"
class = "harness.adapters.example:ReferenceCodeAdapter"
base_url = "http://127.0.0.1:{port}"
options = { account_path = "/v1/accounts", admin_key = "{env.REFMW_ADMIN_KEY}" }

[slo]"""


def test_the_gate_judges_a_middleware_through_a_coded_adapter(tmp_path: Path) -> None:
    text = data("targets", "reference.toml").read_text()
    head, _, tail = text.partition("[adapter]")
    text = head + CODED + tail.partition("[slo]")[2]
    companions(tmp_path)
    target = tmp_path / "coded.toml"
    target.write_text(text)
    report = tmp_path / "r"
    done = subprocess.run(
        [sys.executable, "-m", "harness", "gate", "--target", str(target),
         "--scenario", "RITHMIC-DUPLICATE-FILL", "--no-html", "--seed", "3", "--report", str(report)],
        capture_output=True, text=True, timeout=300, env=dict(os.environ), check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (scenario,) = json.loads((report / "gate.json").read_text())["scenarios"]
    verdicts = {v["check"]: v for v in scenario["verdicts"]}
    assert (
        verdicts["no_lost_fill"]["status"] == "passed"
        and "contracts filled" in verdicts["no_lost_fill"]["summary"]
    )

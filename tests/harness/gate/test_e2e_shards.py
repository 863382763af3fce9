"""End to end, against the reference build: a tiny selection run as two shards and merged, and a
scenario run twice by `--repeat` (slow: each run starts the whole topology)."""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.report.html import embedded_data

from .test_gate import has_allure_cli
from .test_gate import uat as gate_cli

pytestmark = pytest.mark.slow

SELECTION = ("MALFORMED-GARBAGE-FRAME", "WEBHOOK-DUPLICATE", "WEBHOOK-REORDER")  # ~10 s, ~3 s, ~3 s


def uat(*args: str) -> subprocess.CompletedProcess[str]:
    return gate_cli(*args, env={"LOG_LEVEL": "warning"})


def test_two_shards_run_apart_and_merge_into_one_gate(tmp_path: Path) -> None:
    selection = [arg for sid in SELECTION for arg in ("--scenario", sid)]
    shards = []
    for index in (1, 2):
        report = tmp_path / f"shard-{index}"
        done = uat(
            "gate", *selection, "--seed", "7", "--shard", f"{index}/2", "--no-html", "--report", str(report)
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"shard {index}/2:" in done.stdout
        shards.append(json.loads((report / "gate.json").read_text()))
    ran = [[r["id"] for r in gate["scenarios"]] for gate in shards]
    assert not set(ran[0]) & set(ran[1]) and sorted(ran[0] + ran[1]) == sorted(SELECTION)
    for gate in shards:
        assert gate["shard"]["selection"] == list(SELECTION) and gate["seed"] == 7

    out = tmp_path / "merged"
    with_html = has_allure_cli()
    no_html = [] if with_html else ["--no-html"]
    done = uat("report", str(tmp_path / "shard-1"), str(tmp_path / "shard-2"), "--out", str(out), *no_html)
    assert done.returncode == 0, done.stdout + done.stderr
    merged = json.loads((out / "gate.json").read_text())
    assert [r["id"] for r in merged["scenarios"]] == list(SELECTION), "each scenario exactly once"
    assert merged["exit_code"] == 0 and merged["merged"]["complete"] and merged["seed"] == 7
    cases = ET.parse(out / "junit.xml").getroot().findall("testsuite/testcase")
    assert sorted(c.get("name", "") for c in cases) == sorted(SELECTION)
    results = [json.loads(p.read_text()) for p in (out / "allure-results").glob("*-result.json")]
    assert sorted(r["name"].split(":")[0] for r in results if r.get("name")) == sorted(SELECTION)
    if with_html:
        assert "html report not built" not in done.stderr
        shown = embedded_data((out / "html" / "index.html").read_text())
        assert sum("test-results/" in name for name in shown) == len(SELECTION)

    alone = uat("report", str(tmp_path / "shard-2"), "--out", str(tmp_path / "alone"), "--no-html")
    assert alone.returncode == 1, alone.stdout + alone.stderr
    assert "incomplete: shard 1/2 missing" in alone.stdout


def test_repeat_runs_the_gate_on_one_seed_and_reports_the_pass_rate(tmp_path: Path) -> None:
    report = tmp_path / "flake"
    args = (
        "--scenario",
        "WEBHOOK-DUPLICATE",
        "--repeat",
        "2",
        "--seed",
        "7",
        "--no-html",
        "--report",
        str(report),
    )
    done = uat("gate", *args)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "pass rate per scenario over 2 runs (seed 7 in every run)" in done.stdout
    flake = json.loads((report / "flake.json").read_text())
    assert flake["completed_runs"] == 2 and flake["seed_per_run"] == [7, 7]
    assert flake["scenarios"] == [
        {
            "id": "WEBHOOK-DUPLICATE", "runs": 2, "passed": 2, "failed": 0, "inconclusive": 0, "skipped": 0,
            "harness_error": 0, "config_error": 0, "pass_rate": 1.0, "failed_runs": [], "reproduce": [],
        }
    ]  # fmt: skip
    for run in ("run-01", "run-02"):
        gate = json.loads((report / run / "gate.json").read_text())
        assert gate["seed"] == 7 and [r["status"] for r in gate["scenarios"]] == ["passed"]

"""Allure results of a load run, without a run: one result file per verdict, in Allure's layout."""

from __future__ import annotations

import json
from pathlib import Path

from harness.checks import Verdict
from harness.load.allure_results import RunFacts, write_results

SUMMARY = {
    "profile": "steady",
    "traders": 50,
    "workers": 0,
    "seed": 9,
    "duration_s": 30.0,
    "peak_traders": 50,
    "failures_outside_faults": 0,
    "schedule": {
        "source": "inline",
        "seed": 9,
        "faults": [{"at": 10.0, "for": 5.0, "fault": "rithmic down"}],
    },
    "faults": [{"name": "rithmic down", "kind": "network", "target": "rithmic", "start": 10.0, "end": 15.0}],
    "invariants": {"no_lost_fill": "pass", "no_duplicate_order": "fail"},
}


def test_one_result_per_verdict_with_status_labels_and_attachments(tmp_path: Path) -> None:
    verdicts = [
        Verdict.ok("no_lost_fill", "all 3 contracts filled at the venue are in the middleware"),
        Verdict.fail(
            "no_duplicate_order", "1 reached the venue twice", [{"client_order_id": "a"}], "duplicate order"
        ),
    ]
    results = tmp_path / "allure-results"
    results.mkdir()
    (results / "old-result.json").write_text("{}")  # a reused dir must not mix two runs
    facts = RunFacts(SUMMARY, target="reference", started_ms=1_000, stopped_ms=31_000)
    files = write_results(results, verdicts, facts)
    loaded = {r["fullName"]: r for r in (json.loads(f.read_text()) for f in files)}
    assert set(loaded) == {"load.steady.no_lost_fill", "load.steady.no_duplicate_order"}
    passed, failed = loaded["load.steady.no_lost_fill"], loaded["load.steady.no_duplicate_order"]
    assert passed["status"] == "passed" and "statusDetails" not in passed
    assert failed["status"] == "failed"
    assert failed["statusDetails"]["message"].startswith("[duplicate order] no_duplicate_order:")
    labels = {(label["name"], label["value"]) for label in failed["labels"]}
    assert {("suite", "load"), ("profile", "steady"), ("seed", "9")} <= labels
    names = {a["name"]: a for a in failed["attachments"]}
    assert {"load-summary.json", "fault schedule", "fault timeline"} <= set(names)
    evidence = json.loads((results / names["no_duplicate_order: verdict and evidence"]["source"]).read_text())
    assert evidence["evidence"] == [{"client_order_id": "a"}] and evidence["passed"] is False
    schedule = json.loads((results / names["fault schedule"]["source"]).read_text())
    assert schedule["faults"][0]["fault"] == "rithmic down"
    assert [s["name"] for s in failed["steps"]] == ["fault: rithmic down (10.0-15.0 s)"]
    assert failed["start"] == 1_000 and failed["stop"] == 31_000
    assert not (results / "old-result.json").exists()
    assert (results / "categories.json").exists() and (results / "environment.properties").exists()
    assert "profile=steady" in (results / "environment.properties").read_text()
    assert json.loads((results / "executor.json").read_text())["type"] == "uat-load"

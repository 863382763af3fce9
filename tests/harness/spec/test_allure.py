"""Allure results of a review: one per rule, with its status, severity and findings."""

from __future__ import annotations

import json
from pathlib import Path

from harness.spec import load, review, write_allure
from tests.harness.spec import SPECS


def test_one_result_per_rule_with_its_status_severity_and_findings(tmp_path: Path) -> None:
    result = review(load(str(SPECS / "bad-error-schema.yaml")).document, source="bad-error-schema.yaml")
    (tmp_path / "other-result.json").write_text("{}")  # a gate's results in the same dir are kept
    written = write_allure(result, tmp_path, start_ms=1000)
    assert len(written) == len(result.outcomes) == 9
    assert (tmp_path / "other-result.json").is_file()
    results = {r["fullName"]: r for r in (json.loads(p.read_text()) for p in written)}
    assert set(results) == {f"spec-review.{o.rule.id}" for o in result.outcomes}

    failed = results["spec-review.error-schema"]
    assert failed["status"] == "failed" and failed["name"] == "error-schema: Error answers have a schema"
    assert failed["statusDetails"]["message"].startswith("2 finding(s)\n[major] #/paths/~1v1~1orders~1")
    labels = {label["name"]: label["value"] for label in failed["labels"]}
    assert labels["suite"] == "spec-review" and labels["severity"] == "critical"  # major: Allure's critical
    assert failed["start"] == 1000 and failed["stop"] >= 1000 and failed["uuid"] and failed["historyId"]
    attachment = tmp_path / failed["attachments"][0]["source"]
    assert [f["location"].rsplit("/", 1)[1] for f in json.loads(attachment.read_text())] == ["404", "409"]

    skipped = results["spec-review.pagination"]
    assert skipped["status"] == "skipped"
    assert skipped["statusDetails"]["message"] == "not applicable: no GET answers a list"
    passed = results["spec-review.security-scheme"]
    assert passed["status"] == "passed" and "statusDetails" not in passed
    assert {label["value"] for label in passed["labels"] if label["name"] == "severity"} == {"blocker"}
    assert not list(tmp_path.glob("*.tmp"))


def test_the_history_id_is_stable_across_reviews_of_the_same_spec(tmp_path: Path) -> None:
    doc = load(str(SPECS / "good.yaml")).document
    first = write_allure(review(doc, source="good.yaml"), tmp_path / "a")
    second = write_allure(review(doc, source="good.yaml"), tmp_path / "b")
    ids = [sorted(json.loads(p.read_text())["historyId"] for p in run) for run in (first, second)]
    assert ids[0] == ids[1] and len(set(ids[0])) == 9

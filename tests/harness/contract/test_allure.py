"""Allure results of a run: one per operation, failed with each failing case's curl."""

from __future__ import annotations

import json
from pathlib import Path

from harness.contract import write_allure
from tests.harness.contract.sample import CURL, RUN, STATEFUL_CURL


def test_one_result_per_operation_with_its_status_and_reproduce_commands(tmp_path: Path) -> None:
    (tmp_path / "other-result.json").write_text("{}")  # a gate's results in the same dir are kept
    written = write_allure(RUN, tmp_path, start_ms=1000)
    assert len(written) == 3 and (tmp_path / "other-result.json").is_file()
    results = {r["name"]: r for r in (json.loads(p.read_text()) for p in written)}
    assert {name: r["status"] for name, r in results.items()} == {
        "POST /items": "failed",
        "GET /items/{item_id}": "failed",
        "GET /ping": "skipped",
    }
    create = results["POST /items"]
    assert create["fullName"] == "contract.POST /items" and create["start"] == 1000
    assert create["statusDetails"]["message"].startswith(
        "1 check(s) failed\n[not_a_server_error] Server error"
    )
    assert f"    {CURL}" in create["statusDetails"]["message"]
    assert STATEFUL_CURL.splitlines()[1] in results["GET /items/{item_id}"]["statusDetails"]["message"]
    assert "ignored_auth** (Authentication is enforced): not run — the spec declares" in create["description"]
    labels = {label["name"]: label["value"] for label in create["labels"]}
    assert (labels["suite"], labels["subSuite"]) == ("contract", "broken")
    assert {p["name"]: p["value"] for p in create["parameters"]} == {"seed": "7", "max_examples": "10"}
    attachment = json.loads((tmp_path / create["attachments"][0]["source"]).read_text())
    assert [c["check"] for c in attachment if c["status"] == "failed"] == ["not_a_server_error"]
    skipped = results["GET /ping"]["statusDetails"]["message"]
    assert skipped.startswith("no check could run: not_a_server_error: the operation was not called")
    assert not list(tmp_path.glob("*.tmp"))


def test_the_history_id_is_stable_across_runs(tmp_path: Path) -> None:
    first, second = write_allure(RUN, tmp_path / "a"), write_allure(RUN, tmp_path / "b")
    ids = [sorted(json.loads(p.read_text())["historyId"] for p in run) for run in (first, second)]
    assert ids[0] == ids[1] and len(set(ids[0])) == 3

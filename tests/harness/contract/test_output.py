"""A run in a terminal and as JSON: per-operation counts, failures with their curl, not-run reasons."""

from __future__ import annotations

import io
import json

from rich.console import Console

from harness.contract import CHECK_NAMES, print_run, to_json, verdict_line
from tests.harness.contract.sample import CURL, NO_SECURITY, RUN, STATEFUL_CURL


def _text() -> str:
    console = Console(file=io.StringIO(), record=True, width=220, color_system=None)
    print_run(RUN, console)
    return console.export_text()


def test_the_table_has_one_row_per_operation_with_its_counts() -> None:
    text = _text()
    cells = [[c.strip() for c in line.split("│")[1:-1]] for line in text.splitlines() if line.count("│") == 7]
    rows = {row[0]: row[1:] for row in cells}
    assert rows == {
        "POST /items": ["12", "8", "1", "1", "not_a_server_error"],
        "GET /items/{item_id}": ["7", "8", "1", "1", "use_after_free, errors"],
        "GET /ping": ["0", "0", "0", "10", "-"],
    }


def test_every_failing_case_prints_its_curl_and_every_not_run_check_its_reason() -> None:
    text = _text()
    assert "FAILED POST /items not_a_server_error: No 5xx answer" in text
    assert f"    {CURL}" in text
    for line in STATEFUL_CURL.splitlines():  # a stateful failure: every request of the sequence
        assert f"    {line}" in text
    assert f"ignored_auth: {NO_SECURITY}\n    POST /items, GET /items/{{item_id}}" in text
    assert "error GET /items/{item_id}: Network Error: connection refused" in text
    assert "excluded by the target file: GET /stream" in text
    assert text.rstrip().endswith(verdict_line(RUN))


def test_the_verdict_line_counts_operations_and_checks() -> None:
    assert verdict_line(RUN) == (
        "contract FAILED: broken against http://127.0.0.1:8000/openapi.json: 2/3 operations failed; "
        "checks: 16 passed, 2 failed, 12 not run; seed 7, 1.2 s"
    )


def test_the_json_has_every_check_of_every_operation() -> None:
    document = to_json(RUN)
    assert json.loads(json.dumps(document)) == document
    assert (document["verdict"], document["exit_code"], document["seed"], document["stopped"]) == (
        "failed", 1, 7, "completed",
    )  # fmt: skip
    assert [c["name"] for c in document["checks"]] == list(CHECK_NAMES)
    create = document["operations"][0]
    assert create["operation"] == "POST /items" and create["counts"] == {
        "passed": 8,
        "failed": 1,
        "not_run": 1,
    }
    checks = {c["check"]: c for c in create["checks"]}
    assert checks["not_a_server_error"]["failures"][0]["curl"] == CURL
    assert checks["ignored_auth"] == {
        "check": "ignored_auth", "status": "not_run", "cases": 0, "reason": NO_SECURITY, "by_spec": True,
        "failures": [],
    }  # fmt: skip
    assert document["excluded"] == ["GET /stream"]

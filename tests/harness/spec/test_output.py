"""The review in a terminal and as JSON."""

from __future__ import annotations

import io
import json

from rich.console import Console

from harness.spec import RULES, load, print_review, review, to_json, verdict_line
from tests.harness.spec import SPECS


def test_the_json_document_has_every_rule_with_its_why_fix_and_findings() -> None:
    result = review(load(str(SPECS / "bad-pagination.yaml")).document, source="bad-pagination.yaml")
    document = to_json(result)
    assert json.loads(json.dumps(document)) == document
    assert (document["spec"], document["openapi"], document["verdict"], document["exit_code"]) == (
        "bad-pagination.yaml", "3.0.3", "passed", 0,
    )  # fmt: skip
    assert document["counts"] == {"blocker": 0, "major": 1, "minor": 0}
    rules = {r["id"]: r for r in document["rules"]}
    assert list(rules) == ["valid-openapi", *(rule.id for rule in RULES)]
    fields = {"id", "title", "severity", "status", "reason", "checked", "why", "fix", "findings"}
    assert set(rules["pagination"]) == fields
    assert rules["pagination"]["status"] == "failed" and rules["pagination"]["findings"] == [
        {
            "rule": "pagination",
            "severity": "major",
            "location": "#/paths/~1v1~1fills/get",
            "message": "GET /v1/fills returns a list but takes no `limit`",
        }
    ]
    assert rules["webhook-signature"]["status"] == "not_applicable"
    assert rules["webhook-signature"]["reason"].startswith("the spec has no webhooks")


def test_the_table_shows_each_rule_and_the_findings_with_their_fix() -> None:
    result = review(load(str(SPECS / "bad-idempotency-key.yaml")).document, source="bad-idempotency-key.yaml")
    console = Console(file=io.StringIO(), record=True, width=200, color_system=None)
    print_review(result, console)
    text = console.export_text()
    cells = [[c.strip() for c in line.split("│")[1:-1]] for line in text.splitlines() if line.count("│") == 6]
    rows = {row[0]: row for row in cells if row[0]}
    assert list(rows) == ["valid-openapi", *(rule.id for rule in RULES)]
    assert rows["idempotency-key"][1:4] == ["blocker", "FAILED", "1"]
    assert rows["idempotency-key"][4].startswith("#/paths/~1v1~1orders/post: POST /v1/orders places orders")
    assert rows["pagination"][1:] == ["major", "n/a", "-", "no GET answers a list"]
    assert rows["valid-openapi"][1:] == ["blocker", "passed", "0", "1 checked, nothing wrong"]
    assert "fix: Require an `Idempotency-Key` header" in text
    assert text.rstrip().endswith(verdict_line(result))


def test_the_verdict_line_counts_findings_and_rules() -> None:
    result = review(load(str(SPECS / "bad-security-scheme.yaml")).document, source="s.yaml")
    assert verdict_line(result) == (
        "spec review FAILED: s.yaml: 2 blockers, 0 majors, 0 minors; "
        "rules: 5 passed, 1 failed, 3 not applicable"
    )

"""A review as Allure results: one test per rule, so `uat report DIR` shows a spec review beside
the gate's runs.

Written as allure-pytest writes them (allure_commons' result model, `<uuid>-result.json` and
`<uuid>-attachment.json`, each through a temporary name so a reader never sees half a file). Status:
passed, failed, or skipped with the reason when not applicable. Severity: blocker stays blocker,
major is Allure's `critical` (must be fixed, but does not fail the review), minor stays minor.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from pathlib import Path

import attr
from allure_commons.model2 import Attachment, Label, Status, StatusDetails, TestResult

from .model import Outcome
from .review import Review

ALLURE_SEVERITY = {"blocker": "blocker", "major": "critical", "minor": "minor"}
_STATUS = {"passed": Status.PASSED, "failed": Status.FAILED, "not_applicable": Status.SKIPPED}
SUITE = "spec-review"


def write_allure(review: Review, directory: Path, *, start_ms: int | None = None) -> list[Path]:
    """One result per rule into `directory` (created; other results in it are kept); returns them."""
    stop_ms = int(time.time() * 1000)
    start_ms = stop_ms if start_ms is None else start_ms
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for outcome in review.outcomes:
        findings = json.dumps([f.to_json() for f in outcome.findings], indent=2)
        source = f"{uuid.uuid4()}-attachment.json"
        _put(directory / source, findings)
        result = _result(review, outcome, start_ms, stop_ms)
        result.attachments.append(Attachment(name="findings", source=source, type="application/json"))
        data = attr.asdict(result, filter=lambda _, value: bool(value) or value is False)
        written.append(_put(directory / f"{result.uuid}-result.json", json.dumps(data, ensure_ascii=False)))
    return written


def _result(review: Review, outcome: Outcome, start_ms: int, stop_ms: int) -> TestResult:
    rule = outcome.rule
    return TestResult(
        uuid=str(uuid.uuid4()),
        historyId=_md5(SUITE, review.source, rule.id),
        testCaseId=_md5(SUITE, rule.id),
        name=f"{rule.id}: {rule.title}",
        fullName=f"{SUITE}.{rule.id}",
        description=f"{rule.why}\n\n**Fix:** {rule.fix}",
        status=_STATUS[outcome.status],
        statusDetails=_details(outcome),
        stage="finished",
        start=start_ms,
        stop=stop_ms,
        labels=[
            Label(name="parentSuite", value="stack-uat"),
            Label(name="suite", value=SUITE),
            Label(name="subSuite", value=review.source),
            Label(name="feature", value=rule.id),
            Label(name="severity", value=ALLURE_SEVERITY[rule.severity]),
            Label(name="tag", value=SUITE),
        ],
    )


def _details(outcome: Outcome) -> StatusDetails | None:
    if outcome.status == "not_applicable":
        return StatusDetails(message=f"not applicable: {outcome.reason}")
    if not outcome.findings:
        return None
    lines = [f"[{f.severity}] {f.location}: {f.message}" for f in outcome.findings]
    return StatusDetails(message=f"{len(lines)} finding(s)\n" + "\n".join(lines))


def _put(path: Path, body: str) -> Path:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(body, encoding="utf-8")
    temporary.replace(path)
    return path


def _md5(*parts: str) -> str:
    return hashlib.md5("\0".join(parts).encode(), usedforsecurity=False).hexdigest()

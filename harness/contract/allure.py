"""A contract run as Allure results: one test per operation, so `uat report DIR` shows it beside the
gate's runs. Written as harness.spec.allure writes a review's (allure_commons' model, each file
through a temporary name). Status: failed if any check failed, passed if every check that ran
passed, skipped when no check could run; each failing case's curl command is in the details and in
the operation's JSON attachment.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from pathlib import Path

import attr
from allure_commons.model2 import Attachment, Label, Parameter, Status, StatusDetails, TestResult

from .model import BY_NAME, ContractRun, OperationResult

SUITE = "contract"


def write_allure(run: ContractRun, directory: Path, *, start_ms: int | None = None) -> list[Path]:
    """One result per operation into `directory` (created; other results in it are kept)."""
    stop_ms = int(time.time() * 1000)
    start_ms = stop_ms if start_ms is None else start_ms
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for op in run.operations:
        source = f"{uuid.uuid4()}-attachment.json"
        _put(directory / source, json.dumps([o.to_json() for o in op.outcomes], indent=2))
        result = _result(run, op, start_ms, stop_ms)
        result.attachments.append(Attachment(name="checks", source=source, type="application/json"))
        data = attr.asdict(result, filter=lambda _, value: bool(value) or value is False)
        written.append(_put(directory / f"{result.uuid}-result.json", json.dumps(data, ensure_ascii=False)))
    return written


def _status(op: OperationResult) -> str:
    if op.failed or op.errors:
        return Status.FAILED
    return Status.PASSED if op.count("passed") else Status.SKIPPED


def _result(run: ContractRun, op: OperationResult, start_ms: int, stop_ms: int) -> TestResult:
    return TestResult(
        uuid=str(uuid.uuid4()),
        historyId=_md5(SUITE, run.target, op.label),
        testCaseId=_md5(SUITE, op.label),
        name=op.label,
        fullName=f"{SUITE}.{op.label}",
        description=_description(op),
        status=_status(op),
        statusDetails=_details(op),
        stage="finished",
        start=start_ms,
        stop=stop_ms,
        parameters=[
            Parameter(name="seed", value=str(run.budget.seed)),
            Parameter(name="max_examples", value=str(run.budget.max_examples)),
        ],
        labels=[
            Label(name="parentSuite", value="stack-uat"),
            Label(name="suite", value=SUITE),
            Label(name="subSuite", value=run.target),
            Label(name="feature", value=op.label),
            Label(name="severity", value="critical"),
            Label(name="tag", value=SUITE),
        ],
    )


def _description(op: OperationResult) -> str:
    rows = [f"- **{o.check}** ({BY_NAME[o.check].title}): {o.status.replace('_', ' ')}" for o in op.outcomes]
    return f"{op.cases} case(s) sent.\n\n" + "\n".join(
        row + (f" — {o.reason}" if o.reason else f", {o.cases} case(s)")
        for row, o in zip(rows, op.outcomes, strict=True)
    )


def _details(op: OperationResult) -> StatusDetails | None:
    lines = []
    for outcome in op.outcomes:
        for failure in outcome.failures:
            lines.append(f"[{outcome.check}] {failure.title} (HTTP {failure.status_code})")
            lines.extend(f"    {line}" for line in failure.curl.splitlines())
    lines.extend(f"[error] {error}" for error in op.errors)
    if lines:
        return StatusDetails(message=f"{op.count('failed')} check(s) failed\n" + "\n".join(lines))
    if not op.count("passed"):
        reasons = "; ".join(f"{o.check}: {o.reason}" for o in op.outcomes)
        return StatusDetails(message=f"no check could run: {reasons}")
    return None


def _put(path: Path, body: str) -> Path:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(body, encoding="utf-8")
    temporary.replace(path)
    return path


def _md5(*parts: str) -> str:
    return hashlib.md5("\0".join(parts).encode(), usedforsecurity=False).hexdigest()

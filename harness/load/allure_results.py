"""Allure results for a load run, written directly as result files (no pytest session runs here):
one test per invariant with the same verdict and evidence the summary holds, so `uat report
REPORT_DIR` builds the same kind of HTML for a load run as for the gate."""

from __future__ import annotations

import hashlib
import json
import platform
import shutil
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import attr
from allure_commons.model2 import (
    Attachment,
    Label,
    Parameter,
    Status,
    StatusDetails,
    TestResult,
    TestStepResult,
)

from ..checks import Verdict
from ..report.allure import git_commit, versions, write_metadata

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class RunFacts:
    """What every invariant's result shares: the run's identity, timing and files."""

    summary: dict[str, Any]
    target: str
    started_ms: int
    stopped_ms: int
    plot: Path | None = None


def write_results(results: Path, verdicts: Sequence[Verdict], facts: RunFacts) -> list[Path]:
    """Write one result per verdict into `results` (emptied first: one run per dir); returns them."""
    if results.is_dir():
        shutil.rmtree(results)
    results.mkdir(parents=True)
    logger = _Files(results)
    summary = facts.summary
    shared = [
        _attach(logger, json.dumps(summary, indent=2, default=str), "load-summary.json", "json"),
        _attach(logger, json.dumps(summary.get("schedule"), indent=2), "fault schedule", "json"),
        _attach(logger, json.dumps(summary.get("faults", []), indent=2), "fault timeline", "json"),
    ]
    if facts.plot is not None and facts.plot.is_file():
        source = logger.write(facts.plot.read_bytes(), "png")
        shared.append(Attachment(name="RPS, latency, failures and faults", source=source, type="image/png"))
    for verdict in verdicts:
        logger.result(_result(logger, verdict, facts, shared))
    _metadata(results, facts)
    return sorted(results.glob("*-result.json"))


def _result(logger: _Files, verdict: Verdict, facts: RunFacts, shared: list[Attachment]) -> TestResult:
    summary = facts.summary
    profile, seed = str(summary.get("profile")), str(summary.get("seed"))
    evidence = json.dumps(verdict.to_json(), indent=2, default=str)
    own = _attach(logger, evidence, f"{verdict.check}: verdict and evidence", "json")
    label = {"no_evidence": "no evidence", "skipped": "skipped"}.get(verdict.status, verdict.category)
    message = verdict.summary if verdict.passed else f"[{label}] {verdict.check}: {verdict.summary}"
    status = {"passed": Status.PASSED, "skipped": Status.SKIPPED}.get(verdict.status, Status.FAILED)
    return TestResult(
        uuid=str(uuid.uuid4()),
        historyId=_md5("load", profile, verdict.check),
        testCaseId=_md5("load", verdict.check),
        name=f"{verdict.check} under {profile} load",
        fullName=f"load.{profile}.{verdict.check}",
        description=(
            f"Invariant `{verdict.check}` over a `{profile}` load run of {summary.get('traders')} traders "
            f"(seed {seed}, {summary.get('workers')} workers). "
            f"Failures outside fault windows: {summary.get('failures_outside_faults')}."
        ),
        status=status,  # no evidence is never a pass
        statusDetails=None if verdict.passed else StatusDetails(message=message),
        stage="finished",
        start=facts.started_ms,
        stop=facts.stopped_ms,
        steps=_fault_steps(summary.get("faults") or [], facts.started_ms),
        attachments=[own, *shared],
        parameters=[
            Parameter(name=key, value=str(summary.get(key)))
            for key in ("profile", "traders", "duration_s", "workers", "seed")
        ],
        labels=[
            Label(name="parentSuite", value="stack-uat"),
            Label(name="suite", value="load"),
            Label(name="subSuite", value=profile),
            Label(name="epic", value="load"),
            Label(name="feature", value=profile),
            Label(name="story", value=verdict.check),
            Label(name="severity", value="critical"),
            Label(name="tag", value="load"),
            Label(name="profile", value=profile),
            Label(name="seed", value=seed),
            Label(name="host", value=socket.gethostname()),
            Label(name="language", value="python"),
            Label(name="framework", value="locust"),
        ],
    )


def _fault_steps(faults: list[dict[str, Any]], started_ms: int) -> list[TestStepResult]:
    """One step per fault window, at its place in the run (seconds since the start)."""
    steps = []
    for window in faults:
        start, end = float(window.get("start") or 0.0), window.get("end")
        span = f"{start:.1f}-{float(end):.1f} s" if end is not None else f"{start:.1f} s to the end"
        steps.append(
            TestStepResult(
                name=f"fault: {window.get('name')} ({span})",
                status=Status.PASSED,
                stage="finished",
                start=started_ms + int(start * 1000),
                stop=started_ms + int(float(end if end is not None else start) * 1000),
            )
        )
    return steps


class _Files:
    """Allure's result-directory layout: `<uuid>-result.json` and `<uuid>-attachment.<ext>`, each
    written to a temporary name first so a reader never sees half a file."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def write(self, body: bytes, ext: str) -> str:
        name = f"{uuid.uuid4()}-attachment.{ext}"
        self._put(name, body)
        return name

    def result(self, result: TestResult) -> None:
        data = attr.asdict(result, filter=lambda _, value: bool(value) or value is False)
        self._put(f"{result.uuid}-result.json", json.dumps(data, ensure_ascii=False).encode())

    def _put(self, name: str, body: bytes) -> None:
        temporary = self.directory / f"{name}.tmp"
        temporary.write_bytes(body)
        temporary.replace(self.directory / name)


def _md5(*parts: str) -> str:
    return hashlib.md5("".join(parts).encode(), usedforsecurity=False).hexdigest()


def _attach(logger: _Files, body: str, name: str, kind: str) -> Attachment:
    source = logger.write(body.encode(), kind)
    return Attachment(name=name, source=source, type="application/json" if kind == "json" else "text/plain")


def _metadata(results: Path, facts: RunFacts) -> None:
    summary = facts.summary
    env = {
        "run": "load",
        "target": facts.target,
        "profile": str(summary.get("profile")),
        "traders": str(summary.get("traders")),
        "peak_traders": str(summary.get("peak_traders")),
        "workers": str(summary.get("workers")),
        "seed": str(summary.get("seed")),
        "failures_outside_faults": str(summary.get("failures_outside_faults")),
        "os": platform.platform(),
        "git_commit": git_commit(ROOT),
        **{f"version.{k}": v for k, v in versions().items()},
    }
    write_metadata(results, env, name=f"load {summary.get('profile')} seed {summary.get('seed')}")
    executor = json.loads((results / "executor.json").read_text())
    executor.update(type="uat-load", reportName="stack-uat load run")
    (results / "executor.json").write_text(json.dumps(executor, indent=2))


__all__ = ["RunFacts", "write_results"]

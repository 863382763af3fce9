"""How a scenario's run shows in Allure and in its gate.json record: a step per phase as the runner
reports it, a step per check with its diagnosis, the evidence and the attachments."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from typing import Any

import pytest

ProgressHook = Callable[[str, str, tuple[str, ...]], None]


class Steps:
    """Allure steps opened and closed as the runner reports its phases."""

    def __init__(self) -> None:
        self.current: Any = None
        self.phase = ""
        self.faults: tuple[str, ...] = ()
        self.started = time.monotonic()

    def on_progress(self, phase: str, faults: tuple[str, ...]) -> None:
        import allure

        if phase != self.phase:
            self.close()
            self.phase = phase
            self.current = allure.step(f"{phase}")
            self.current.__enter__()
        if faults != self.faults:
            at = time.monotonic() - self.started
            title = f"t+{at:.1f} s: " + (
                f"faults active: {', '.join(faults)}" if faults else "faults cleared"
            )
            with allure.step(title):
                pass
            self.faults = faults

    def close(self, exc: BaseException | None = None) -> None:
        step, self.current = self.current, None
        if step is not None:
            if exc is None:
                step.__exit__(None, None, None)
            else:
                step.__exit__(type(exc), exc, exc.__traceback__)


def report(record: dict[str, Any], result: Any, progress: ProgressHook) -> None:
    """A scenario's result into its record and Allure: a step per check, the evidence, the
    attachments; a failed or inconclusive scenario fails its test with the reasons and reproduce."""
    import allure

    from harness.report.attachments import attach_result

    by_status: dict[str, list[Any]] = {}
    for verdict in result.verdicts:
        by_status.setdefault(verdict.status, []).append(verdict)
    failed, thin = by_status.get("failed", []), by_status.get("no_evidence", [])
    skipped = by_status.get("skipped", [])
    title = (
        f"verdict per check: {len(failed)} failed, {len(thin)} without evidence, {len(skipped)} skipped "
        f"of {len(result.verdicts)}"
    )
    with contextlib.suppress(AssertionError), allure.step(title):  # a failed step, not a raise
        for verdict in result.verdicts:
            _verdict_step(verdict)
        if failed or thin:
            raise AssertionError(", ".join(v.check for v in [*failed, *thin]))
    measured = json.dumps(result.measured.to_json() if result.measured else {})
    with contextlib.suppress(AssertionError), allure.step(f"evidence measured: {measured}"):
        if result.missing:
            raise AssertionError("; ".join(result.missing))
    attach_result(result, record["reproduce"])
    data = result.to_json()
    record.update(
        status=result.status,
        reason=result.reason,
        missing_evidence=result.missing_evidence,
        evidence=data["evidence"],
        customers=data["customers"],
        duration_s=data["duration_s"],
        phases=data["phases"],
        faults=data["faults"],
        verdicts=[{k: v for k, v in verdict.items() if k != "evidence"} for verdict in data["verdicts"]],
        failing_checks=[v.to_json() for v in failed],
        inconclusive_checks=[v.to_json() for v in thin],
        skipped_checks=[v.to_json() for v in skipped],
    )
    done = {
        "passed": "passed",
        "failed": f"FAILED ({', '.join(v.check for v in failed)})",
        "inconclusive": f"INCONCLUSIVE (no evidence: {_first(result.missing_evidence)})",
    }.get(result.status, result.status)
    progress(record["id"], f"{done} in {record['duration_s']:.1f} s", ())
    if result.status == "failed":
        lines = []
        for v in failed:
            lines.append(f"[{v.category or 'protocol handling'}] {v.check}: {v.summary}")
            if v.diagnosis:
                lines.append(f"  diagnosis: {v.diagnosis['summary']}")
        if result.missing_evidence:
            lines.append("the run was also short of evidence: " + "; ".join(result.missing_evidence))
        lines.append(f"reproduce: {record['reproduce']}")
        pytest.fail("\n".join(lines), pytrace=False)
    if result.status == "inconclusive":
        lines = ["[no evidence] inconclusive: not enough evidence to judge the middleware"]
        lines += [f"missing: {what}" for what in result.missing_evidence]
        lines.append(f"reproduce: {record['reproduce']}")
        pytest.fail("\n".join(lines), pytrace=False)


def _first(items: list[str], shown: int = 2) -> str:
    more = f"; and {len(items) - shown} more" if len(items) > shown else ""
    return "; ".join(items[:shown]) + more


def _verdict_step(verdict: Any) -> None:
    """One Allure step per check: passed, failed, no evidence (failed, its own words) or skipped."""
    import allure

    label = {"passed": "ok", "failed": "FAILED", "no_evidence": "NO EVIDENCE", "skipped": "skipped"}
    title = f"{verdict.check}: {label.get(verdict.status, verdict.status)}: {verdict.summary}"
    with contextlib.suppress(AssertionError, pytest.skip.Exception), allure.step(title):
        if verdict.diagnosis:
            with allure.step(f"diagnosis: {verdict.diagnosis['summary']}"):
                pass
        if verdict.status in ("failed", "no_evidence"):
            raise AssertionError(verdict.summary)
        if verdict.status == "skipped":
            pytest.skip(verdict.summary)

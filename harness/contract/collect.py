"""Schemathesis's engine events into one result per operation: for each check, the cases it judged,
its failing cases (each with the curl commands that reproduce it), or why it did not run.

Schemathesis records every check on every case, including a check with nothing to look at (a
negative-data check on a valid request), as a success. A check counts a case only when the case is
one it can judge (`_JUDGES`), and a check the spec gives nothing to judge is NOT RUN before any
case is counted (applicable.not_applicable).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .model import CHECK_NAMES, CaseFailure, CheckOutcome, OperationResult

MAX_FAILURES_KEPT = 5  # distinct failing cases kept per check and operation; all are counted
STATEFUL = "stateful"

# Why an applicable check judged no case, in the architect's words.
_UNREACHED = {
    "negative_data_rejection": "no invalid request was generated for this operation",
    "positive_data_acceptance": "no valid request was generated for this operation",
    "missing_required_header": "no case left out a required header",
    "use_after_free": "no linked sequence read this resource after a successful DELETE",
    "ensure_resource_availability": "no linked sequence read this resource after a successful POST",
}


@dataclass
class _Tally:
    cases: set[str] = field(default_factory=set)
    answered: set[str] = field(default_factory=set)
    judged: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    failures: dict[str, dict[tuple[str, str, str], CaseFailure]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    failed_cases: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    errors: list[str] = field(default_factory=list)


class Collector:
    """Fed every engine event (`feed`), then asked for the results (`results`)."""

    def __init__(self, labels: Iterable[str], redact: Callable[[str], str] = lambda text: text) -> None:
        self.labels = tuple(labels)  # the operations under test, in the spec's order
        self.redact = redact
        self._ops: dict[str, _Tally] = defaultdict(_Tally)
        self.phase_skips: dict[str, str] = {}  # phase -> why it did not run
        self.run_errors: list[str] = []
        self.stop_reason = "completed"

    def feed(self, event: Any) -> None:
        from schemathesis.engine import events

        if isinstance(event, events.ScenarioFinished):
            self._scenario(event.recorder, str(event.phase))
        elif isinstance(event, events.PhaseFinished):
            reason = event.phase.skip_reason
            if reason is not None:
                self.phase_skips[str(event.phase.name)] = str(reason).replace("_", " ")
        elif isinstance(event, events.NonFatalError):
            message = self.redact(f"{event.info.title}: {_first_line(event.info.message)}")
            if event.label in self.labels:
                self._ops[event.label].errors.append(message)
            else:
                self.run_errors.append(f"{event.label}: {message}")
        elif isinstance(event, events.FatalError):
            self.run_errors.append(self.redact(f"fatal: {type(event.exception).__name__}: {event.exception}"))
        elif isinstance(event, events.EngineFinished):
            self.stop_reason = str(event.stop_reason)

    def _scenario(self, recorder: Any, phase: str) -> None:
        for case_id, node in recorder.cases.items():
            tally = self._ops[node.value.operation.label]
            tally.cases.add(case_id)
            interaction = recorder.interactions.get(case_id)
            if interaction is not None and interaction.response is not None:
                tally.answered.add(case_id)
        for case_id, checks in recorder.checks.items():
            node = recorder.cases.get(case_id)
            if node is None:
                continue
            tally = self._ops[node.value.operation.label]
            for check in checks:
                if check.name not in CHECK_NAMES:
                    continue
                status = str(check.status)
                if status == "error":
                    tally.errors.append(f"{check.name} crashed on a case")
                    continue
                if status == "failure" and check.failure_info is not None:
                    tally.judged[check.name].add(case_id)
                    tally.failed_cases[check.name].add(case_id)
                    self._failure(tally, check.name, check.failure_info, recorder, case_id)
                elif _JUDGES.get(check.name, _any)(recorder, case_id, phase):
                    tally.judged[check.name].add(case_id)

    def _failure(self, tally: _Tally, check: str, info: Any, recorder: Any, case_id: str) -> None:
        failure = info.failure
        steps = [step.curl.strip() for step in getattr(info, "steps", ()) or ()]
        curl = "\n".join(steps) if len(steps) > 1 else str(info.code_sample).strip()
        interaction = recorder.interactions.get(case_id)
        status = (
            interaction.response.status_code if interaction is not None and interaction.response else None
        )
        found = CaseFailure(
            check=check,
            title=self.redact(str(failure.title)),
            message=self.redact(str(failure.message).strip()),
            status_code=status,
            curl=self.redact(curl),
        )
        kept = tally.failures[check]
        key = (found.title, found.message, found.curl)
        if key not in kept and len(kept) < MAX_FAILURES_KEPT:
            kept[key] = found

    def results(
        self, not_applicable: Callable[[str], dict[str, str]], *, out_of_time: bool
    ) -> tuple[OperationResult, ...]:
        """One result per operation under test, with every check in CHECK_NAMES."""
        results = []
        for label in self.labels:
            tally = self._ops.get(label, _Tally())
            reasons = not_applicable(label)
            outcomes = [self._outcome(check, tally, reasons.get(check), out_of_time) for check in CHECK_NAMES]
            results.append(OperationResult(label, tuple(outcomes), len(tally.cases), _counted(tally.errors)))
        return tuple(results)

    def _outcome(self, check: str, tally: _Tally, reason: str | None, out_of_time: bool) -> CheckOutcome:
        if reason is not None:
            return CheckOutcome(check, "not_run", reason=reason, by_spec=True)
        judged = len(tally.judged.get(check, ()))
        if tally.failed_cases.get(check):
            failures = tuple(tally.failures[check].values())
            return CheckOutcome(check, "failed", judged, failures)
        if judged:
            return CheckOutcome(check, "passed", judged)
        return CheckOutcome(check, "not_run", reason=self._unreached(check, tally, out_of_time))

    def _unreached(self, check: str, tally: _Tally, out_of_time: bool) -> str:
        if not tally.cases:
            why = "the operation was not called"
        elif not tally.answered:
            why = "no case was answered (see the operation's errors)"
        elif check in ("use_after_free", "ensure_resource_availability") and STATEFUL in self.phase_skips:
            why = f"the stateful phase did not run ({self.phase_skips[STATEFUL]})"
        else:
            why = _UNREACHED.get(check, "no case reached this check")
        return f"{why} (the time budget ran out first)" if out_of_time else why


def _counted(errors: list[str]) -> tuple[str, ...]:
    """Each distinct error once, with how often it happened when more than once."""
    counts: dict[str, int] = {}
    for error in errors:
        counts[error] = counts.get(error, 0) + 1
    return tuple(error if n == 1 else f"{error} ({n} times)" for error, n in counts.items())


def _first_line(text: str) -> str:
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return lines[0] if lines else ""


# Which recorded cases a check really judged, beyond "it was called on them".


def _any(recorder: Any, case_id: str, phase: str) -> bool:
    return True


def _mode(recorder: Any, case_id: str) -> Any:
    meta = recorder.cases[case_id].value.meta
    return None if meta is None else meta.generation.mode


def _negative(recorder: Any, case_id: str, phase: str) -> bool:
    mode = _mode(recorder, case_id)
    return mode is not None and bool(mode.is_negative)


def _positive(recorder: Any, case_id: str, phase: str) -> bool:
    mode = _mode(recorder, case_id)
    return mode is not None and bool(mode.is_positive)


def _missing_header(recorder: Any, case_id: str, phase: str) -> bool:
    meta = recorder.cases[case_id].value.meta
    data = getattr(getattr(meta, "phase", None), "data", None)
    location = getattr(data, "parameter_location", None)
    scenario = getattr(data, "scenario", None)
    return str(location).lower().endswith("header") and "missing_parameter" in str(scenario).lower()


def _after_delete(recorder: Any, case_id: str, phase: str) -> bool:
    if phase != STATEFUL or recorder.cases[case_id].value.operation.method.lower() not in ("get", "head"):
        return False
    for related in recorder.find_related(case_id=case_id):
        response = recorder.find_response(case_id=related.id)
        deleted = response is not None and 200 <= response.status_code < 300
        if deleted and related.operation.method.lower() == "delete":
            return True
    return False


def _after_create(recorder: Any, case_id: str, phase: str) -> bool:
    if phase != STATEFUL:
        return False
    parent = recorder.find_parent(case_id=case_id)
    if parent is None or parent.operation.method.upper() != "POST":
        return False
    response = recorder.find_response(case_id=parent.id)
    return response is not None and 200 <= response.status_code < 400


_JUDGES: dict[str, Callable[[Any, str, str], bool]] = {
    "negative_data_rejection": _negative,
    "positive_data_acceptance": _positive,
    "missing_required_header": _missing_header,
    "use_after_free": _after_delete,
    "ensure_resource_availability": _after_create,
}

"""What a contract run is made of: the checks it runs, each check's outcome on one operation, and
the run. A leaf: the runner, the collector and every output speak these types.

A check reports `not_run` with its reason whenever it could not judge (nothing in the spec for it
to hold the answers to, or no case reached it), never `passed`: Schemathesis itself records a check
that had nothing to look at as a success.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from ..exitcodes import EXIT_FAILED, EXIT_OK

CheckStatus = Literal["passed", "failed", "not_run"]
Verdict = Literal["passed", "failed", "inconclusive"]


@dataclass(frozen=True)
class CheckInfo:
    """One Schemathesis check as the architect reads it; `stateful` checks need the spec's links."""

    name: str
    title: str
    why: str
    stateful: bool = False


CHECKS: tuple[CheckInfo, ...] = (
    CheckInfo(
        "not_a_server_error",
        "No 5xx answer",
        "A 5xx to a request the client could send is a crash the agency has not handled.",
    ),
    CheckInfo(
        "status_code_conformance",
        "Statuses are documented",
        "A client (and the harness's adapter) can only act on the statuses the spec promises.",
    ),
    CheckInfo(
        "content_type_conformance",
        "Content types are documented",
        "An answer in a media type the spec does not list cannot be parsed by a generated client.",
    ),
    CheckInfo(
        "response_schema_conformance",
        "Answers match their schema",
        "A field with the wrong type or missing breaks every client built from the spec.",
    ),
    CheckInfo(
        "negative_data_rejection",
        "Invalid requests are refused",
        "A request the spec forbids must get a 4xx, not be acted on: an order must never be half-read.",
    ),
    CheckInfo(
        "positive_data_acceptance",
        "Valid requests are accepted",
        "A request the spec allows must not be refused as malformed: the spec and the code disagree.",
    ),
    CheckInfo(
        "missing_required_header",
        "A missing required header is refused",
        "A required header (a signature, a key) that is not checked protects nothing.",
    ),
    CheckInfo(
        "ignored_auth",
        "Authentication is enforced",
        "An operation that declares security but answers 2xx without credentials leaks data.",
    ),
    CheckInfo(
        "use_after_free",
        "A deleted resource stays gone",
        "After a successful DELETE, reading the resource must answer 404, not serve stale state.",
        stateful=True,
    ),
    CheckInfo(
        "ensure_resource_availability",
        "A created resource can be read",
        "A resource the API just said it created must be readable through the spec's links.",
        stateful=True,
    ),
)
CHECK_NAMES = tuple(check.name for check in CHECKS)
BY_NAME = {check.name: check for check in CHECKS}


@dataclass(frozen=True)
class CaseFailure:
    """One failing case: what broke, the answer's status, and the curl command that reproduces it."""

    check: str
    title: str
    message: str
    status_code: int | None
    curl: str

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "title": self.title,
            "message": self.message,
            "status_code": self.status_code,
            "curl": self.curl,
        }


@dataclass(frozen=True)
class CheckOutcome:
    """One check on one operation: `cases` it judged; `reason` says why it did not run."""

    check: str
    status: CheckStatus
    cases: int = 0
    failures: tuple[CaseFailure, ...] = ()
    reason: str = ""
    # not run because the spec gives it nothing to judge here (no security, no header, no link), as
    # opposed to a run that never got there (out of time, no answer): only the first is a skip
    by_spec: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "status": self.status,
            "cases": self.cases,
            "reason": self.reason,
            "by_spec": self.by_spec,
            "failures": [f.to_json() for f in self.failures],
        }


@dataclass(frozen=True)
class OperationResult:
    """Every check on one operation (`GET /v1/orders/{client_order_id}`); `errors` are cases that could
    not be sent or judged (a timeout, a refused connection), which are not a check's verdict."""

    label: str
    outcomes: tuple[CheckOutcome, ...]
    cases: int = 0
    errors: tuple[str, ...] = ()

    @property
    def failed(self) -> bool:
        return any(o.status == "failed" for o in self.outcomes)

    def count(self, status: CheckStatus) -> int:
        return sum(o.status == status for o in self.outcomes)

    def outcome(self, check: str) -> CheckOutcome:
        return next(o for o in self.outcomes if o.check == check)


@dataclass(frozen=True)
class Budget:
    """How a run is bounded and derandomised: the same seed sends the same cases."""

    seed: int
    max_examples: int
    time_budget_s: float


@dataclass(frozen=True)
class ContractRun:
    """One run against one live target. `stopped` is why the engine stopped (`completed`, or
    `time_budget` when the budget ran out first); `errors` are run-wide problems."""

    target: str
    spec: str
    base_url: str
    budget: Budget
    operations: tuple[OperationResult, ...]
    wall_s: float
    stopped: str = "completed"
    errors: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()

    @property
    def verdict(self) -> Verdict:
        """Failed on any failing check, or any case the target did not answer (a refused connection, a
        timeout: the middleware's fault, as is a schema no valid request can be made for);
        inconclusive when no operation was judged by any check."""
        if any(op.failed or op.errors for op in self.operations):
            return "failed"
        if not any(op.count("passed") for op in self.operations):
            return "inconclusive"
        return "passed"

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.verdict == "passed" else EXIT_FAILED

"""The contract checkers over a recorded Schemathesis run: a failing case fails its group with the
curl command, an unanswered case fails server errors, and a group nothing judged is never passed."""

from __future__ import annotations

from harness.checks.contract import GROUPS, judge
from harness.contract import Budget, CaseFailure, CheckOutcome, ContractRun, OperationResult


def _run(*operations: OperationResult) -> ContractRun:
    return ContractRun("t", "spec", "http://127.0.0.1:1", Budget(7, 5, 10.0), operations, wall_s=1.0)


def _op(label: str, *outcomes: CheckOutcome, errors: tuple[str, ...] = ()) -> OperationResult:
    return OperationResult(label, outcomes, cases=5, errors=errors)


def _passed(check: str) -> CheckOutcome:
    return CheckOutcome(check, "passed", cases=5)


def _not_run(check: str, why: str, *, by_spec: bool = False) -> CheckOutcome:
    return CheckOutcome(check, "not_run", reason=why, by_spec=by_spec)


def test_a_failing_case_fails_its_group_with_its_curl_command() -> None:
    broken = CaseFailure("response_schema_conformance", "Schema", "qty is a string", 200, "curl -X GET ...")
    run = _run(
        _op("GET /v1/accounts", CheckOutcome("response_schema_conformance", "failed", 5, (broken,))),
        _op("GET /v1/positions", _passed("response_schema_conformance")),
    )
    verdict = judge("contract_conformance", run)
    assert verdict.status == "failed" and verdict.category == "contract breach"
    assert verdict.evidence == [{"operation": "GET /v1/accounts", **broken.to_json()}]
    assert judge("contract_server_errors", run).status == "no_evidence"  # not_a_server_error never ran


def test_an_unanswered_case_fails_server_errors() -> None:
    run = _run(_op("POST /v1/orders", _passed("not_a_server_error"), errors=("ReadTimeout after 10 s",)))
    verdict = judge("contract_server_errors", run)
    assert verdict.status == "failed"
    assert verdict.evidence[0]["message"] == "ReadTimeout after 10 s"


def test_passed_counts_what_was_judged_and_names_what_was_not() -> None:
    run = _run(
        _op("GET /v1/orders/{id}", _passed("negative_data_rejection"), _passed("positive_data_acceptance")),
        _op(
            "GET /health",
            _not_run("negative_data_rejection", "no parameters"),
            _passed("positive_data_acceptance"),
        ),
    )
    verdict = judge("contract_validation", run)
    assert verdict.status == "passed"
    assert verdict.summary.startswith("3 operation check(s) passed over 15 case(s)")
    assert "negative_data_rejection: no parameters (1 operation(s))" in verdict.summary


def test_a_group_nothing_judged_is_skipped_or_without_evidence_never_passed() -> None:
    run = _run(
        _op(
            "GET /v1/accounts",
            _not_run("ignored_auth", "the spec declares no security requirement", by_spec=True),
            _not_run("missing_required_header", "the operation requires no header", by_spec=True),
            _not_run("not_a_server_error", "the time budget ran out first"),
        )
    )
    auth = judge("contract_auth", run)
    assert auth.status == "skipped" and "declares no security requirement" in auth.summary
    assert judge("contract_server_errors", run).status == "no_evidence"
    assert judge("contract_stateful", run).status == "skipped"
    assert judge("contract_conformance", None).status == "no_evidence"
    assert {v for v in GROUPS} == {
        "contract_server_errors", "contract_conformance", "contract_validation", "contract_auth",
        "contract_stateful",
    }  # fmt: skip


def test_a_group_the_spec_declares_but_the_run_never_reached_says_so() -> None:
    run = _run(
        _op(
            "GET /v1/orders/{id}",
            _not_run("use_after_free", "no linked sequence reached it (the time budget ran out first)"),
            _not_run("ensure_resource_availability", "no link reaches this operation", by_spec=True),
        )
    )
    stateful = judge("contract_stateful", run)
    assert stateful.status == "skipped", stateful
    assert stateful.summary.startswith("declared by the spec but not reached by this run:")
    assert "the time budget ran out first" in stateful.summary

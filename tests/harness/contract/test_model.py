"""A run's verdict: failed on any failing check, inconclusive when nothing could be judged."""

from __future__ import annotations

from dataclasses import replace

from harness.contract import CHECK_NAMES, CHECKS
from tests.harness.contract.sample import CREATE, NOTHING, READ, RUN


def test_the_checks_are_the_ten_the_contract_asks_for() -> None:
    assert CHECK_NAMES == (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
        "positive_data_acceptance",
        "missing_required_header",
        "ignored_auth",
        "use_after_free",
        "ensure_resource_availability",
    )
    assert [c.name for c in CHECKS if c.stateful] == ["use_after_free", "ensure_resource_availability"]


def test_any_failed_check_fails_the_run_with_exit_1() -> None:
    assert (RUN.verdict, RUN.exit_code) == ("failed", 1)
    assert CREATE.failed and CREATE.count("failed") == 1 and CREATE.count("not_run") == 1
    assert CREATE.outcome("not_a_server_error").failures[0].status_code == 500


def test_a_run_where_no_check_could_judge_anything_is_inconclusive_not_passed() -> None:
    nothing = replace(RUN, operations=(NOTHING,))
    assert (nothing.verdict, nothing.exit_code) == ("inconclusive", 1)
    clean = replace(CREATE, outcomes=tuple(o for o in READ.outcomes if o.status != "failed"))
    passed = replace(RUN, operations=(clean, NOTHING))
    assert (passed.verdict, passed.exit_code) == ("passed", 0)


def test_a_case_the_target_did_not_answer_fails_the_run_even_with_every_check_passed() -> None:
    clean = replace(CREATE, outcomes=tuple(o for o in READ.outcomes if o.status != "failed"))
    unanswered = replace(clean, errors=("Network Error: connection refused",))
    assert replace(RUN, operations=(unanswered,)).verdict == "failed"

"""The gate's exit code from its scenarios' statuses, with and without --strict (fast: records only)."""

from __future__ import annotations

from typing import Any

import pytest

from harness.gate.status import counts, exit_code, merged_exit_code, pytest_rc, strict_violations, worst


def rec(sid: str, status: str, **extra: Any) -> dict[str, Any]:
    return {"id": sid, "status": status, **extra}


PASSED = rec("A", "passed")
SKIPPED_CHECK = rec("B", "passed", skipped_checks=[{"check": "db_reconcile", "summary": "not run: no db"}])
SKIPPED = rec("C", "skipped", reason="not applicable to this target: the target is not wired to venue `tt`")


# pytest's own exit status: 1 when a scenario test failed, or when a strict session had a skip (the
# plugin fails it); 0 otherwise (a skipped test is not a failure to pytest).
@pytest.mark.parametrize(
    ("records", "strict", "pytest_rc", "code"),
    [
        ([PASSED], False, 0, 0),
        ([PASSED, SKIPPED_CHECK, SKIPPED], False, 0, 0),
        ([PASSED, SKIPPED_CHECK], True, 1, 1),
        ([PASSED, SKIPPED], True, 1, 1),
        ([SKIPPED], False, 0, 1),  # nothing applied to the target: judging nothing is not passing
        ([PASSED, rec("D", "failed")], False, 1, 1),
        ([PASSED, rec("D", "inconclusive")], False, 1, 1),  # too little evidence fails the gate
        (
            [rec("D", "inconclusive"), rec("E", "harness_error")],
            False,
            1,
            3,
        ),  # never blamed on the middleware
        ([rec("D", "failed"), rec("E", "config_error"), rec("F", "harness_error")], False, 1, 2),  # the file
    ],
)
def test_exit_code(records: list[dict[str, Any]], strict: bool, pytest_rc: int, code: int) -> None:
    assert exit_code(records, len(records), pytest_rc, strict=strict) == code


def test_a_scenario_that_never_ran_or_a_broken_pytest_is_the_harness() -> None:
    assert exit_code([PASSED], 2, 0) == 3
    assert exit_code([PASSED], 1, 4) == 3
    assert exit_code([PASSED], 1, 1) == 3  # pytest failed, yet no scenario did


def test_strict_violations_name_each_skip_with_its_reason() -> None:
    assert strict_violations([PASSED, SKIPPED_CHECK, SKIPPED]) == [
        "B: check db_reconcile skipped (not run: no db)",
        "C: skipped (not applicable to this target: the target is not wired to venue `tt`)",
    ]
    assert counts([PASSED, SKIPPED, rec("D", "inconclusive")]) == {
        "passed": 1,
        "failed": 0,
        "inconclusive": 1,
        "skipped": 1,
        "harness_error": 0,
        "config_error": 0,
    }


def test_worst_of_several_gates_keeps_exit_codes_precedence() -> None:
    assert worst([0, 0]) == 0 and worst([]) == 0
    assert worst([0, 1, 0]) == 1
    assert worst([1, 3, 0]) == 3
    assert worst([3, 2, 1]) == 2
    assert worst([0, 130]) == 3  # not a gate's code: never a pass


def test_pytest_rc_of_several_sessions() -> None:
    assert pytest_rc([0, 0]) == 0 and pytest_rc([]) == 0
    assert pytest_rc([0, 1]) == 1
    assert pytest_rc([1, 4, 0]) == 4  # pytest itself broke in one shard: the harness


def test_a_merge_missing_a_shard_never_passes_but_keeps_a_worse_code() -> None:
    assert merged_exit_code([PASSED], 1, [0], missing_shards=[2]) == 1
    assert merged_exit_code([PASSED], 1, [0]) == 0
    assert merged_exit_code([rec("E", "harness_error")], 1, [1], missing_shards=[2]) == 3
    assert merged_exit_code([SKIPPED], 1, [0, 0]) == 1  # judged nothing over every shard

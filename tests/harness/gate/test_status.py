"""The gate's exit code from its scenarios' statuses, with and without --strict (fast: records only)."""

from __future__ import annotations

from typing import Any

import pytest

from harness.gate.status import counts, exit_code, strict_violations


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

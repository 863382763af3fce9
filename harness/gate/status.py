"""The gate's verdict from its scenarios' records: which statuses fail it, what `--strict` adds, and
the exit code. A leaf module: the plugin, the runner of the gate and the reports all read it.

Scenario statuses (harness.scenario.evidence): passed, failed, inconclusive (not enough evidence to
judge), skipped (not applicable to this target), harness_error (the harness could not run it), and
config_error (the target file is wrong in a way only running it shows, e.g. a lock statement naming
a table the database lacks: exit 2, like any bad target file)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

EXIT_PASSED, EXIT_FAILED, EXIT_USAGE, EXIT_HARNESS = 0, 1, 2, 3
STATUSES = ("passed", "failed", "inconclusive", "skipped", "harness_error", "config_error")
FAILS_GATE = frozenset({"failed", "inconclusive"})  # exit 1, strict or not
VERDICTS = {
    EXIT_PASSED: "passed",
    EXIT_FAILED: "failed",
    EXIT_USAGE: "config_error",
    EXIT_HARNESS: "harness_error",
}

Record = Mapping[str, Any]


def counts(records: Sequence[Record]) -> dict[str, int]:
    return {status: sum(r.get("status") == status for r in records) for status in STATUSES}


def strict_violations(records: Sequence[Record]) -> list[str]:
    """What `--strict` fails the gate on besides failures: every skipped scenario, and every skipped
    check of a scenario that otherwise ran (each with its reason)."""
    found = []
    for r in records:
        if r.get("status") == "skipped":
            found.append(f"{r['id']}: skipped ({r.get('reason', '')})")
        for check in r.get("skipped_checks", ()):
            found.append(f"{r['id']}: check {check['check']} skipped ({check.get('summary', '')})")
    return found


def exit_code(records: Sequence[Record], selected: int, pytest_rc: int, *, strict: bool = False) -> int:
    """0 the gate passed; 1 a scenario failed or was inconclusive, or none was applicable (or, with
    strict, something was skipped); 3 the harness could not run a scenario, a scenario never ran,
    or pytest itself failed; 2 the target file is wrong (found only once it ran)."""
    if any(r.get("status") == "config_error" for r in records):
        return EXIT_USAGE
    if any(r.get("status") == "harness_error" for r in records) or pytest_rc not in (0, 1):
        return EXIT_HARNESS
    if any(r.get("status") in FAILS_GATE for r in records):
        return EXIT_FAILED
    if len(records) != selected:
        return EXIT_HARNESS  # a scenario never ran
    if strict and strict_violations(records):
        return EXIT_FAILED
    if records and not any(r.get("status") == "passed" for r in records):
        return EXIT_FAILED  # nothing applied to the target: a gate that judged nothing has not passed
    if pytest_rc != 0:
        return EXIT_HARNESS  # pytest failed outside the scenarios
    return EXIT_PASSED

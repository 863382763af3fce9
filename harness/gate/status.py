"""The gate's verdict from its scenarios' records: which statuses fail it, what `--strict` adds, and
the exit code. Nearly a leaf (it imports only harness.exitcodes): the plugin, the runner of the
gate, the merge of shards, `--repeat` and the reports all read it.

Scenario statuses (harness.scenario.evidence): passed, failed, inconclusive (not enough evidence to
judge), skipped (not applicable to this target), harness_error (the harness could not run it), and
config_error (the target file is wrong in a way only running it shows, e.g. a lock statement naming
a table the database lacks: exit 2, like any bad target file)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from harness.exitcodes import EXIT_FAILED, EXIT_INFRA, EXIT_OK, EXIT_USAGE

STATUSES = ("passed", "failed", "inconclusive", "skipped", "harness_error", "config_error")
FAILS_GATE = frozenset({"failed", "inconclusive"})  # exit 1, strict or not
VERDICTS = {
    EXIT_OK: "passed",
    EXIT_FAILED: "failed",
    EXIT_USAGE: "config_error",
    EXIT_INFRA: "harness_error",
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
        return EXIT_INFRA
    if any(r.get("status") in FAILS_GATE for r in records):
        return EXIT_FAILED
    if len(records) != selected:
        return EXIT_INFRA  # a scenario never ran
    if strict and strict_violations(records):
        return EXIT_FAILED
    if records and not any(r.get("status") == "passed" for r in records):
        return EXIT_FAILED  # nothing applied to the target: a gate that judged nothing has not passed
    if pytest_rc != 0:
        return EXIT_INFRA  # pytest failed outside the scenarios
    return EXIT_OK


def pytest_rc(sessions: Iterable[int]) -> int:
    """One pytest exit status for several sessions judged together (the shards of a merge): the first
    that is neither 0 nor 1 (pytest itself broke), else 1 if any session had a failed test, else 0.
    None at all (every shard was empty) is 0."""
    found = list(sessions)
    broken = [rc for rc in found if rc not in (0, 1)]
    return broken[0] if broken else max(found, default=0)


def worst(codes: Iterable[int]) -> int:
    """The exit code of several whole gates (the runs of `--repeat`), with exit_code's precedence: a
    target file error (2), then a harness error (3), then a failure (1), else 0."""
    found = set(codes)
    for code in (EXIT_USAGE, EXIT_INFRA, EXIT_FAILED):
        if code in found:
            return code
    return EXIT_OK if found <= {EXIT_OK} else EXIT_INFRA


def merged_exit_code(
    records: Sequence[Record],
    selected: int,
    pytest_rcs: Iterable[int],
    *,
    strict: bool = False,
    missing_shards: Sequence[int] = (),
) -> int:
    """The exit code of shards merged into one gate (`uat report --out`): exit_code over every present
    shard's records as if one gate had run them, and a merge missing a shard never passes (1)."""
    code = exit_code(records, selected, pytest_rc(pytest_rcs), strict=strict)
    return EXIT_FAILED if missing_shards and code == EXIT_OK else code

"""A contract run as the architect reads it in a terminal, and as JSON for CI and the agency."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .model import BY_NAME, CHECK_NAMES, CheckOutcome, ContractRun

_STYLE = {"passed": "green", "failed": "bold red", "not_run": "yellow"}
_WORD = {"passed": "passed", "failed": "FAILED", "not_run": "NOT RUN"}
_VERDICT_STYLE = {"passed": "bold green", "failed": "bold red", "inconclusive": "bold yellow"}


def verdict_line(run: ContractRun) -> str:
    checks = [o for op in run.operations for o in op.outcomes]
    counts = ", ".join(
        f"{sum(o.status == status for o in checks)} {status.replace('_', ' ')}"
        for status in ("passed", "failed", "not_run")
    )
    failed_ops = sum(op.failed or bool(op.errors) for op in run.operations)
    stopped = "" if run.stopped == "completed" else f", stopped: {run.stopped.replace('_', ' ')}"
    return (
        f"contract {run.verdict.upper()}: {run.target} against {run.spec}: "
        f"{failed_ops}/{len(run.operations)} operations failed; checks: {counts}; "
        f"seed {run.budget.seed}, {run.wall_s:.1f} s{stopped}"
    )


def print_run(run: ContractRun, console: Console) -> None:
    """One row per operation (its checks passed, failed, not run), then every failed check's cases
    with their curl commands, then every check that did not run with why, then the verdict."""
    budget = run.budget
    console.print(
        f"[bold]{escape(run.target)}[/] at {escape(run.base_url)}: {escape(run.spec)} "
        f"(seed {budget.seed}, {budget.max_examples} examples, budget {budget.time_budget_s:g} s)"
    )
    table = Table(header_style="bold")
    table.add_column("operation", no_wrap=True)
    table.add_column("cases", justify="right")
    for status in ("passed", "failed", "not_run"):
        table.add_column(_WORD[status].lower(), justify="right")
    table.add_column("failed checks", overflow="fold", ratio=1)
    for op in run.operations:
        failed = ", ".join(
            [o.check for o in op.outcomes if o.status == "failed"] + ["errors"] * bool(op.errors)
        )
        table.add_row(
            escape(op.label),
            str(op.cases),
            f"[green]{op.count('passed')}[/]",
            f"[bold red]{op.count('failed')}[/]" if op.count("failed") else "0",
            f"[yellow]{op.count('not_run')}[/]" if op.count("not_run") else "0",
            escape(failed) or "-",
        )
    console.print(table)
    for op in run.operations:
        for outcome in op.outcomes:
            if outcome.status == "failed":
                _print_failed(op.label, outcome, console)
    not_run = _not_run(run)
    if not_run:
        console.print("\n[bold]not run[/] (never counted as passed):")
        for (check, reason), labels in not_run.items():
            console.print(f"  [yellow]{check}[/]: {escape(reason)}", soft_wrap=True)
            console.print(f"    {escape(', '.join(labels))}", soft_wrap=True, style="dim")
    for op in run.operations:
        for error in op.errors:
            console.print(f"[red]error[/] {escape(op.label)}: {escape(error)}", soft_wrap=True)
    for error in run.errors:
        console.print(f"[red]error[/] {escape(error)}", soft_wrap=True)
    if run.excluded:
        console.print(f"excluded by the target file: {escape(', '.join(run.excluded))}")
    console.print()
    console.print(f"[{_VERDICT_STYLE[run.verdict]}]{escape(verdict_line(run))}[/]", soft_wrap=True)


def _not_run(run: ContractRun) -> dict[tuple[str, str], list[str]]:
    """(check, reason) -> the operations it did not run on, in check order: one line per reason."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for check in CHECK_NAMES:
        for op in run.operations:
            outcome = op.outcome(check)
            if outcome.status == "not_run":
                grouped.setdefault((check, outcome.reason), []).append(op.label)
    return grouped


def _print_failed(label: str, outcome: CheckOutcome, console: Console) -> None:
    info = BY_NAME[outcome.check]
    console.print(
        f"\n[bold red]FAILED[/] [bold]{escape(label)}[/] {outcome.check}: {escape(info.title)} "
        f"({len(outcome.failures)} distinct case(s) shown of {outcome.cases} judged)"
    )
    for failure in outcome.failures:
        status = f"HTTP {failure.status_code}" if failure.status_code is not None else "no answer"
        console.print(f"  [red]{escape(failure.title)}[/] ({status})", soft_wrap=True)
        for line in failure.message.splitlines()[:6]:
            console.print(f"    {escape(line)}", soft_wrap=True)
        console.print("  reproduce:", style="dim")
        for line in failure.curl.splitlines():
            console.print(f"    {escape(line)}", soft_wrap=True, highlight=False)


def to_json(run: ContractRun) -> dict[str, Any]:
    """`verdict` passed, failed or inconclusive; every operation with every check: its status, the
    cases it judged, its `reason` when not run, and its failing cases with their `curl`."""
    return {
        "target": run.target,
        "spec": run.spec,
        "base_url": run.base_url,
        "verdict": run.verdict,
        "exit_code": run.exit_code,
        "seed": run.budget.seed,
        "max_examples": run.budget.max_examples,
        "time_budget_s": run.budget.time_budget_s,
        "wall_s": round(run.wall_s, 3),
        "stopped": run.stopped,
        "checks": [{"name": c, "title": BY_NAME[c].title, "why": BY_NAME[c].why} for c in CHECK_NAMES],
        "operations": [
            {
                "operation": op.label,
                "cases": op.cases,
                "counts": {s: op.count(s) for s in ("passed", "failed", "not_run")},
                "errors": list(op.errors),
                "checks": [o.to_json() for o in op.outcomes],
            }
            for op in run.operations
        ],
        "excluded": list(run.excluded),
        "errors": list(run.errors),
    }

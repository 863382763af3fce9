"""A review as the architect reads it in a terminal, and as JSON for CI and the agency."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .model import SEVERITIES, Outcome
from .review import Review

_STATUS_STYLE = {"passed": "green", "failed": "bold red", "not_applicable": "dim"}
_STATUS_WORD = {"passed": "passed", "failed": "FAILED", "not_applicable": "n/a"}
_SEVERITY_STYLE = {"blocker": "red", "major": "yellow", "minor": "cyan"}


def verdict_line(review: Review) -> str:
    counts = ", ".join(f"{_count(review, s)} {s}{'' if _count(review, s) == 1 else 's'}" for s in SEVERITIES)
    rules = ", ".join(
        f"{sum(o.status == status for o in review.outcomes)} {status.replace('_', ' ')}"
        for status in ("passed", "failed", "not_applicable")
    )
    return f"spec review {review.verdict.upper()}: {review.source}: {counts}; rules: {rules}"


def _count(review: Review, severity: str) -> int:
    return sum(f.severity == severity for f in review.findings)


def print_review(review: Review, console: Console) -> None:
    """The table of rules, then every finding of each failed rule with its fix, then the verdict."""
    version = review.openapi or "not OpenAPI 3.0/3.1"
    console.print(f"[bold]{escape(review.source)}[/] (OpenAPI {escape(version)})")
    table = Table(show_lines=False, header_style="bold")
    table.add_column("rule", no_wrap=True)
    table.add_column("severity", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("findings", justify="right")
    table.add_column("first finding, or why not applicable", overflow="fold", ratio=1)
    for outcome in review.outcomes:
        rule = outcome.rule
        table.add_row(
            rule.id,
            f"[{_SEVERITY_STYLE[rule.severity]}]{rule.severity}[/]",
            f"[{_STATUS_STYLE[outcome.status]}]{_STATUS_WORD[outcome.status]}[/]",
            str(len(outcome.findings)) if outcome.status != "not_applicable" else "-",
            escape(_first(outcome)),
        )
    console.print(table)
    for outcome in review.outcomes:
        if outcome.findings:
            console.print(f"\n[bold]{outcome.rule.id}[/]: {escape(outcome.rule.title)}")
            for found in outcome.findings:
                style = _SEVERITY_STYLE[found.severity]
                console.print(f"  [{style}]{found.severity:<7}[/] {escape(found.location)}", soft_wrap=True)
                console.print(f"          {escape(found.message)}", soft_wrap=True)
            console.print(f"  [dim]fix:[/] {escape(outcome.rule.fix)}", soft_wrap=True)
    console.print()
    style = "bold green" if review.verdict == "passed" else "bold red"
    console.print(f"[{style}]{escape(verdict_line(review))}[/]", soft_wrap=True)


def _first(outcome: Outcome) -> str:
    if outcome.status == "not_applicable":
        return outcome.reason
    if not outcome.findings:
        return f"{outcome.checked} checked, nothing wrong"
    first = outcome.findings[0]
    return f"{first.location}: {first.message}"


def to_json(review: Review) -> dict[str, Any]:
    """`verdict` is "failed" on any blocker; each rule has its status (`not_applicable` with a
    `reason`), how many places it `checked`, and its findings."""
    return {
        "spec": review.source,
        "openapi": review.openapi,
        "verdict": review.verdict,
        "exit_code": review.exit_code,
        "counts": {s: _count(review, s) for s in SEVERITIES},
        "rules": [
            {
                "id": o.rule.id,
                "title": o.rule.title,
                "severity": o.rule.severity,
                "status": o.status,
                "reason": o.reason,
                "checked": o.checked,
                "why": o.rule.why,
                "fix": o.rule.fix,
                "findings": [f.to_json() for f in o.findings],
            }
            for o in review.outcomes
        ],
    }

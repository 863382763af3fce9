"""What a spec review is made of: rules, their findings, and each rule's outcome.

A leaf: the validator, the rules, the review and its outputs all speak these types.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

Severity = Literal["blocker", "major", "minor"]
Status = Literal["passed", "failed", "not_applicable"]

# An OpenAPI document as JSON holds it: its shape is what the review judges, so it stays untyped.
Document: TypeAlias = Mapping[str, Any]

SEVERITIES: tuple[Severity, ...] = ("blocker", "major", "minor")


@dataclass(frozen=True)
class Finding:
    """One problem, at a JSON pointer into the spec (`#/paths/~1v1~1orders/post`)."""

    rule: str
    severity: Severity
    location: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "location": self.location,
            "message": self.message,
        }


@dataclass(frozen=True)
class Issue:
    """What a rule's check yields: the rule adds its id, and its severity unless this one differs."""

    location: str
    message: str
    severity: Severity | None = None


@dataclass(frozen=True)
class RuleInfo:
    """A rule as the architect reads it: what, how bad, why it matters for a trading API, the fix."""

    id: str
    title: str
    severity: Severity
    why: str
    fix: str


@dataclass(frozen=True)
class Rule(RuleInfo):
    """A rule that judges the document: `scope` lists what it looks at (JSON pointers), so a rule
    with nothing to look at is reported not applicable, with `absent` as the reason, never passed;
    `judge` yields its issues. Both are pure functions of the document. `reads_operations`: the
    rule needs `paths` or `webhooks` to be a mapping, and is not applicable without one."""

    absent: str
    scope: Callable[[Document], Iterable[str]]
    judge: Callable[[Document], Iterable[Issue]]
    reads_operations: bool = True

    def check(self, doc: Document) -> list[Finding]:
        return [
            Finding(self.id, issue.severity or self.severity, issue.location, issue.message)
            for issue in self.judge(doc)
        ]


@dataclass(frozen=True)
class Outcome:
    """One rule's result: `reason` says why it was not applicable; `checked` how many places it judged."""

    rule: RuleInfo
    status: Status
    findings: tuple[Finding, ...] = ()
    reason: str = ""
    checked: int = 0

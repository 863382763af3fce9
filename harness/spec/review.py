"""One review of one spec: validation, then every rule, into one outcome per rule and a verdict.

The rules also run on a spec that failed validation, as long as they can read it (an OpenAPI 3.0 or
3.1 document with `paths` or `webhooks` as a mapping): the architect gets every problem in one
pass. A rule with nothing to look at is `not_applicable`, with the reason, never `passed`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from ..exitcodes import EXIT_FAILED, EXIT_OK
from .model import Document, Finding, Outcome, Rule
from .rules import RULES
from .validate import VALID_OPENAPI, validate

NOT_OPENAPI_3 = "not an OpenAPI 3.0 or 3.1 document (see valid-openapi)"
NO_OPERATIONS_MAP = "the document has no `paths` or `webhooks` mapping to read (see valid-openapi)"


@dataclass(frozen=True)
class Review:
    source: str
    openapi: str | None  # the document's version, when it is one this review reads
    outcomes: tuple[Outcome, ...]

    @property
    def findings(self) -> list[Finding]:
        return [f for outcome in self.outcomes for f in outcome.findings]

    @property
    def blockers(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "blocker"]

    @property
    def verdict(self) -> Literal["passed", "failed"]:
        """Majors and minors are reported, but only a blocker fails the review."""
        return "failed" if self.blockers else "passed"

    @property
    def exit_code(self) -> int:
        return EXIT_FAILED if self.blockers else EXIT_OK


def review(doc: Document, *, source: str = "") -> Review:
    validation = validate(doc)
    outcomes = [Outcome(VALID_OPENAPI, _status(validation.findings), validation.findings, checked=1)]
    readable = any(isinstance(doc.get(key), Mapping) for key in ("paths", "webhooks"))
    for rule in RULES:
        if validation.version is None:
            outcomes.append(Outcome(rule, "not_applicable", reason=NOT_OPENAPI_3))
        elif rule.reads_operations and not readable:
            outcomes.append(Outcome(rule, "not_applicable", reason=NO_OPERATIONS_MAP))
        else:
            outcomes.append(_judge(rule, doc))
    return Review(source, validation.version, tuple(outcomes))


def _judge(rule: Rule, doc: Document) -> Outcome:
    checked = len(set(rule.scope(doc)))
    if not checked:
        return Outcome(rule, "not_applicable", reason=rule.absent)
    findings = tuple(dict.fromkeys(rule.check(doc)))
    return Outcome(rule, _status(findings), findings, checked=checked)


def _status(findings: tuple[Finding, ...]) -> Literal["passed", "failed"]:
    return "failed" if findings else "passed"

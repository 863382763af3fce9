"""What a checker gets, and what it gives back: a verdict with the evidence that proves it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..adapter import Adapter
from ..history import History
from ..target import Slo
from ..timeline import Timeline


@dataclass
class CheckContext:
    history: History
    timeline: Timeline
    adapter: Adapter
    slo: Slo
    ledger: dict[str, Any]  # the Rithmic venue ledger after the run
    accounts: dict[str, str]  # trader process -> middleware account id
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)  # coid -> final middleware order
    extras: dict[str, Any] = field(default_factory=dict)  # anything a scenario's workload collected
    psql: Callable[[str], str] | None = None  # runs SQL on the middleware's Postgres (tuples, `|`-separated)

    def our_tags(self) -> set[str]:
        return {str(op.value["client_order_id"]) for op, _ in self.history.completions("place_order")}


@dataclass
class Verdict:
    check: str
    passed: bool
    summary: str
    evidence: list[dict[str, Any]] = field(default_factory=list)
    category: str = ""  # data loss, duplicate order, recovery SLO breach, protocol handling, webhook handling

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "passed": self.passed,
            "summary": self.summary,
            "category": self.category,
            "evidence": self.evidence[:50],
        }


Checker = Callable[[CheckContext], Verdict]
CHECKERS: dict[str, Checker] = {}


def checker(name: str) -> Callable[[Checker], Checker]:
    def register(fn: Checker) -> Checker:
        CHECKERS[name] = fn
        return fn

    return register

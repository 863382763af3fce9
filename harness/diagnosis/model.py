"""The diagnosis itself, the span it looks at, and how its one line writes times and statements."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Cause = Literal["database lock", "database unavailable", "deployment", "venue", "undetermined"]
# In the order the rules are tried (see diagnose.py).
CAUSES: tuple[Cause, ...] = ("deployment", "database lock", "database unavailable", "venue", "undetermined")
SLACK_S = 1.0  # evidence this close to the span still counts: sampling and detection lag
POSTGRES, MIDDLEWARE = "postgres", "middleware"  # the fault targets that are not venues
MAX_ITEMS = 20  # evidence lists are cut to this many


@dataclass(frozen=True)
class Diagnosis:
    cause: Cause
    summary: str  # one line the architect reads before opening a log
    evidence: dict[str, Any] = field(default_factory=dict)  # JSON-able: what the summary rests on

    def line(self) -> str:
        return self.summary

    def to_json(self) -> dict[str, Any]:
        return {"cause": self.cause, "summary": self.summary, "evidence": self.evidence}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Diagnosis:
        cause = data["cause"]
        if cause not in CAUSES:
            raise ValueError(f"unknown cause {cause!r}; known: {', '.join(CAUSES)}")
        return cls(cause, str(data["summary"]), dict(data.get("evidence") or {}))


@dataclass(frozen=True)
class Span:
    """A failure's span widened by the slack: the evidence that counts lies within it."""

    lo: float
    hi: float

    @classmethod
    def of(cls, span: tuple[float, float] | None) -> Span:
        if span is None:
            return cls(float("-inf"), float("inf"))
        return cls(min(span) - SLACK_S, max(span) + SLACK_S)

    def has(self, t: float) -> bool:
        return self.lo <= t <= self.hi

    def meets(self, start: float, end: float | None) -> bool:
        """An interval (end None: still open) overlaps it."""
        return start <= self.hi and (end is None or end >= self.lo)


def when(start: float, end: float | None) -> str:
    """`3.0–7.0 s`, or `from 3.0 s on` for a window still open."""
    return f"from {start:.1f} s on" if end is None else f"{start:.1f}–{end:.1f} s"


def short(text: str, limit: int = 90) -> str:
    """A statement on one line, its middle elided: `SELECT 1 FROM accounts WHERE … FOR UPDATE`."""
    flat = re.sub(r"\s+", " ", text).strip()
    if len(flat) <= limit:
        return flat
    head = flat[: limit * 2 // 3].rsplit(" ", 1)[0]
    tail = flat[-(limit - len(head) - 3) :].split(" ", 1)[-1]
    return f"{head} … {tail}"

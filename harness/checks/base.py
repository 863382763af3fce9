"""What a checker gets, and what it gives back: a verdict with the evidence that proves it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..adapters import Adapter, OrderView
from ..history import History
from ..target import Slo
from ..timeline import Timeline


@dataclass(frozen=True)
class Deployment:
    """One redeployment of the middleware during the run (run-clock seconds), as the runner did it."""

    how: str  # graceful | crash | bad_release
    signalled_at: float  # the stop signal (or SIGKILL) was sent
    exit_code: int | None = None  # the old process's (None: it did not exit by itself)
    exited_at: float | None = None
    ready_at: float | None = None  # the new release (for bad_release: the rollback) answered ready
    bad_release_ready: bool | None = None  # bad_release: whether the bad build passed readiness
    log_lines: tuple[str, ...] = ()  # the old process's last lines

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "log_lines": list(self.log_lines)}


@dataclass
class CheckContext:
    history: History
    timeline: Timeline
    adapter: Adapter
    slo: Slo
    ledger: dict[str, Any]  # the execution venue's ledger after the run (`venue`'s)
    accounts: dict[str, str]  # trader process -> middleware account id
    orders: dict[str, OrderView] = field(default_factory=dict)  # coid -> final middleware order
    extras: dict[str, Any] = field(default_factory=dict)  # anything a scenario's workload collected
    psql: Callable[[str], str] | None = None  # runs SQL on the middleware's Postgres (tuples, `|`-separated)
    sql_file: Path | None = None  # the target's reconciliation SQL (its `[checks] sql`), if it names one
    deployments: list[Deployment] = field(default_factory=list)  # the middleware's restarts, in order
    venue: str = "rithmic"  # the execution venue the scenario's traders trade on (its ledger is `ledger`)
    # accounts that trade elsewhere than `venue` (a load run's CQG traders), each with its venue;
    # `ledger` then joins the venues' ledgers (harness.load.venues)
    account_venues: dict[str, str] = field(default_factory=dict)

    def venue_of(self, account: str) -> str:
        return self.account_venues.get(account, self.venue)

    def our_tags(self) -> set[str]:
        return {str(op.value["client_order_id"]) for op, _ in self.history.completions("place_order")}


# passed: it holds, over the evidence the summary counts; failed: it does not (the evidence shows
# where); no_evidence: the run gave it nothing to judge (no order reached the venue, no fill, no
# outage, ...), which is never a pass; skipped: it could not run here (no database access, no SQL
# declared by the target), with its reason.
VerdictStatus = Literal["passed", "failed", "no_evidence", "skipped"]
VERDICT_STATUSES: tuple[VerdictStatus, ...] = ("passed", "failed", "no_evidence", "skipped")


@dataclass
class Verdict:
    check: str
    status: VerdictStatus
    summary: str  # why: what held and over how much, what broke, what was missing, why it did not run
    evidence: list[dict[str, Any]] = field(default_factory=list)
    category: str = ""  # data loss, duplicate order, recovery SLO breach, protocol handling, webhook handling
    # on a failure: the likely cause (database lock, database unavailable, deployment, venue), from
    # evidence sampled while the faults were active (harness.diagnosis): {"cause", "summary", ...}
    diagnosis: dict[str, Any] | None = None

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @classmethod
    def ok(cls, check: str, summary: str, evidence: list[dict[str, Any]] | None = None) -> Verdict:
        """It holds; the summary says over how much (evidence: what was examined, e.g. SQL run)."""
        return cls(check, "passed", summary, list(evidence or []))

    @classmethod
    def fail(cls, check: str, summary: str, evidence: list[dict[str, Any]], category: str) -> Verdict:
        """It does not hold: the offending orders, fills, times and faults as evidence."""
        return cls(check, "failed", summary, evidence, category)

    @classmethod
    def no_evidence(cls, check: str, summary: str, evidence: list[dict[str, Any]] | None = None) -> Verdict:
        """The run gave the check nothing to judge; the summary says what was missing (evidence: what
        was examined all the same, e.g. SQL that found nothing to hold against)."""
        return cls(check, "no_evidence", summary, list(evidence or []))

    @classmethod
    def skip(cls, check: str, summary: str) -> Verdict:
        """The check cannot run against this target or topology; the summary says why."""
        return cls(check, "skipped", summary)

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "status": self.status,
            "passed": self.passed,
            "summary": self.summary,
            "category": self.category,
            "diagnosis": self.diagnosis,
            "evidence": self.evidence[:50],
        }


Checker = Callable[[CheckContext], Verdict]
CHECKERS: dict[str, Checker] = {}


def checker(name: str) -> Callable[[Checker], Checker]:
    def register(fn: Checker) -> Checker:
        CHECKERS[name] = fn
        return fn

    return register

"""What running a scenario gives: its result (status, verdicts, evidence, timeline), and the two
ways a run stops short, told apart so blame goes where it belongs."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from ..checks import Verdict
from ..history import History
from ..timeline import Timeline
from .evidence import Measured, ScenarioStatus, missing_evidence, scenario_status, status_reason
from .model import Scenario


class HarnessError(RuntimeError):
    """The harness could not run the scenario: never a verdict on the middleware (exit 3)."""


class MiddlewareFault(RuntimeError):
    """The middleware failed a step the scenario needs (readiness, onboarding, provisioning): a
    failed check with its evidence (exit 1), never a harness error."""

    def __init__(self, check: str, summary: str, evidence: list[dict[str, Any]]) -> None:
        super().__init__(summary)
        self.check = check
        self.summary = summary
        self.evidence = evidence

    def verdict(self) -> Verdict:
        return Verdict.fail(self.check, self.summary, self.evidence, "middleware fault")


@dataclass
class ScenarioResult:
    scenario: Scenario
    seed: int
    verdicts: list[Verdict]
    history: History
    timeline: Timeline
    phases: dict[str, float] = field(default_factory=dict)
    started_at: float = field(default_factory=time.time)
    duration_s: float = 0.0
    log_tail: str = ""
    measured: Measured | None = None  # the evidence the run showed (None: the run stopped short)
    missing: list[str] = field(default_factory=list)  # where it fell short of the scenario's minimum
    not_applicable: str = ""  # why the scenario does not apply to this target (it is then skipped)
    customers: list[str] = field(default_factory=list)  # the Stripe customers onboarded, in order
    lifecycle: dict[str, Any] | None = None  # the lifecycle snapshot (harness.lifecycle), if judged

    @property
    def status(self) -> ScenarioStatus:
        if self.not_applicable:
            return "skipped"
        return scenario_status(self.verdicts, self.missing)

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @property
    def reason(self) -> str:
        """One line: why this status (the failed checks, what evidence was missing, why skipped)."""
        if self.not_applicable:
            return f"not applicable to this target: {self.not_applicable}"
        return status_reason(self.status, self.verdicts, self.missing)

    @property
    def missing_evidence(self) -> list[str]:
        return missing_evidence(self.verdicts, self.missing)

    @property
    def reproduce(self) -> str:
        return f"uat reproduce {self.scenario.id} --seed {self.seed}"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.scenario.id,
            "title": self.scenario.title,
            "suite": self.scenario.suite,
            "status": self.status,
            "passed": self.passed,
            "reason": self.reason,
            "missing_evidence": self.missing_evidence,
            "evidence": {
                "minimum": self.scenario.minimum.to_json(),
                "measured": self.measured.to_json() if self.measured else None,
            },
            "seed": self.seed,
            "customers": self.customers,
            "duration_s": round(self.duration_s, 2),
            "phases": {k: round(v, 2) for k, v in self.phases.items()},
            "verdicts": [v.to_json() for v in self.verdicts],
            "faults": self.timeline.to_json(),
            "reproduce": self.reproduce,
        }

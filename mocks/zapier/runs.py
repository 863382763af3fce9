"""The task history: every run of every Zap, each step's attempts, and how the run ended.

It is this mock's venue ledger (`GET /ledger` adds `runs`): the truth a checker holds the middleware
against. A run is `queued`, then `running`, then `success`, `errored` (a step's retries ran out) or
`halted` (a step answered 410, or the Zap was turned off mid-run); `dropped` is a trigger that was
acknowledged but never run (the `drop` fault) until a replay.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from mocks.common import Ledger

SNIPPET = 500
FINAL = ("success", "errored", "halted", "dropped")
STATES = ("queued", "running", *FINAL)
MAX_RUNS = 20_000


@dataclass
class Attempt:
    """One HTTP attempt of one step; `status` None means no HTTP answer (see `response`)."""

    step: str
    attempt: int
    method: str
    url: str
    status: int | None
    latency_ms: float
    response: str
    sent_at: float = field(default_factory=time.time)

    def to_json(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "attempt": self.attempt,
            "method": self.method,
            "url": self.url,
            "status": self.status,
            "latency_ms": self.latency_ms,
            "response": self.response,
            "sent_at": self.sent_at,
        }


@dataclass
class Run:
    run_id: str
    zap_id: str
    hook: str
    trigger: Any
    state: str = "queued"
    attempts: list[Attempt] = field(default_factory=list)
    answers: dict[str, Any] = field(default_factory=dict)  # each finished step's parsed answer
    faults: list[str] = field(default_factory=list)
    replay_of: str | None = None
    duplicate_of: str | None = None
    error: str | None = None
    received_at: float = field(default_factory=time.time)
    finished_at: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "zap_id": self.zap_id,
            "hook": self.hook,
            "trigger": self.trigger,
            "state": self.state,
            "attempts": [a.to_json() for a in self.attempts],
            "steps_done": list(self.answers),
            "faults": list(self.faults),
            "replay_of": self.replay_of,
            "duplicate_of": self.duplicate_of,
            "error": self.error,
            "received_at": self.received_at,
            "finished_at": self.finished_at,
        }


class RunLedger(Ledger):
    """The shared ledger (no orders or fills here) plus the runs, oldest first, bounded."""

    def __init__(self) -> None:
        super().__init__()
        self.runs: dict[str, Run] = {}

    def add_run(self, run: Run) -> Run:
        self.runs[run.run_id] = run
        if len(self.runs) > MAX_RUNS:
            for run_id, old in list(self.runs.items()):
                if old.state in FINAL:
                    del self.runs[run_id]
                    break
        return run

    def clear(self) -> None:
        super().clear()
        self.runs.clear()

    def select(self, zap: str | None = None, state: str | None = None, limit: int | None = None) -> list[Run]:
        """Runs matching the filters, oldest first; with `limit`, only the newest `limit` of them."""
        runs = [
            r
            for r in self.runs.values()
            if (zap is None or r.zap_id == zap) and (state is None or r.state == state)
        ]
        return runs if limit is None else runs[max(len(runs) - limit, 0) :]

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "runs": [r.to_json() for r in self.runs.values()]}

"""load-summary.json: the figures of a load run in one place, for a reader, for CI and for the
Allure results. HTTP figures leave out our custom Locust events (stream, latency measures)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from ..checks import Verdict
from ..history import History
from ..timeline import Timeline
from .locust_csv import HTTP_METHODS, writes
from .phases import split_by_phase
from .schedule import Schedule
from .shapes import Profile
from .venues import per_venue

INVARIANT_WORDS = {"passed": "pass", "failed": "fail", "no_evidence": "no evidence", "skipped": "skip"}


@dataclass
class RunFigures:
    """What the run gathered, besides the history and the verdicts."""

    profile: Profile
    seed: int
    workers: int  # local Locust workers
    remote_workers: int
    schedule: Schedule | None
    timeline: Timeline
    started_wall: float  # epoch seconds the load started at: time zero of the history
    grace_s: float  # the recovery SLO: how long after a fault its effects still belong to it
    stats: list[dict[str, str]]  # locust_stats.csv
    history_rows: list[dict[str, str]]  # locust_stats_history.csv
    ledger: dict[str, Any]  # the venue's
    fills: list[tuple[float, float]]  # (time, order-to-fill ms) measured on the stream
    cpu: dict[str, dict[str, float]]
    onboarding_s: float
    journal: dict[str, Any]  # shipping.audit()
    stream: bool = True  # the target declares a stream: quote age and order-to-fill are measured on it
    venues: tuple[str, ...] = ("rithmic",)  # where the traders traded (`ledger` joins theirs when several)
    funded: dict[str, Any] | None = None  # the funded traders' chain: how many, and its stages' seconds


def summarize(history: History, verdicts: list[Verdict], run: RunFigures) -> dict[str, Any]:
    placed = history.completions("place_order")
    cancels = history.completions("cancel_order")
    grace = run.grace_s
    # An operation in flight when a fault began, or within the recovery SLO after it ended,
    # belongs to that fault; any other unknown outcome is a failure outside the faults.
    outside = [
        done
        for invoked, done in [*placed, *cancels]
        if done.type == "info"
        and not any(
            invoked.time <= (w.end if w.end is not None else invoked.time) + grace and done.time >= w.start
            for w in run.timeline.windows
        )
    ]
    ours = {str(op.value["client_order_id"]) for op, _ in placed}
    by_name = {row["Name"]: row for row in run.stats}
    return {
        "profile": run.profile.name,
        "traders": run.profile.traders,
        "peak_traders": max(
            (int(r["User Count"]) for r in run.history_rows if r.get("User Count")), default=0
        ),
        # HTTP requests only: Locust also counts our stream measurements as "requests".
        "requests": sum(int(r["Request Count"] or 0) for r in run.stats if r.get("Type") in HTTP_METHODS),
        "locust_failures": int(by_name.get("Aggregated", {}).get("Failure Count", 0) or 0),
        "failures_outside_faults": len(outside),
        "orders": len(placed),
        "fills": sum(
            1
            for f in run.ledger.get("fills", [])
            if f.get("client_tag") in ours and not f.get("duplicate_of")
        ),
        "venues": per_venue(run.ledger, run.venues),
        "order_ack_ms": percentiles(by_name.get("order ack")),
        "order_to_fill_ms": percentiles(by_name.get("order to fill")),
        # Cancels asked for, and taken by the venue (the rest had filled or ended first).
        "cancels": {"requested": len(cancels), "accepted": sum(1 for _, d in cancels if d.type == "ok")},
        "ws_messages": int(by_name.get("quote age", {}).get("Request Count", 0) or 0),
        "stream": "measured" if run.stream else "not applicable: the target file declares no stream",
        "phases": split_by_phase(
            history,
            run.timeline,
            run.fills,
            [(w.timestamp - run.started_wall, w.http_rps) for w in writes(run.history_rows)],
            grace,
        ),
        "cpu_percent": run.cpu,
        "faults": run.timeline.to_json(),
        "schedule": run.schedule.to_json() if run.schedule else None,
        "invariants": {v.check: INVARIANT_WORDS.get(v.status, v.status) for v in verdicts},
        # why each holds or not, over how much (risk_limits_hold names the accounts it locked)
        "invariant_summaries": {v.check: v.summary for v in verdicts},
        "duration_s": round(time.time() - run.started_wall, 1),
        "workers": run.workers + run.remote_workers,  # every Locust worker, local and remote
        "remote_workers": run.remote_workers,
        "journal": run.journal,
        "onboarded_before_s": round(run.onboarding_s, 1),
        **({"funded": run.funded} if run.funded is not None else {}),
        "seed": run.seed,
    }


def percentiles(row: dict[str, str] | None) -> dict[str, float | None]:
    def value(key: str) -> float | None:
        raw = (row or {}).get(key, "N/A")
        return None if raw in ("", "N/A") else float(raw)

    return {"p50": value("50%"), "p95": value("95%"), "p99": value("99%")}

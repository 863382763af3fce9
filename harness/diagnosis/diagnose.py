"""One diagnosis for a failed check, from evidence sampled while the fault was active: a
deployment, a database lock, the database unavailable, a venue fault, or none of those (the
middleware's own fault). Pure functions of the fault windows and the samples, tested on
hand-built evidence.

The rules, first match wins; each looks only at evidence within the span, ±SLACK_S:

1. deployment: a sigterm/sigkill/exited/not_ready/rollback process event, or a "deployment" window:
   a restart explains everything that fails while it happens. A flood of its API or credentials
   rotated under it are windows on the middleware too, but no deployment: what fails then is its own.
2. database lock: a sampled session was blocked (pg_blocking_pids) by a holder whose transaction
   had been open MIN_HOLD_S or more, or that was seen blocking in two samples or more. The holder
   named is the one that blocked the most sessions (locks.py). A lock fault that blocked nobody
   is no evidence of a lock: the middleware may never touch the rows it holds.
3. database unavailable: a sample that could not reach Postgres; a window on "postgres" other
   than a lock fault (the link down, cut or slowed; a restart; connections exhausted; statement
   timeouts), since those hit every statement whatever rows it touches; sampled connections at
   the limit; or the health endpoint saying its database is down (outages.py).
4. venue: a window on any other target (rithmic, tt, stripe, ...), named per venue.
5. undetermined: nothing external was seen in the span, so the fault is the middleware's own.

The lower-ranked causes that also had evidence are listed under the evidence's "also"."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ..timeline import FaultWindow
from .locks import lock_diagnosis
from .model import MAX_ITEMS, MIDDLEWARE, POSTGRES, Diagnosis, Span, short, when
from .outages import is_lock_fault, unavailable_diagnosis
from .samples import DbSample, HealthSample, ProcessEvent

DISRUPTIVE = frozenset({"sigterm", "sigkill", "exited", "not_ready", "rollback"})
NOT_VENUE_KINDS = frozenset({"database", "deployment"})

# Evidence keys that hold run-clock seconds (harness/checks/*.py). The mocks' own event times
# ("ts", and "after_429_at"/"retried_at" made from them) are wall-clock, so they are left out.
RUN_CLOCK_KEYS = (
    "at",
    "t",
    "time",
    "invoked_at",
    "fault_cleared_at",
    "first_accepted_order_at",
    "quotes_resumed_at",
)
MAX_RUN_S = 1e6  # a larger "time" is a wall-clock timestamp, not the run clock


def diagnose(
    span: tuple[float, float] | None,
    *,
    faults: Sequence[FaultWindow],
    db: Sequence[DbSample],
    health: Sequence[HealthSample],
    process: Sequence[ProcessEvent],
) -> Diagnosis:
    """The cause of a failure seen in `span` (run-clock seconds; None: the whole run)."""
    within = Span.of(span)
    windows = [w for w in faults if within.meets(w.start, w.end)]
    samples = sorted((s for s in db if within.has(s.t)), key=lambda s: s.t)
    probes = sorted((h for h in health if within.has(h.t)), key=lambda h: h.t)
    events = sorted((e for e in process if within.has(e.t)), key=lambda e: e.t)
    common: dict[str, Any] = {
        "span": None if span is None else [min(span), max(span)],
        "fault_windows": [w.to_json() for w in windows][:MAX_ITEMS],
        "db_samples": len(samples),
        "db_sampled": [samples[0].t, samples[-1].t] if samples else None,
        "health_probes": len(probes),
        "unhealthy": [h.to_json() for h in probes if h.ok is False or h.database_ok is False][:MAX_ITEMS],
    }
    found = [
        d
        for d in (
            _deployment(windows, events),
            lock_diagnosis(samples, windows),
            unavailable_diagnosis(db, within, windows, probes),
            _venue(windows),
        )
        if d is not None
    ]
    if not found:
        return _undetermined(span, windows, samples, common)
    first = found[0]
    evidence = {**common, **first.evidence}
    if len(found) > 1:
        evidence["also"] = [d.summary for d in found[1:]]
    return Diagnosis(first.cause, first.summary, evidence)


def _deployment(windows: list[FaultWindow], events: list[ProcessEvent]) -> Diagnosis | None:
    deploys = [w for w in windows if w.kind == "deployment"]
    disruptive = [e for e in events if e.kind in DISRUPTIVE]
    if not deploys and not disruptive:
        return None
    named = ", ".join(f"{w.name} ({when(w.start, w.end)})" for w in deploys)
    head = named or disruptive[0].detail or "the middleware's process"
    steps = [
        f"{e.kind} at {e.t:.1f} s" + ("" if e.exit_code is None else f" (exit code {e.exit_code})")
        for e in events[:6]
    ]
    logs = [line for e in events for line in e.log_lines][-5:]
    summary = f"deployment: {head}: {', '.join(steps)}" if steps else f"deployment: {head}"
    if logs:
        summary += f'; last log: "{short(logs[-1], 120)}"'
    evidence = {
        "deployments": [w.to_json() for w in deploys],
        "process_events": [e.to_json() for e in events][:MAX_ITEMS],
        "exit_codes": [e.exit_code for e in events if e.exit_code is not None],
        "log_lines": logs,
    }
    return Diagnosis("deployment", summary, evidence)


def _venue(windows: list[FaultWindow]) -> Diagnosis | None:
    hits: dict[str, list[FaultWindow]] = {}
    for w in windows:
        if w.target not in (POSTGRES, MIDDLEWARE) and w.kind not in NOT_VENUE_KINDS:
            hits.setdefault(w.target, []).append(w)
    if not hits:
        return None
    told = "; ".join(
        f"{venue} — " + ", ".join(f"{w.name} ({when(w.start, w.end)})" for w in found)
        for venue, found in hits.items()
    )
    return Diagnosis("venue", f"venue: {told}", {"venues": list(hits)})


def _undetermined(
    span: tuple[float, float] | None,
    windows: list[FaultWindow],
    samples: list[DbSample],
    common: dict[str, Any],
) -> Diagnosis:
    where = "in the run" if span is None else f"in {when(min(span), max(span))}"
    summary = (
        f"undetermined: no deployment, database lock, database outage or venue fault was seen {where}: "
        "the failure is the middleware's own"
    )
    notes = [f"{w.name} was in force but blocked no sampled session" for w in windows if is_lock_fault(w)]
    if not samples:
        notes.append("the database was not sampled")
    if notes:
        summary += f" ({'; '.join(notes)})"
    return Diagnosis("undetermined", summary, {**common, "notes": notes})


def span_of(
    evidence: Sequence[dict[str, Any]], *, default: tuple[float, float] | None
) -> tuple[float, float] | None:
    """The run-clock span a failed verdict's evidence points at: from the first to the last time
    named in it (RUN_CLOCK_KEYS). A recovery that never came (`fault_cleared_at` with `bound_s`)
    reaches to the end of its bound, where the middleware should have been back. No time in the
    evidence: `default` (e.g. the scenario's fault phase)."""
    times: list[float] = []
    for item in evidence:
        times += [t for key in RUN_CLOCK_KEYS if (t := _seconds(item.get(key))) is not None]
        cleared, bound = _seconds(item.get("fault_cleared_at")), _seconds(item.get("bound_s"))
        if cleared is not None and bound is not None:
            times.append(cleared + bound)
    return (min(times), max(times)) if times else default


def _seconds(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    seconds = float(value)
    return seconds if math.isfinite(seconds) and 0 <= seconds < MAX_RUN_S else None

"""The "database unavailable" rule: the middleware's database could not serve it, seen as samples
that could not reach Postgres, faults on the database that hit every statement, connections at
the limit, or the middleware's own health answer saying so."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from ..timeline import FaultWindow
from .model import MAX_ITEMS, POSTGRES, SLACK_S, Diagnosis, Span, when
from .samples import DbSample, HealthSample

# Database faults that only hold locks: they are evidence only through the sessions they block.
LOCK_FAULTS = ("row_lock", "idle_in_transaction", "table_lock")
_OUT_OF_SLOTS = ("connection slots", "too many clients", "toomanyconnections")


@dataclass(frozen=True)
class Outage:
    """Consecutive samples that could not reach Postgres."""

    start: float  # the first of them
    last: float  # the last of them
    back: float | None  # the first sample that reached it again (None: not within the samples)
    error: str  # the first sample's
    samples: int

    @property
    def end(self) -> float:
        return self.last if self.back is None else self.back

    def text(self) -> str:
        why = "refused connections (out of slots)" if self.refused else "unreachable"
        back = "" if self.back is not None else ", not back by the last sample"
        return f"{why} for {self.end - self.start:.1f} s ({when(self.start, self.end)}{back})"

    @property
    def refused(self) -> bool:
        return any(word in self.error.lower() for word in _OUT_OF_SLOTS)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def outages(db: Sequence[DbSample]) -> list[Outage]:
    """Every run of unreachable samples, over all the samples (a span's outage may end after it)."""
    found: list[Outage] = []
    run: list[DbSample] = []
    for sample in [*sorted(db, key=lambda s: s.t), None]:
        if sample is not None and not sample.reachable:
            run.append(sample)
            continue
        if run:
            back = None if sample is None else sample.t
            found.append(Outage(run[0].t, run[-1].t, back, run[0].error, len(run)))
            run = []
    return found


def is_lock_fault(window: FaultWindow) -> bool:
    return window.kind == "database" and any(fault in window.name for fault in LOCK_FAULTS)


def _window_text(w: FaultWindow) -> str:
    span = when(w.start, w.end)
    if w.kind == "network":
        cut = w.unreachable
        return f"the database link was {'down' if cut else 'degraded'} {span} ({w.name})"
    for fault, text in (
        ("restart", "Postgres restarted"),
        ("exhaust_connections", "connections exhausted"),
        ("statement_timeout", "statements timed out"),
    ):
        if fault in w.name:
            return f"{text} ({w.name}, {span})"
    return f"{w.name} ({span})"


def unavailable_diagnosis(
    db: Sequence[DbSample],
    within: Span,
    windows: Sequence[FaultWindow],
    health: Sequence[HealthSample],
) -> Diagnosis | None:
    """`db` is every sample (an outage is measured to the first sample back, even after the span);
    `windows` and `health` are those within the span already."""
    seen = [o for o in outages(db) if within.meets(o.start, o.end)]
    faults = [w for w in windows if w.target == POSTGRES and not is_lock_fault(w)]
    full = [
        s
        for s in sorted(db, key=lambda s: s.t)
        if within.has(s.t)
        and s.connections is not None
        and s.connection_limit is not None
        and s.connections >= s.connection_limit
    ]
    said = [h for h in health if h.database_ok is False]
    if not (seen or faults or full or said):
        return None
    parts = []
    told: set[Outage] = set()
    for w in faults:
        during = Span(w.start - SLACK_S, float("inf") if w.end is None else w.end + SLACK_S)
        near = [o for o in seen if during.meets(o.start, o.end)]
        told.update(near)
        parts.append(_window_text(w) + (": " + ", ".join(o.text() for o in near) if near else ""))
    parts += [f"Postgres {o.text()}: {o.error}" for o in seen if o not in told]
    if full:
        peak = max(full, key=lambda s: s.connections or 0)
        parts.append(
            f"connections at the limit: {peak.connections} of {peak.connection_limit} in use "
            f"({when(full[0].t, full[-1].t)})"
        )
    if said:
        parts.append(
            f"the middleware's health said its database was down "
            f"({len(said)} probe(s), {when(said[0].t, said[-1].t)})"
        )
    evidence = {
        "outages": [o.to_json() for o in seen][:MAX_ITEMS],
        "database_faults": [w.to_json() for w in faults][:MAX_ITEMS],
        "connections_at_limit": [
            {"t": s.t, "connections": s.connections, "limit": s.connection_limit} for s in full
        ][:MAX_ITEMS],
        "health_database_down": [h.to_json() for h in said][:MAX_ITEMS],
    }
    return Diagnosis("database unavailable", "database unavailable: " + "; ".join(parts), evidence)

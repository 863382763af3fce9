"""Diagnosis of failed checks (DESIGN seam 5): while faults are active, a Sampler records the
middleware's database sessions and locks, its health answers and its process events; afterwards
`diagnose` names one cause per failed check (a database lock, the database unavailable, a
deployment, a venue fault, or undetermined) with the evidence behind it.

Example usage::

    sampler = Sampler(pg.dsn, health=probe, clock=timeline.now).start()
    ...  # the run; sampler.record(ProcessEvent(t, "exited", exit_code=137)) on a restart
    sampler.stop()
    for verdict in failed:
        found = diagnose(
            span_of(verdict.evidence, default=fault_phase),
            faults=timeline.windows,
            db=sampler.db_samples,
            health=sampler.health_samples,
            process=sampler.process_events,
        )
        print(found.line())
"""

from __future__ import annotations

from .diagnose import diagnose, span_of
from .model import CAUSES, Cause, Diagnosis
from .sampler import APPLICATION_NAME, Sampler
from .samples import PROCESS_KINDS, DbSample, DbSession, HealthSample, ProcessEvent, ProcessKind, WaitingLock

__all__ = [
    "APPLICATION_NAME",
    "CAUSES",
    "PROCESS_KINDS",
    "Cause",
    "DbSample",
    "DbSession",
    "Diagnosis",
    "HealthSample",
    "ProcessEvent",
    "ProcessKind",
    "Sampler",
    "WaitingLock",
    "diagnose",
    "span_of",
]

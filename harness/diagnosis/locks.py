"""The "database lock" rule: who held the lock the middleware's sessions waited for, read from
the sampled sessions' pg_blocking_pids. A holder is charged with everyone waiting on it, directly
or down a chain (A holds, B waits on A, C waits on B: A blocked two), so the root of a pile-up is
named rather than its first victim."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..timeline import FaultWindow
from .model import MAX_ITEMS, Diagnosis, short, when
from .samples import DbSample, DbSession, WaitingLock

# Shorter blocking, seen in one sample only, is ordinary row contention between the middleware's
# own statements, not a cause; a lock fault or a stuck transaction holds for longer.
MIN_HOLD_S = 1.0
NO_NAME = "no application_name"
FAULT_APP_PREFIX = "uat-fault:"  # the application_name of the harness's database fault sessions


@dataclass(frozen=True)
class Waiter:
    """A session seen waiting on a holder, from `first` to `last` (run clock)."""

    session: DbSession  # as last seen waiting
    first: float
    last: float

    def to_json(self) -> dict[str, Any]:
        return {**self.session.to_json(), "first_seen": self.first, "last_seen": self.last}


@dataclass
class Holding:
    """One lock holder across the samples in the span."""

    pid: int
    first: float
    last: float
    session: DbSession | None = None  # the holder as last seen while blocking (None: not sampled)
    max_age: float = 0.0  # the longest its transaction was seen open while blocking
    samples: int = 0
    blocked_itself: bool = False  # it waited on another holder too: not the root
    blocked: dict[int, Waiter] = field(default_factory=dict)
    peak: int = 0
    waiting_locks: tuple[WaitingLock, ...] = ()  # pg_locks' ungranted locks at its peak

    @property
    def significant(self) -> bool:
        return self.max_age >= MIN_HOLD_S or self.samples >= 2

    def max_wait(self) -> float:
        return max((w.last - w.first for w in self.blocked.values()), default=0.0)


def lock_holdings(samples: Iterable[DbSample]) -> list[Holding]:
    """Every holder any sampled session waited on, with everyone it blocked."""
    holdings: dict[int, Holding] = {}
    for sample in samples:
        waiting_on: dict[int, list[DbSession]] = {}
        for waiter in sample.blocked():
            for pid in waiter.blocked_by:
                waiting_on.setdefault(pid, []).append(waiter)
        for pid in waiting_on:
            reach = _reach(pid, waiting_on)
            holding = holdings.setdefault(pid, Holding(pid, sample.t, sample.t))
            holding.last = sample.t
            holding.samples += 1
            me = sample.session(pid)
            if me is not None:
                holding.session = me
                holding.max_age = max(holding.max_age, me.xact_age_s or 0.0)
                holding.blocked_itself |= bool(me.blocked_by)
            for waiter in reach:
                before = holding.blocked.get(waiter.pid)
                holding.blocked[waiter.pid] = Waiter(waiter, before.first if before else sample.t, sample.t)
            if len(reach) > holding.peak:
                holding.peak, holding.waiting_locks = len(reach), sample.waiting_locks
    return list(holdings.values())


def _reach(holder: int, waiting_on: dict[int, list[DbSession]]) -> list[DbSession]:
    found: dict[int, DbSession] = {}
    stack = [holder]
    while stack:
        for waiter in waiting_on.get(stack.pop(), []):
            if waiter.pid != holder and waiter.pid not in found:
                found[waiter.pid] = waiter
                stack.append(waiter.pid)
    return list(found.values())


def lock_diagnosis(samples: Iterable[DbSample], windows: Sequence[FaultWindow] = ()) -> Diagnosis | None:
    """The holder that blocked the most sessions (a root holder before one that waited itself).
    A holder that is one of the harness's fault sessions (`uat-fault:<kind>`) is named with its
    fault window, since an active holder's statement is then only its sleep."""
    holdings = [h for h in lock_holdings(samples) if h.significant]
    if not holdings:
        return None
    top = max(holdings, key=lambda h: (len(h.blocked), not h.blocked_itself, -h.first))
    holder = top.session
    fault = _fault_of(holder, windows)
    if holder is None:
        who = f"pid {top.pid} (not sampled)"
    else:
        age = "" if holder.xact_age_s is None else f" for {top.max_age:.1f} s"
        who = f"pid {top.pid} ({holder.application_name or NO_NAME}, {holder.state or 'state unknown'}{age})"
        # Idle in its transaction, its query is the statement that took the lock; active, it is
        # the statement it runs while holding it.
        verb = "running" if holder.state == "active" else "held"
        who += f' {verb} "{short(holder.query)}"'
    apps: dict[str, int] = {}
    for waiter in top.blocked.values():
        name = waiter.session.application_name or NO_NAME
        apps[name] = apps.get(name, 0) + 1
    of = ", ".join(sorted(apps, key=lambda a: (-apps[a], a)))
    summary = f"database lock: {who}, blocking {len(top.blocked)} session(s) of {of}"
    if top.samples > 1:
        summary += f"; longest wait seen {top.max_wait():.1f} s ({when(top.first, top.last)})"
    else:
        summary += f"; seen at {top.first:.1f} s"
    if fault is not None:
        summary += f"; the fault {fault.name} ({when(fault.start, fault.end)})"
    others = sorted((h for h in holdings if h is not top), key=lambda h: -len(h.blocked))
    if others:
        summary += f"; {len(others)} other holder(s)"
    evidence = {
        "holder": holder.to_json() if holder else {"pid": top.pid},
        "holder_query": holder.query if holder else None,
        "holder_fault": fault.name if fault else None,
        "blocked_sessions": len(top.blocked),
        "blocked_applications": apps,
        "blocked": [w.to_json() for w in top.blocked.values()][:MAX_ITEMS],
        "max_wait_seen_s": round(top.max_wait(), 3),
        "seen_from": top.first,
        "seen_to": top.last,
        "samples": top.samples,
        "waiting_locks": [list(lock) for lock in top.waiting_locks][:MAX_ITEMS],
        "other_holders": [
            {
                "pid": h.pid,
                "application_name": h.session.application_name if h.session else None,
                "blocked_sessions": len(h.blocked),
            }
            for h in others
        ][:MAX_ITEMS],
    }
    return Diagnosis("database lock", summary, evidence)


def _fault_of(holder: DbSession | None, windows: Sequence[FaultWindow]) -> FaultWindow | None:
    """The harness fault window a `uat-fault:<kind>` holder belongs to (harness/dbfaults)."""
    if holder is None or not holder.application_name.startswith(FAULT_APP_PREFIX):
        return None
    kind = holder.application_name.removeprefix(FAULT_APP_PREFIX)
    return next((w for w in windows if w.kind == "database" and kind in w.name), None)

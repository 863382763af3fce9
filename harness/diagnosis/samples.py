"""What the diagnosis samples while faults are active: the database's sessions and locks, the
middleware's health answers, and the process events the runner reports (restarts). Frozen, typed
and JSON-able, so a diagnosis can quote them as evidence and a report can reload them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

if TYPE_CHECKING:
    from ..adapters import Outcome

QUERY_CHARS = 300  # what pg_stat_activity's query is cut to: enough to recognise the statement
RAW_CHARS = 1000  # a health answer kept as evidence, cut to this much JSON

ProcessKind = Literal["sigterm", "sigkill", "exited", "started", "ready", "not_ready", "rollback"]
PROCESS_KINDS: tuple[ProcessKind, ...] = (
    "sigterm",
    "sigkill",
    "exited",
    "started",
    "ready",
    "not_ready",
    "rollback",
)


@dataclass(frozen=True)
class DbSession:
    """One client backend of the middleware's database, as pg_stat_activity showed it."""

    pid: int
    application_name: str
    state: str | None  # active, idle in transaction, ... (None: not visible to the sampling role)
    wait_event_type: str | None
    wait_event: str | None
    query: str  # its current (or, when idle, last) statement, cut to QUERY_CHARS
    xact_age_s: float | None  # how long its transaction had been open; None outside a transaction
    blocked_by: tuple[int, ...] = ()  # pg_blocking_pids(pid): who holds the lock it waits for

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["blocked_by"] = list(self.blocked_by)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DbSession:
        age = data.get("xact_age_s")
        return cls(
            pid=int(data["pid"]),
            application_name=str(data.get("application_name") or ""),
            state=data.get("state"),
            wait_event_type=data.get("wait_event_type"),
            wait_event=data.get("wait_event"),
            query=str(data.get("query") or "")[:QUERY_CHARS],
            xact_age_s=None if age is None else float(age),
            blocked_by=tuple(int(p) for p in data.get("blocked_by") or ()),
        )


class WaitingLock(NamedTuple):
    """A lock some session asked for and was not granted (pg_locks WHERE NOT granted)."""

    pid: int
    locktype: str
    relation: str | None  # the table, where the lock is on one (a row lock waits on a transactionid)
    mode: str


@dataclass(frozen=True)
class DbSample:
    """One look at the database. `reachable` False: the sampler could not connect or lost its
    connection (a restart, a crash, refused connections), and `error` says how."""

    t: float  # seconds on the run clock
    reachable: bool
    error: str = ""
    sessions: tuple[DbSession, ...] = ()
    waiting_locks: tuple[WaitingLock, ...] = ()
    connections: int | None = None  # client backends on the whole server
    connection_limit: int | None = None  # how many ordinary roles may open (reserved slots excluded)

    def blocked(self) -> tuple[DbSession, ...]:
        return tuple(s for s in self.sessions if s.blocked_by)

    def session(self, pid: int) -> DbSession | None:
        return next((s for s in self.sessions if s.pid == pid), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "t": self.t,
            "reachable": self.reachable,
            "error": self.error,
            "sessions": [s.to_json() for s in self.sessions],
            "waiting_locks": [list(lock) for lock in self.waiting_locks],
            "connections": self.connections,
            "connection_limit": self.connection_limit,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DbSample:
        return cls(
            t=float(data["t"]),
            reachable=bool(data["reachable"]),
            error=str(data.get("error") or ""),
            sessions=tuple(DbSession.from_json(s) for s in data.get("sessions") or ()),
            waiting_locks=tuple(
                WaitingLock(int(pid), str(kind), None if rel is None else str(rel), str(mode))
                for pid, kind, rel, mode in data.get("waiting_locks") or ()
            ),
            connections=data.get("connections"),
            connection_limit=data.get("connection_limit"),
        )


def truncate_raw(raw: Any, limit: int = RAW_CHARS) -> Any:
    """The raw answer itself when its JSON is short, else that JSON cut to `limit` characters (a
    string is cut as it is, so cutting twice changes nothing)."""
    if isinstance(raw, str):
        return raw if len(raw) <= limit else raw[:limit] + "…"
    try:
        text = json.dumps(raw, default=str)
    except (TypeError, ValueError):
        text = repr(raw)
        raw = text
    return raw if len(text) <= limit else text[:limit] + "…"


@dataclass(frozen=True)
class HealthSample:
    """One answer of the middleware's health endpoint, as the caller read it. The sampler stamps
    `t` itself, so the callable may leave it 0."""

    t: float = 0.0
    ok: bool | None = None  # the endpoint said healthy (None: no readable answer)
    database_ok: bool | None = None  # what it said of its database (None: it does not say)
    status: int | None = None  # HTTP status
    error: str = ""
    raw: Any = None  # the answer, cut by truncate_raw

    def __post_init__(self) -> None:
        object.__setattr__(self, "raw", truncate_raw(self.raw))

    @classmethod
    def from_outcome(cls, outcome: Outcome, *, database_ok: bool | None = None) -> HealthSample:
        """From the adapter's `health()` outcome (its typed HealthView says healthy or not); what the
        answer says of the database is the caller's reading, since no adapter view carries it."""
        view = outcome.health
        return cls(
            ok=view.healthy if view is not None else (False if outcome.status is not None else None),
            database_ok=database_ok,
            status=outcome.status,
            error=outcome.error or outcome.malformed,
            raw=outcome.body,
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> HealthSample:
        return cls(
            t=float(data.get("t", 0.0)),
            ok=data.get("ok"),
            database_ok=data.get("database_ok"),
            status=data.get("status"),
            error=str(data.get("error") or ""),
            raw=data.get("raw"),
        )


@dataclass(frozen=True)
class ProcessEvent:
    """Something that happened to the middleware's process, as the runner saw it: a stop signal, an
    exit (with its code and last log lines), a start, readiness gained or lost, a rollback."""

    t: float
    kind: ProcessKind
    detail: str = ""  # e.g. "middleware crash", "bad release: not ready after 10 s"
    exit_code: int | None = None
    log_lines: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.kind not in PROCESS_KINDS:
            raise ValueError(f"unknown process event {self.kind!r}; known: {', '.join(PROCESS_KINDS)}")

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["log_lines"] = list(self.log_lines)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProcessEvent:
        code = data.get("exit_code")
        return cls(
            t=float(data["t"]),
            kind=data["kind"],
            detail=str(data.get("detail") or ""),
            exit_code=None if code is None else int(code),
            log_lines=tuple(str(line) for line in data.get("log_lines") or ()),
        )

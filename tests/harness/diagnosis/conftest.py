"""Hand-built evidence for the diagnosis: sessions, samples and fault windows in a line each."""

from __future__ import annotations

from harness.diagnosis import DbSample, DbSession
from harness.timeline import FaultWindow

LOCK_SQL = "SELECT 1 FROM accounts WHERE id = ANY($1::text[]) FOR UPDATE"
MIDDLEWARE_SQL = "UPDATE accounts SET trading_enabled = false WHERE id = $1"


def holder(pid: int = 4242, age: float | None = 4.2, app: str = "uat-fault:row_lock") -> DbSession:
    return DbSession(pid, app, "idle in transaction", "Client", "ClientRead", LOCK_SQL, age)


def waiter(pid: int, *on: int, app: str = "reference_middleware", age: float = 0.3) -> DbSession:
    kind, event = ("Lock", "transactionid") if on else (None, None)
    return DbSession(pid, app, "active", kind, event, MIDDLEWARE_SQL, age, on)


def sample(t: float, *sessions: DbSession, connections: int | None = None, limit: int = 97) -> DbSample:
    return DbSample(t, True, "", sessions, (), connections, limit if connections is not None else None)


def down(t: float, error: str = "ConnectionRefusedError: [Errno 111] Connection refused") -> DbSample:
    return DbSample(t, False, error)


def window(
    name: str, start: float, end: float | None, *, kind: str = "network", target: str = ""
) -> FaultWindow:
    target = target or name.split()[0]
    cut = name.endswith(" down") or "reset_peer" in name or "timeout" in name.split()[1:2]
    return FaultWindow(name, kind, target, cut and target != "postgres", start, end, unreachable=cut)

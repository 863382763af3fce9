"""What a database fault is, without a database: its kinds, their params, and the handle an applied
one leaves. Kept apart from the SQL: a schedule is checked with it at parse time, long before a database."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from types import MappingProxyType
from typing import Any

APP_PREFIX = "uat-fault:"  # application_name of every harness session: `uat-fault:<kind>`
KINDS: Mapping[str, str] = MappingProxyType(
    {
        "row_lock": "a transaction locks rows (sql, args) and stays active (pg_sleep) until cleared",
        "idle_in_transaction": "a transaction locks rows (sql, args), then sits idle in transaction",
        "table_lock": "a transaction holds LOCK TABLE table IN mode MODE (default ACCESS EXCLUSIVE)",
        "exhaust_connections": "harness sessions take every connection slot but `leave` (default 2)",
        "statement_timeout": "ALTER SYSTEM SET statement_timeout = ms for every session without its own",
        "restart": "Postgres restarted in place (pg_ctl restart -m fast): every session cut; no clear",
    }
)
PARAMS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "row_lock": ("sql", "args"),
        "idle_in_transaction": ("sql", "args"),
        "table_lock": ("table", "mode"),
        "exhaust_connections": ("leave",),
        "statement_timeout": ("ms",),
        "restart": (),
    }
)
LOCK_MODES = (
    "ACCESS SHARE",
    "ROW SHARE",
    "ROW EXCLUSIVE",
    "SHARE UPDATE EXCLUSIVE",
    "SHARE",
    "SHARE ROW EXCLUSIVE",
    "EXCLUSIVE",
    "ACCESS EXCLUSIVE",
)
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_$]{0,62}")


class DatabaseFaultError(ValueError):
    """A fault's params are wrong (it names the param), or the database would not take the fault
    (a lock on no rows, an unknown table, a lock it could not get, a restart it does not own)."""


@dataclass(frozen=True)
class FaultHandle:
    """One applied fault: what was asked, and what the database showed when it took hold."""

    id: int
    kind: str
    params: Mapping[str, Any] = field(compare=False)  # validated, defaults filled in
    applied_at: float = 0.0  # epoch seconds: when it was in force (restart: when it began)
    pids: tuple[int, ...] = ()  # the harness backends holding it (pg_stat_activity.pid)
    rows_locked: int | None = None
    max_connections: int | None = None
    already_used: int | None = None  # client backends that were not the harness's
    taken: int | None = None  # connections the harness holds
    refused: str | None = None  # the server's refusal, when it ran out of slots before `leave`
    down_s: float | None = None  # restart: how long Postgres did not answer

    def facts(self) -> dict[str, Any]:
        """What the database showed, for the timeline and the report (only what this kind measures)."""
        skip = ("id", "params", "applied_at", "pids")
        return {k: v for k, v in asdict(self).items() if k not in skip and v is not None}


def validate(kind: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """Check a fault's params without a database (at schedule-parse time); returns them
    normalised, defaults filled in. Raises DatabaseFaultError naming the bad param."""
    if kind not in KINDS:
        raise DatabaseFaultError(f"unknown database fault {kind!r}; known: {', '.join(KINDS)}")
    for name in params:
        if name not in PARAMS[kind]:
            takes = ", ".join(PARAMS[kind]) or "none"
            raise DatabaseFaultError(f"{kind}: unknown param {name!r} (it takes: {takes})")
    if kind in ("row_lock", "idle_in_transaction"):
        sql, args = params.get("sql"), params.get("args", [])
        if not isinstance(sql, str) or not sql.strip():
            raise DatabaseFaultError(f"{kind}: param 'sql' must be a statement that locks rows, got {sql!r}")
        if not isinstance(args, list | tuple):
            raise DatabaseFaultError(f"{kind}: param 'args' must be a list ($1, $2, ...), got {args!r}")
        return {"sql": sql, "args": list(args)}
    if kind == "table_lock":
        table = params.get("table")
        parts = table.split(".") if isinstance(table, str) else []
        if not 1 <= len(parts) <= 2 or not all(_IDENT.fullmatch(part) for part in parts):
            example = "such as orders or public.orders"
            raise DatabaseFaultError(
                f"table_lock: param 'table' must be a table name {example}, got {table!r}"
            )
        asked = params.get("mode", "ACCESS EXCLUSIVE")
        mode = " ".join(str(asked).upper().split()).removesuffix(" MODE")
        if mode not in LOCK_MODES:
            known = ", ".join(LOCK_MODES)
            raise DatabaseFaultError(
                f"table_lock: param 'mode' {asked!r} is not a lock mode; one of: {known}"
            )
        return {"table": table, "mode": mode}
    if kind == "exhaust_connections":
        return {"leave": _int(kind, "leave", params.get("leave", 2), 0)}
    if kind == "statement_timeout":
        return {"ms": _int(kind, "ms", params.get("ms"), 1)}
    return {}


def _int(kind: str, name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise DatabaseFaultError(f"{kind}: param {name!r} must be an integer >= {minimum}, got {value!r}")
    return value


def quote_table(table: str) -> str:
    """`schema.table` as quoted identifiers. validate() has already refused anything but plain
    identifiers; quoting as well means a name is never read as SQL, whatever the check lets by."""
    return ".".join('"' + part.replace('"', '""') + '"' for part in table.split("."))

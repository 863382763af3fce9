"""Target-specific reconciliation SQL: named queries read from a file, run through `ctx.psql`.

The file is the one the target file names (`[checks] sql = "reference.sql"`, relative to the target
file; the bundled reference's ships beside it as package data, targets/reference.sql). It is a list
of blocks, each headed `-- name: group.query` and `-- what: the invariant`, then one SELECT that
returns the offending rows (none: it holds). A block marked `-- compare: positions` returns rows the
checker holds against the middleware's API instead."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .base import CheckContext


@dataclass(frozen=True)
class Query:
    name: str
    what: str
    sql: str
    compare: str = ""


def parse(text: str) -> list[Query]:
    queries: list[Query] = []
    name = what = compare = ""
    body: list[str] = []

    def flush() -> None:
        if name and "".join(body).strip():
            queries.append(Query(name, what, "\n".join(body).strip(), compare))

    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("-- name:"):
            flush()
            name, what, compare, body = stripped.removeprefix("-- name:").strip(), "", "", []
        elif stripped.startswith("-- what:"):
            what = stripped.removeprefix("-- what:").strip()
        elif stripped.startswith("-- compare:"):
            compare = stripped.removeprefix("-- compare:").strip()
        elif stripped.startswith("--") or not name:
            continue
        else:
            body.append(line)
    flush()
    return queries


def load(ctx: CheckContext, group: str) -> tuple[list[Query], str]:
    """The queries of one group from the target's SQL file, and that file ('' if it names none)."""
    path = ctx.sql_file
    if path is None:
        return [], ""
    return [q for q in parse(path.read_text()) if q.name.startswith(f"{group}.")], str(path)


def run(ctx: CheckContext, query: Query) -> list[list[str]]:
    assert ctx.psql is not None
    out = ctx.psql(query.sql)
    return [line.split("|") for line in out.splitlines() if line.strip()]


def record(query: Query, rows: list[list[str]], **extra: Any) -> dict[str, Any]:
    """One evidence entry: the query, what it checks, and (some of) its rows, for the report."""
    return {"query": query.name, "what": query.what, "sql": query.sql, "rows": rows[:20], **extra}

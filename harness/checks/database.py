"""Data integrity in the middleware's own database: reconciliation SQL, with the queries and their
results kept as evidence so the report can attach them."""

from __future__ import annotations

from typing import Any

from . import sql
from .base import CheckContext, Verdict, checker


@checker("db_reconcile")
def db_reconcile(ctx: CheckContext) -> Verdict:
    queries, source = sql.load(ctx, "db")
    if ctx.psql is None:
        return Verdict.skip("db_reconcile", "not run: no access to the middleware's database")
    if not source:
        return Verdict.skip(
            "db_reconcile", "not run: the target declares no reconciliation SQL ([checks] sql)"
        )
    if not queries:
        return Verdict.skip("db_reconcile", f"not run: {source} has no db.* reconciliation query")
    failed: list[dict[str, Any]] = []
    ran: list[dict[str, Any]] = []
    for query in queries:
        rows = sql.run(ctx, query)
        if query.compare == "positions":
            problems = _compare_positions(ctx, rows)
            entry = sql.record(query, rows, mismatches=problems, passed=not problems)
        else:
            entry = sql.record(query, rows, passed=not rows)
        ran.append(entry)
        if not entry["passed"]:
            failed.append(entry)
    if failed:
        names = ", ".join(e["query"] for e in failed)
        return Verdict.fail(
            "db_reconcile",
            f"{len(failed)} of {len(queries)} reconciliation queries found offending rows ({names})",
            failed + [e for e in ran if e["passed"]],
            "data loss",
        )
    tags = ctx.our_tags()
    if not any(o.get("client_tag") in tags for o in ctx.ledger.get("orders", [])):
        return Verdict.no_evidence(
            "db_reconcile",
            f"the {len(queries)} reconciliation queries hold, but no order of ours reached the venue: "
            "nothing was booked to reconcile",
            ran,
        )
    return Verdict.ok(
        "db_reconcile",
        f"all {len(queries)} reconciliation queries from {source} hold "
        "(fills once, orders match fills, no orphans, transaction log balanced, positions = fills)",
        ran,
    )


def _compare_positions(ctx: CheckContext, rows: list[list[str]]) -> list[dict[str, Any]]:
    """Rows (account, venue, symbol, net) against the middleware's positions for our accounts."""
    from_fills: dict[tuple[str, str, str], int] = {}
    for row in rows:
        if len(row) >= 4:
            from_fills[(row[0], row[1], row[2])] = int(row[3])
    problems = []
    for account in sorted(set(ctx.accounts.values())):
        outcome = ctx.adapter.positions(account)
        if not outcome.ok:
            problems.append({"account": account, **outcome.evidence()})
            continue
        api = {(account, p.venue, p.symbol): p.net_qty for p in outcome.positions or ()}
        mine = {k: v for k, v in from_fills.items() if k[0] == account}
        for key in sorted(set(api) | set(mine)):
            if api.get(key, 0) != mine.get(key, 0):
                problems.append(
                    {
                        "account": account,
                        "venue": key[1],
                        "symbol": key[2],
                        "sum_of_fills": mine.get(key, 0),
                        "api_net_qty": api.get(key, 0),
                    }
                )
    return problems

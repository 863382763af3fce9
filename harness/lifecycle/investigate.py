"""`investigate`: where each trader's lifecycle broke. Every expected trader's records (`join`) are
judged hop by hop in chain order, so the first hop that disagrees is where the chain broke, and
every hop after it is still reported (a missing login explains a missing deposit, but a duplicate
worker after it is a second bug, not a consequence).

A hop whose system could not be read is `unread`, never `ok`: an unread ledger is no evidence.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import hops
from .desync import middleware
from .judging import HOP_SYSTEMS, Ledgers
from .model import Chain, Snapshot, join
from .payouts import payouts
from .report import UNREAD, Hop, Report, TraderReport

Judge = Callable[[Chain, Ledgers], Hop]
JUDGES: tuple[tuple[str, Judge], ...] = (
    ("stripe", hops.stripe),
    ("bus", hops.bus),
    ("contract", hops.contract),
    ("signature", hops.signature),
    ("mt5_login", hops.mt5_login),
    ("deposit", hops.deposit),
    ("rippling", hops.rippling),
    ("payouts", payouts),
    ("middleware", middleware),
)


def judge(chain: Chain, ledgers: Ledgers) -> TraderReport:
    """One trader's hops, in chain order."""
    found = []
    for name, judge_hop in JUDGES:
        unread = [ledgers.unread[s] for s in HOP_SYSTEMS[name] if s in ledgers.unread]
        if unread:
            found.append(Hop(name, UNREAD, "could not be read: " + "; ".join(unread)))
        else:
            found.append(judge_hop(chain, ledgers))
    return TraderReport(chain.customer, chain.trader.email, tuple(found))


def sql_findings(entries: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """The target's lifecycle queries that returned rows (each a desync the middleware's own database
    shows), and those that could not run (named like an unread system)."""
    findings, failed = [], []
    for entry in entries:
        name = entry.get("name") or entry.get("query") or "a lifecycle query"
        if entry.get("error"):
            failed.append(f"sql {name}: {entry['error']}")
        elif isinstance(entry.get("rows"), list) and entry["rows"]:
            findings.append(entry)
    return findings, failed


def investigate(snapshot: Snapshot) -> Report:
    """Every expected trader's verdict, the SQL findings, and what could not be read."""
    ledgers = Ledgers.of(snapshot)
    traders = tuple(judge(chain, ledgers) for chain in join(snapshot))
    findings, failed = sql_findings(snapshot.sql)
    return Report(traders, tuple(findings), (*(str(m) for m in snapshot.missing), *failed))

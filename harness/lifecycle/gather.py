"""Read every lifecycle system's records after a run into a Snapshot: the mocks' ledgers through
their control APIs, the middleware through its declared adapter. A ledger that cannot be read is
named in `missing`, never silently empty: an empty ledger would read as "nothing was booked twice".
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from ..adapters import Adapter
from ..checks.sql import parse
from .model import Expected, Snapshot

READERS = 8  # the middleware's answers read at once

# venue -> (path on its control API, the keys of its answer we keep -> Snapshot field)
LEDGERS: dict[str, tuple[str, dict[str, str]]] = {
    "stripe": ("/sent", {"events": "stripe_events"}),
    "docusign": ("/ledger", {"envelopes": "envelopes"}),
    "mt5": ("/ledger", {"users": "mt5_users", "deals": "mt5_deals"}),
    "rippling": ("/ledger", {"workers": "workers", "pay_items": "pay_items"}),
    "zapier": ("/zapier/runs", {"runs": "zap_runs"}),
}


def read_ledgers(http: httpx.Client, controls: dict[str, str], snapshot: Snapshot) -> None:
    for venue, (path, keys) in LEDGERS.items():
        if venue not in controls:
            snapshot.missing.append(f"{venue}: not running in this topology")
            continue
        try:
            answer = http.get(controls[venue] + path, timeout=30)
            answer.raise_for_status()
            body: Any = answer.json()
        except (httpx.HTTPError, ValueError) as exc:
            snapshot.missing.append(f"{venue}: {type(exc).__name__}: {exc}")
            continue
        for key, field_name in keys.items():
            value = body.get(key) if isinstance(body, dict) else None
            if isinstance(value, list):
                setattr(snapshot, field_name, value)
            else:
                snapshot.missing.append(f"{venue}: its {path} answer has no `{key}` list")


def read_middleware(adapter: Adapter, snapshot: Snapshot) -> None:
    """Each trader's accounts (trading enabled or not) and the middleware's lifecycle view, a few
    traders at a time: after a load run there are thousands of them."""
    views = adapter.supports("lifecycle")

    def one(trader: Expected) -> tuple[str, list[dict[str, Any]], Any]:
        found = adapter.accounts_for_customer(trader.customer).accounts or ()
        shown = []
        for account in found:
            view = adapter.account(account).account
            shown.append(
                {"account": account, "trading_enabled": view.trading_enabled if view is not None else None}
            )
        outcome = adapter.lifecycle(trader.customer) if views else None
        own = (
            None
            if outcome is None
            else outcome.body
            if outcome.type == "ok"
            else {"error": outcome.evidence()}
        )
        return trader.customer, shown, own

    with ThreadPoolExecutor(READERS) as pool:
        for customer, shown, own in pool.map(one, snapshot.traders):
            snapshot.accounts[customer] = shown
            if views:
                snapshot.middleware[customer] = own


def run_sql(snapshot: Snapshot, sql_file: Path | None, psql: Callable[[str], str] | None) -> None:
    """The target's `lifecycle.*` queries (its [checks] sql), each returning the rows that disagree:
    the middleware's own database as a seventh system. A query that fails is named, not dropped."""
    if sql_file is None or psql is None:
        return
    for query in parse(sql_file.read_text()):
        if not query.name.startswith("lifecycle."):
            continue
        entry: dict[str, Any] = {"name": query.name, "what": query.what, "sql": query.sql, "rows": []}
        try:
            out = psql(query.sql)
        except Exception as exc:  # the database down is evidence too: the entry says so
            entry["error"] = f"{type(exc).__name__}: {exc}"[:300]
        else:
            entry["rows"] = [line.split("|") for line in out.splitlines() if line.strip()][:50]
        snapshot.sql.append(entry)


def gather(
    http: httpx.Client,
    controls: dict[str, str],
    adapter: Adapter,
    traders: list[Expected],
    *,
    sql_file: Path | None = None,
    psql: Callable[[str], str] | None = None,
) -> Snapshot:
    snapshot = Snapshot(traders=list(traders))
    read_ledgers(http, controls, snapshot)
    read_middleware(adapter, snapshot)
    run_sql(snapshot, sql_file, psql)
    return snapshot

"""The records a hop was judged on, trimmed to the fields that tell them apart (ids, status, amounts,
comments): enough for the architect to find each one in its system, small enough for 5,000 traders.
"""

from __future__ import annotations

from typing import Any

MAX_RECORDS = 8  # per hop: the rest is counted in the hop's detail, never silently dropped
MAX_TEXT = 120


def _trim(kind: str, record: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    kept: dict[str, Any] = {"kind": kind}
    for key in keys:
        value = record.get(key)
        if value is None:
            continue
        if isinstance(value, str) and len(value) > MAX_TEXT:
            value = value[: MAX_TEXT - 1] + "…"
        kept[key] = value
    return kept


def checkout(event: dict[str, Any]) -> dict[str, Any]:
    session = (event.get("data") or {}).get("object") or {}
    return _trim(
        "checkout",
        {"event": event.get("id"), "session": session.get("id"), "customer": session.get("customer")},
        ("event", "session", "customer"),
    )


def run(record: dict[str, Any]) -> dict[str, Any]:
    return _trim("run", record, ("run_id", "zap_id", "state", "replay_of", "duplicate_of", "error"))


def envelope(record: dict[str, Any]) -> dict[str, Any]:
    return _trim("envelope", record, ("envelope_id", "status", "voided_reason"))


def user(record: dict[str, Any]) -> dict[str, Any]:
    return _trim("mt5_user", record, ("login", "email", "balance", "enabled"))


def deal(record: dict[str, Any]) -> dict[str, Any]:
    return _trim("deal", record, ("deal", "login", "amount", "comment"))


def worker(record: dict[str, Any]) -> dict[str, Any]:
    return _trim("worker", record, ("id", "work_email", "status", "external_id"))


def pay_item(record: dict[str, Any]) -> dict[str, Any]:
    return _trim("pay_item", record, ("id", "worker_id", "amount", "reference", "status"))


def account(record: dict[str, Any]) -> dict[str, Any]:
    return _trim("account", record, ("account", "trading_enabled"))


def capped(records: list[dict[str, Any]]) -> tuple[dict[str, Any], ...]:
    return tuple(records[:MAX_RECORDS])


def line(record: dict[str, Any]) -> str:
    """One record as `kind key=value …`, for the text report."""
    fields = " ".join(f"{k}={v}" for k, v in record.items() if k != "kind")
    return f"{record.get('kind', 'record')} {fields}".rstrip()

"""Snapshot files as `uat investigate` finds and reads them: one file, or every
`lifecycle-snapshot.json` under a gate's report dir (one per lifecycle scenario). A file that cannot
be judged is refused with a message naming the file and the field, never half-read: a record of the
wrong shape would otherwise read as "no such record" and blame the middleware.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .model import Snapshot

SNAPSHOT_FILE = "lifecycle-snapshot.json"
RECORD_LISTS = (
    "stripe_events",
    "envelopes",
    "mt5_users",
    "mt5_deals",
    "workers",
    "pay_items",
    "zap_runs",
    "sql",
)
# Nested values `join` and the hops read, by record list: (key, the JSON type it must be when present)
NESTED: dict[str, tuple[tuple[str, type], ...]] = {
    "stripe_events": (("data", dict),),
    "envelopes": (("recipients", list), ("history", list)),
}


class SnapshotError(ValueError):
    """A snapshot that cannot be investigated; the message names the file and the field."""


def find(path: Path) -> list[Path]:
    """PATH itself if it is a file, else every snapshot file below it, in path order."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise SnapshotError(f"{path}: no such file or directory")
    found = sorted(p for p in path.rglob(SNAPSHOT_FILE) if p.is_file())
    if not found:
        raise SnapshotError(f"{path}: no {SNAPSHOT_FILE} below it")
    return found


def _check_records(raw: dict[str, Any]) -> None:
    for name in RECORD_LISTS:
        for n, record in enumerate(raw.get(name) or ()):
            if not isinstance(record, dict):
                raise ValueError(f"{name}[{n}]: expected a JSON object, got {json.dumps(record)[:40]}")
            for key, kind in NESTED.get(name, ()):
                value = record.get(key)
                if value is not None and not isinstance(value, kind):
                    raise ValueError(
                        f"{name}[{n}].{key}: expected a JSON {'object' if kind is dict else 'list'}"
                    )
            data = record.get("data") if name == "stripe_events" else None
            if (
                isinstance(data, dict)
                and data.get("object") is not None
                and not isinstance(data["object"], dict)
            ):
                raise ValueError(f"{name}[{n}].data.object: expected a JSON object")
    accounts = raw.get("accounts") or {}
    if isinstance(accounts, dict):
        for customer, shown in accounts.items():
            if not isinstance(shown, list) or not all(isinstance(a, dict) for a in shown):
                raise ValueError(f"accounts.{customer}: expected a JSON list of objects")


def parse(raw: Any) -> Snapshot:
    """A snapshot from its JSON; ValueError naming the field when a part has the wrong shape."""
    snapshot = Snapshot.from_json(raw)
    _check_records(raw)
    return snapshot


def read(path: Path) -> Snapshot:
    """One snapshot file; SnapshotError naming the file (and the field, or where the JSON broke)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SnapshotError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SnapshotError(f"{path}: not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    try:
        return parse(raw)
    except ValueError as exc:
        raise SnapshotError(f"{path}: {exc}") from None

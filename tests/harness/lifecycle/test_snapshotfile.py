"""Finding and reading snapshot files: one file, or every one under a report dir; a file that cannot
be judged is refused naming the file and the field, never half-read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.lifecycle.snapshotfile import SNAPSHOT_FILE, SnapshotError, find, read

from .builders import World


def _write(path: Path, document: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document))
    return path


def test_a_file_is_itself_and_a_dir_is_every_snapshot_below_it(tmp_path: Path) -> None:
    world = World()
    world.trader("alice")
    b = _write(tmp_path / "gate" / "LIFE-B" / SNAPSHOT_FILE, world.doc)
    a = _write(tmp_path / "gate" / "LIFE-A" / "attempt-1" / SNAPSHOT_FILE, world.doc)
    _write(tmp_path / "gate" / "LIFE-C" / "other.json", world.doc)
    assert find(tmp_path / "gate") == [a, b]
    assert find(b) == [b]
    assert [t.customer for t in read(a).traders] == ["cus_alice"]


def test_no_such_path_and_no_snapshot_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match=f"^{tmp_path / 'nope'}: no such file or directory$"):
        find(tmp_path / "nope")
    with pytest.raises(SnapshotError, match=f"no {SNAPSHOT_FILE} below it$"):
        find(tmp_path)


def _broken(change: str) -> dict[str, Any]:
    world = World()
    world.trader("alice")
    doc = world.doc
    if change == "version":
        doc["version"] = 7
    elif change == "traders":
        doc["traders"] = {"cus_alice": {}}
    elif change == "trader":
        del doc["traders"][0]["email"]
    elif change == "ledger":
        doc["mt5_deals"] = "none"
    elif change == "record":
        doc["envelopes"].append("env-9")
    elif change == "recipients":
        doc["envelopes"][0]["recipients"] = 3
    elif change == "stripe":
        doc["stripe_events"][0]["data"]["object"] = "cs_1"
    elif change == "accounts":
        doc["accounts"]["cus_alice"] = {"trading_enabled": True}
    return doc


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("version", "version: expected 1, got 7"),
        ("traders", "traders: expected a JSON list"),
        ("trader", "traders[0]: missing or malformed 'email'"),
        ("ledger", "mt5_deals: expected a JSON list"),
        ("record", 'envelopes[1]: expected a JSON object, got "env-9"'),
        ("recipients", "envelopes[0].recipients: expected a JSON list"),
        ("stripe", "stripe_events[0].data.object: expected a JSON object"),
        ("accounts", "accounts.cus_alice: expected a JSON list of objects"),
    ],
)
def test_a_malformed_snapshot_names_the_file_and_the_field(tmp_path: Path, change: str, message: str) -> None:
    path = _write(tmp_path / SNAPSHOT_FILE, _broken(change))
    with pytest.raises(SnapshotError) as caught:
        read(path)
    assert str(caught.value) == f"{path}: {message}"


def test_text_that_is_not_json_says_where_it_broke(tmp_path: Path) -> None:
    path = tmp_path / SNAPSHOT_FILE
    path.write_text('{"version": 1,\n "traders": [}')
    with pytest.raises(SnapshotError, match=r": not JSON: Expecting value at line 2 column 14$"):
        read(path)
    path.write_text("[1, 2]")
    with pytest.raises(SnapshotError, match=r": expected a JSON object, got a JSON list$"):
        read(path)

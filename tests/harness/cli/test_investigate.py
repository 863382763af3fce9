"""`uat investigate PATH` as the architect and CI run it: exit 0 when every trader agrees, 1 when one
disagrees (or nothing could be judged), 2 for a path or snapshot that cannot be read, naming the
file and the field."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from harness.cli import main
from harness.lifecycle.snapshotfile import SNAPSHOT_FILE
from tests.harness.lifecycle.builders import World


def _write(path: Path, world: World) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(world.doc))
    return path


def _healthy() -> World:
    world = World()
    world.trader("alice", payouts=(("po_1", "500.00"),))
    return world


def _broken() -> World:
    world = _healthy()
    world.trader("bob")
    world.deal(5002, Decimal("25000.00"), "deposit cus_bob")
    return world


def _investigate(*args: str) -> Result:
    return CliRunner().invoke(main, ["investigate", *args])


def test_investigate_is_a_registered_command() -> None:
    result = _investigate("--help")
    assert result.exit_code == 0
    for words in ("PATH", "--json", "--limit", "lifecycle-snapshot.json", "no trader to investigate"):
        assert words in " ".join(result.output.split())


def test_every_trader_agreeing_exits_0(tmp_path: Path) -> None:
    result = _investigate(str(_write(tmp_path / "snap.json", _healthy())))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("lifecycle: 1 trader, 0 disagree\n")


def test_a_disagreeing_trader_exits_1_naming_where_the_chain_broke(tmp_path: Path) -> None:
    result = _investigate(str(_write(tmp_path / "snap.json", _broken())))
    assert result.exit_code == 1
    assert "cus_bob <bob@uat.test>: broke at deposit: two deposit deals for one funding" in result.output


def test_a_sql_finding_alone_exits_1(tmp_path: Path) -> None:
    world = _healthy()
    world.doc["sql"] = [{"name": "lifecycle.orphans", "rows": [[1]]}]
    assert _investigate(str(_write(tmp_path / "snap.json", world))).exit_code == 1


def test_a_snapshot_without_traders_exits_1_with_nothing_to_investigate(tmp_path: Path) -> None:
    result = _investigate(str(_write(tmp_path / "snap.json", World())))
    assert result.exit_code == 1
    assert result.output.startswith("no trader to investigate")


def test_a_report_dir_is_investigated_snapshot_by_snapshot(tmp_path: Path) -> None:
    _write(tmp_path / "LIFE-DUP-DEPOSIT" / SNAPSHOT_FILE, _broken())
    _write(tmp_path / "LIFE-HAPPY" / SNAPSHOT_FILE, _healthy())
    result = _investigate(str(tmp_path), "--limit", "0")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == f"== LIFE-DUP-DEPOSIT/{SNAPSHOT_FILE} =="
    assert f"== LIFE-HAPPY/{SNAPSHOT_FILE} ==" in lines
    assert "… and 1 more disagreeing trader (--limit N shows more)" in lines
    assert lines[-1] == "1 of 2 snapshots disagree"


def test_json_lists_every_trader_with_its_hops(tmp_path: Path) -> None:
    _write(tmp_path / "LIFE-DUP-DEPOSIT" / SNAPSHOT_FILE, _broken())
    result = _investigate(str(tmp_path), "--json")
    assert result.exit_code == 1
    document: dict[str, Any] = json.loads(result.output)
    assert (document["path"], document["agrees"]) == (str(tmp_path), False)
    (report,) = document["reports"]
    assert report["snapshot"] == f"LIFE-DUP-DEPOSIT/{SNAPSHOT_FILE}"
    assert report["broke_at"] == {"deposit": 1}
    bob = report["results"][1]
    assert (bob["customer"], bob["broke_at"]) == ("cus_bob", "deposit")
    deposit = next(h for h in bob["hops"] if h["name"] == "deposit")
    assert deposit["status"] == "duplicate" and [r["deal"] for r in deposit["records"]] == [102, 103]


def test_bad_input_exits_2_naming_the_file_and_the_field(tmp_path: Path) -> None:
    missing = _investigate(str(tmp_path / "nope"))
    assert (missing.exit_code, missing.output) == (
        2,
        f"Error: PATH: {tmp_path / 'nope'}: no such file or directory\n",
    )
    empty = _investigate(str(tmp_path))
    assert (empty.exit_code, empty.output) == (2, f"Error: PATH: {tmp_path}: no {SNAPSHOT_FILE} below it\n")
    (tmp_path / "garbage.json").write_text("not json")
    garbage = _investigate(str(tmp_path / "garbage.json"))
    assert garbage.exit_code == 2
    assert garbage.output.startswith(f"Error: PATH: {tmp_path / 'garbage.json'}: not JSON: Expecting value")
    world = _healthy()
    del world.doc["traders"][0]["customer"]
    bad = _write(tmp_path / "run" / SNAPSHOT_FILE, world)
    _write(tmp_path / "run2" / SNAPSHOT_FILE, _healthy())
    refused = _investigate(str(tmp_path / "run"))  # a dir: one bad snapshot refuses the whole run
    assert (refused.exit_code, refused.output) == (
        2,
        f"Error: PATH: {bad}: traders[0]: missing or malformed 'customer'\n",
    )


def test_the_installed_command_exits_with_the_verdict(tmp_path: Path) -> None:
    def uat(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "harness", "investigate", *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    assert uat(str(_write(tmp_path / "ok.json", _healthy()))).returncode == 0
    broken = uat(str(_write(tmp_path / "broken.json", _broken())))
    assert broken.returncode == 1 and "broke at deposit" in broken.stdout
    world = _healthy()
    world.doc["version"] = 2
    refused = uat(str(_write(tmp_path / "v2.json", world)))
    assert (refused.returncode, refused.stderr) == (
        2,
        f"Error: PATH: {tmp_path / 'v2.json'}: version: expected 1, got 2\n",
    )

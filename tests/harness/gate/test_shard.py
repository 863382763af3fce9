"""`uat gate --shard i/n`: parsing, and the split's guarantees (every scenario in exactly one shard,
the same on every machine whatever the input order or PYTHONHASHSEED, balanced by expected
duration). Fast: the registry's declarations only, nothing runs."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.gate.plugin import select
from harness.gate.shard import Shard, assign, expected_s, parse, split
from scenarios import SCENARIOS


@dataclass(frozen=True)
class Fake:
    id: str
    steady_s: float = 2.0
    fault_s: float = 0.0
    recovery_s: float = 3.0


@pytest.mark.parametrize(
    ("text", "shard"), [("1/1", Shard(1, 1)), ("2/3", Shard(2, 3)), (" 3 / 3 ", Shard(3, 3))]
)
def test_parse_accepts_i_of_n(text: str, shard: Shard) -> None:
    assert parse(text) == shard
    assert str(shard) == text.replace(" ", "")


@pytest.mark.parametrize(
    ("text", "why"),
    [("0/2", "between 1 and 2"), ("3/2", "between 1 and 2"), ("x", "is not i/n"), ("1/0", "at least 1"),
     ("-1/2", "is not i/n"), ("1/2/3", "is not i/n"), ("", "is not i/n")],
)  # fmt: skip
def test_parse_refuses_bad_values_naming_the_option(text: str, why: str) -> None:
    with pytest.raises(ValueError, match="--shard") as info:
        parse(text)
    assert why in str(info.value)


@pytest.mark.parametrize("spec", ["0/2", "3/2", "x"])
def test_the_cli_exits_2_naming_shard(spec: str) -> None:
    result = CliRunner().invoke(main, ["gate", "--shard", spec, "--seed", "1"])
    assert result.exit_code == 2, result.output
    assert "--shard" in result.output


def test_a_shard_needs_a_seed_every_shard_shares() -> None:
    result = CliRunner().invoke(main, ["gate", "--shard", "1/2", "--suite", "webhooks"])
    assert result.exit_code == 2, result.output
    assert "--shard 1/2: needs --seed" in result.output


@pytest.mark.parametrize("count", [1, 2, 3, 5, 8, 60])
def test_every_selected_scenario_lands_in_exactly_one_shard(count: int) -> None:
    selection = list(SCENARIOS.values())
    shards = split(selection, count)
    assert len(shards) == count
    flat = [sid for shard in shards for sid in shard]
    assert sorted(flat) == sorted(SCENARIOS), "the union of the shards is the selection, each once"
    for k in range(1, count + 1):
        mine = assign(selection, Shard(k, count))
        assert [s.id for s in mine] == [s.id for s in selection if s.id in shards[k - 1]]


def test_the_split_does_not_depend_on_the_selection_order() -> None:
    selection = list(SCENARIOS.values())
    expected = split(selection, 3)
    rng = random.Random(0)
    for _ in range(5):
        shuffled = selection[:]
        rng.shuffle(shuffled)
        assert split(shuffled, 3) == expected


def test_the_split_is_the_same_under_any_pythonhashseed() -> None:
    code = (
        "import json; from harness.gate.plugin import select; from harness.gate.shard import split; "
        "print(json.dumps(split(select(('connectivity', 'webhooks', 'admin-state'), ()), 4)))"
    )
    seen = set()
    for hashseed in ("0", "1", "random"):
        out = subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": hashseed},
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
        seen.add(out)
    assert len(seen) == 1
    assert json.loads(seen.pop()) == split(select(("connectivity", "webhooks", "admin-state"), ()), 4)


def test_the_split_balances_expected_duration_not_counts() -> None:
    long, short = Fake("LONG", fault_s=40.0), [Fake(f"S{k}") for k in range(6)]
    shards = split([long, *short], 2)
    assert shards == [["LONG"], [f"S{k}" for k in range(6)]]
    selection = list(SCENARIOS.values())
    loads = [sum(expected_s(SCENARIOS[sid]) for sid in shard) for shard in split(selection, 4)]
    assert max(loads) - min(loads) <= max(expected_s(s) for s in selection)


def test_ties_go_by_id_so_equal_scenarios_round_robin_in_id_order() -> None:
    same = [Fake(sid) for sid in ("D", "B", "A", "C", "E")]
    assert split(same, 2) == [["A", "C", "E"], ["B", "D"]]


def test_more_shards_than_scenarios_leaves_the_last_ones_empty() -> None:
    shards = split([Fake("A"), Fake("B")], 4)
    assert shards == [["A"], ["B"], [], []]
    assert assign([Fake("A"), Fake("B")], Shard(4, 4)) == []


def test_a_selection_naming_a_scenario_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="once"):
        split([Fake("A"), Fake("A")], 2)


def test_an_empty_shard_runs_nothing_says_so_and_exits_0(tmp_path: Path) -> None:
    report = tmp_path / "shard-2"
    result = CliRunner().invoke(
        main,
        ["gate", "--scenario", "WEBHOOK-DUPLICATE", "--shard", "2/2", "--seed", "7", "--report", str(report)],
    )
    assert result.exit_code == 0, result.output
    assert "shard 2/2: 0 of the 1 selected scenarios" in result.output
    assert "nothing ran here, and it is not a pass by itself" in result.output
    gate = json.loads((report / "gate.json").read_text())
    assert gate["verdict"] == "empty_shard" and gate["scenarios"] == []
    assert gate["shard"]["selection"] == ["WEBHOOK-DUPLICATE"] and gate["shard"]["scenarios"] == []
    assert (report / "allure-results").is_dir() and not list((report / "allure-results").iterdir())
    assert "EMPTY SHARD" in (report / "gate-summary.md").read_text()

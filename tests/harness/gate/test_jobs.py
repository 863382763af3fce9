"""`uat gate --jobs N`: the selection as N shards side by side, each with its own topology, merged into
one report; and Ctrl-C in the middle leaves no process, port or temp dir of any job behind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.gate import GateConfig
from harness.gate.jobs import _PROGRESS, command

from .test_gate import sigint_leaves_nothing, uat

SELECTION = ("MALFORMED-GARBAGE-FRAME", "WEBHOOK-DUPLICATE", "WEBHOOK-REORDER")


def test_each_job_is_one_shard_of_the_same_gate(tmp_path: Path) -> None:
    config = GateConfig(
        target="reference", suites=("webhooks",), scenarios=("X-1",), backend="embedded", strict=True
    )
    args = command(config, 42, 2, 3, tmp_path / "2")
    assert args[1:4] == ["-m", "harness", "gate"]
    joined = " ".join(args[4:])
    assert "--seed 42" in joined and "--shard 2/3" in joined and "--no-html" in joined
    assert "--suite webhooks" in joined and "--scenario X-1" in joined and "--strict" in joined
    assert f"--report {tmp_path / '2'}" in joined and "--backend embedded" in joined


def test_a_jobs_progress_lines_are_read_back() -> None:
    line = "[  13.7s] RITHMIC-ORDER-PLANT-DROP: fault (rithmic down, tt latency 200 ms)"
    match = _PROGRESS.match(line)
    assert match and match["sid"] == "RITHMIC-ORDER-PLANT-DROP" and match["phase"] == "fault"
    assert match["faults"].split(", ") == ["rithmic down", "tt latency 200 ms"]
    bare = _PROGRESS.match("[   0.9s] DB-LINK-DOWN: starting topology")
    assert bare and bare["phase"] == "starting topology" and bare["faults"] is None
    assert _PROGRESS.match("gate PASSED: 3/3 scenarios passed") is None


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--jobs", "0"], "--jobs: 0 is not between 1 and 8"),
        (["--jobs", "9"], "--jobs: 9 is not between 1 and 8"),
        (
            ["--jobs", "2", "--shard", "1/2", "--seed", "3"],
            "--jobs: runs its own shards; it cannot be combined with --shard",
        ),
        (["--jobs", "2", "--scenario", "NO-SUCH-SCENARIO"], "NO-SUCH-SCENARIO"),
    ],
)
def test_bad_jobs_options_exit_2_before_anything_starts(tmp_path: Path, args: list[str], words: str) -> None:
    result = CliRunner().invoke(main, ["gate", *args, "--report", str(tmp_path / "r")])
    assert result.exit_code == 2, result.output
    assert words in result.output
    assert not (tmp_path / "r" / "jobs").exists()


@pytest.mark.slow
@pytest.mark.lanes
def test_two_jobs_run_side_by_side_and_merge_into_one_gate(tmp_path: Path) -> None:
    selection = [arg for sid in SELECTION for arg in ("--scenario", sid)]
    report = tmp_path / "r"
    done = uat("gate", *selection, "--seed", "7", "--jobs", "2", "--no-html", "--report", str(report))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "(2 jobs side by side, merged): 3/3 scenarios passed" in done.stdout
    gate = json.loads((report / "gate.json").read_text())
    assert sorted(r["id"] for r in gate["scenarios"]) == sorted(SELECTION)  # each once
    assert gate["jobs"] == 2 and gate["merged"]["complete"] and gate["seed"] == 7
    shares = [json.loads((report / "jobs" / str(i) / "gate.json").read_text()) for i in (1, 2)]
    ran = [[r["id"] for r in share["scenarios"]] for share in shares]
    assert ran[0] and ran[1] and not set(ran[0]) & set(ran[1])
    results = list((report / "allure-results").glob("*-result.json"))
    assert len(results) == 3


@pytest.mark.slow
@pytest.mark.lanes
def test_ctrl_c_stops_every_job_and_leaves_nothing_behind(tmp_path: Path) -> None:
    def both_in_a_fault(seen: str) -> bool:  # a scenario of each job in its fault phase
        return (
            len({line.split("]", 1)[1].split(":", 1)[0] for line in seen.splitlines() if ": fault" in line})
            >= 2
        )

    def two_jobs(family: dict[int, str]) -> None:
        gates = [p for p in family if b"harness" in Path(f"/proc/{p}/cmdline").read_bytes()]
        assert len(gates) >= 2, "fewer than two jobs were running"

    sigint_leaves_nothing(
        [
            "gate",
            "--suite",
            "connectivity",
            "--seed",
            "2",
            "--jobs",
            "2",
            "--no-html",
            "--report",
            str(tmp_path / "r"),
        ],
        both_in_a_fault,
        check_family=two_jobs,
    )

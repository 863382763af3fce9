"""`uat gate --repeat N`: seeds per run, pass rates, the exit code over the runs, the bound, and Ctrl-C
stopping the loop with flake.json still written. Fast: each run is a stand-in for run_gate that
returns the records a real run would (the real loop is in test_shard_e2e)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.cli.gate import MAX_RUNS_HELP
from harness.gate import GateConfig, GateOutcome, repeat, status

IDS = ("WEBHOOK-DUPLICATE", "WEBHOOK-REORDER")


class FakeGate:
    """run_gate's stand-in: run k gives each scenario the status `script[k][id]` (default passed)."""

    def __init__(self, script: dict[int, dict[str, str]] | None = None, interrupt_at: int = 0) -> None:
        self.script = script or {}
        self.interrupt_at = interrupt_at
        self.configs: list[GateConfig] = []

    def __call__(self, config: GateConfig, progress: Any) -> GateOutcome:
        self.configs.append(config)
        k = len(self.configs)
        if k == self.interrupt_at:
            raise KeyboardInterrupt  # as run_gate does once pytest has torn everything down
        states = self.script.get(k, {})
        records = [
            {
                "id": sid,
                "status": states.get(sid, "passed"),
                "reproduce": f"uat reproduce {sid} --seed {config.seed}",
            }
            for sid in IDS
        ]
        code = status.exit_code(records, len(records), 1 if states else 0)
        assert config.report_dir is not None
        config.report_dir.mkdir(parents=True)
        return GateOutcome(code, config.report_dir, records, config.seed or 0, 1.0)


def _run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fake: FakeGate, n: int, **kw: Any
) -> repeat.RepeatOutcome:
    monkeypatch.setattr(repeat, "run_gate", fake)
    config = GateConfig(scenarios=IDS, seed=kw.pop("seed", 42), report_dir=tmp_path / "flake", html=False)
    return repeat.run_repeated(config, n, lambda *_: None, **kw)


def test_every_run_has_the_same_seed_and_its_own_report_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake = FakeGate()
    outcome = _run(monkeypatch, tmp_path, fake, 3)
    assert [c.seed for c in fake.configs] == [42, 42, 42]
    assert [c.report_dir for c in fake.configs] == [tmp_path / "flake" / f"run-0{k}" for k in (1, 2, 3)]
    assert outcome.exit_code == 0
    flake = json.loads((tmp_path / "flake" / "flake.json").read_text())
    assert flake["completed_runs"] == 3 and flake["seed_per_run"] == [42, 42, 42]
    assert [s["pass_rate"] for s in flake["scenarios"]] == [1.0, 1.0]


def test_seed_step_varies_the_seed_per_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = FakeGate()
    _run(monkeypatch, tmp_path, fake, 3, seed_step=5)
    assert [c.seed for c in fake.configs] == [42, 47, 52]


def test_no_seed_draws_one_for_every_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = FakeGate()
    outcome = _run(monkeypatch, tmp_path, fake, 2, seed=None)
    assert (
        fake.configs[0].seed is not None and fake.configs[0].seed == fake.configs[1].seed == outcome.seeds[0]
    )


def test_a_scenario_that_fails_once_has_its_pass_rate_and_fails_the_loop(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake = FakeGate({2: {"WEBHOOK-REORDER": "failed"}, 4: {"WEBHOOK-REORDER": "inconclusive"}})
    outcome = _run(monkeypatch, tmp_path, fake, 4)
    assert outcome.exit_code == 1
    flake = json.loads((tmp_path / "flake" / "flake.json").read_text())
    by_id = {s["id"]: s for s in flake["scenarios"]}
    assert by_id["WEBHOOK-DUPLICATE"]["pass_rate"] == 1.0
    reorder = by_id["WEBHOOK-REORDER"]
    assert reorder["pass_rate"] == 0.5 and reorder["failed"] == 1 and reorder["inconclusive"] == 1
    assert reorder["failed_runs"] == [2, 4]
    assert reorder["reproduce"] == ["uat reproduce WEBHOOK-REORDER --seed 42"]
    assert [r["exit_code"] for r in flake["runs"]] == [0, 1, 0, 1]


def test_a_harness_error_in_any_run_is_exit_3(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    outcome = _run(
        monkeypatch, tmp_path, FakeGate({1: {"WEBHOOK-REORDER": "failed"}, 2: {IDS[0]: "harness_error"}}), 2
    )
    assert outcome.exit_code == 3


def test_ctrl_c_stops_the_loop_and_keeps_what_completed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake = FakeGate(interrupt_at=3)
    outcome = _run(monkeypatch, tmp_path, fake, 20)
    assert len(fake.configs) == 3, "no run starts after Ctrl-C"
    assert outcome.interrupted and outcome.exit_code == 130
    flake = json.loads((tmp_path / "flake" / "flake.json").read_text())
    assert flake["interrupted"] is True and flake["completed_runs"] == 2 and flake["requested_runs"] == 20
    assert flake["verdict"] == "interrupted"


def test_the_cli_prints_pass_rates_and_exits_as_the_loop(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(repeat, "run_gate", FakeGate({2: {"WEBHOOK-REORDER": "failed"}}))
    result = CliRunner().invoke(
        main,
        ["gate", "--scenario", IDS[0], "--scenario", IDS[1], "--repeat", "3", "--seed", "9",
         "--report", str(tmp_path / "f"), "--no-html"],
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "run 2/3: FAILED, seed 9" in result.output and "did not pass: WEBHOOK-REORDER" in result.output
    assert "pass rate per scenario over 3 runs (seed 9 in every run)" in result.output
    assert "WEBHOOK-REORDER" in result.output and "66.7%" in result.output
    assert "did not pass in run 2" in result.output
    assert "flake FAILED: 1 of 2 scenarios did not pass every run" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--repeat", "0"], "--repeat"),
        (["--repeat", "1001"], "--repeat"),
        (["--seed-step", "3"], "--seed-step: only with --repeat"),
        (["--repeat", "2", "--seed-step", "-1"], "--seed-step"),
    ],
)
def test_bad_repeat_options_exit_2(args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["gate", *args])
    assert result.exit_code == 2 and message in result.output


def test_the_bound_in_the_help_is_the_loops(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert MAX_RUNS_HELP == repeat.MAX_RUNS
    with pytest.raises(ValueError, match="--repeat"):
        _run(monkeypatch, tmp_path, FakeGate(), repeat.MAX_RUNS + 1)

"""`uat load`: bad options and schedules exit 2 naming the problem; a far target is refused;
a short real run exits 0 with its report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.testing import adapter_toml

from .busy_desk import busy_desk

BASE = ["load", "--profile", "steady", "--traders", "5", "--duration", "10"]


def test_a_bad_schedule_is_named_and_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "faults.yaml"
    bad.write_text(
        "faults:\n  - at: 1\n    for: 2\n    venue: rithmic\n    toxic: latency\n"
        "    attributes: {latency: fast}\n"
    )
    result = CliRunner().invoke(main, [*BASE, "--faults", str(bad)])
    assert result.exit_code == 2
    assert "faults[0].attributes.latency: must be a whole number" in result.output


@pytest.mark.parametrize(
    ("args", "message"), [(["--duration", "soon"], "--duration"), (["--traders", "0"], "--traders")]
)
def test_bad_options_exit_2(args: list[str], message: str) -> None:
    result = CliRunner().invoke(
        main, ["load", "--profile", "steady", "--traders", "5", "--duration", "10", *args]
    )
    assert result.exit_code == 2 and message in result.output


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        ("max_position=0", "max_position: must be above 0"),
        ("max_order_qty=two", "max_order_qty: 'two' is not a number"),
        ("size=3", "'size=3': expected key=value with a key of max_order_qty, max_position"),
    ],
)
def test_bad_limits_exit_2_naming_the_key(limits: str, message: str) -> None:
    result = CliRunner().invoke(main, [*BASE, "--limits", limits])
    assert result.exit_code == 2 and message in result.output, result.output


def _plain_target(tmp_path: Path) -> Path:
    """A target file with the required operations only (no set_limits, no route_account)."""
    target = tmp_path / "plain.toml"
    target.write_text(
        'name = "plain"\n[start]\ncommand = ["true"]\n[ready]\nurl = "http://127.0.0.1:9/health"\n'
        + adapter_toml("http://127.0.0.1:9")
    )
    return target


def test_limits_on_a_target_that_cannot_set_them_exit_2(tmp_path: Path) -> None:
    target = _plain_target(tmp_path)
    result = CliRunner().invoke(main, [*BASE, "--target", str(target), "--limits", "max_position=3"])
    assert result.exit_code == 2 and "declares no set_limits operation" in result.output, result.output


def test_cqg_traders_need_a_target_that_routes_to_cqg_and_enough_traders(tmp_path: Path) -> None:
    target = _plain_target(tmp_path)
    cannot = CliRunner().invoke(main, [*BASE, "--target", str(target), "--cqg-traders", "2"])
    assert cannot.exit_code == 2, cannot.output
    assert "--cqg-traders: the target plain declares no route_account operation" in cannot.output
    too_many = CliRunner().invoke(main, [*BASE, "--cqg-traders", "6"])
    assert too_many.exit_code == 2, too_many.output
    assert "--cqg-traders: 6 is more than the profile's 5 traders" in too_many.output


def test_load_against_a_host_off_loopback_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "far.toml"
    target.write_text(
        'name = "far"\n[start]\ncommand = ["true"]\n[ready]\nurl = "http://10.1.2.3:8080/health"\n'
        + adapter_toml("http://10.1.2.3:8080")
    )
    result = CliRunner().invoke(main, [*BASE, "--target", str(target)])
    # refused when the file is read, naming the first URL that is neither loopback nor allowlisted
    assert result.exit_code == 2 and "ready.url: refusing ready.url '10.1.2.3'" in result.output


def test_a_master_bound_off_loopback_is_refused_naming_the_address(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, [*BASE, "--workers", "1", "--master-bind", "10.9.8.7"])
    assert result.exit_code == 2
    assert "refusing Locust master bind address '10.9.8.7'" in result.output
    assert "allowlist: ['127.0.0.1']" in result.output  # the reference target allows loopback only
    for bind in ("0.0.0.0", "example.com"):
        refused = CliRunner().invoke(main, [*BASE, "--remote-workers", "1", "--master-bind", bind])
        assert refused.exit_code == 2 and f"refusing Locust master bind address '{bind}'" in refused.output


def test_the_command_for_other_machines_names_the_master_and_leaves_settings_to_it(tmp_path: Path) -> None:
    from harness.load.processes import LocustPlan, LocustProcesses

    locust = LocustProcesses(LocustPlan("http://10.0.0.5:8080", tmp_path, {}, 1, 2, "10.0.0.4"), port=41234)
    command = locust.remote_instructions().splitlines()[-1]
    argv = command.split()
    assert argv[0] == "locust" and argv[-5:] == [
        "--worker",
        "--master-host",
        "10.0.0.4",
        "--master-port",
        "41234",
    ]
    assert Path(argv[2]).is_absolute() and Path(argv[2]).name == "users.py"
    assert "UAT_" not in command and "--uat-" not in command, "settings travel from the master"
    assert "2 other machine(s)" in locust.remote_instructions()


@pytest.mark.slow
def test_a_short_run_reports_and_passes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A busy desk: at the bundled rates 5 traders place about one order in 12 s, and a run that
    # placed none is rightly no evidence (exit 1), which is what CI once saw.
    monkeypatch.setenv("UAT_FIXTURES", str(busy_desk(tmp_path / "fixtures")))
    report = tmp_path / "report"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness",
            "--log-level",
            "warning",
            *BASE,
            "--duration",
            "12",
            "--backend",
            "embedded",
            "--report",
            str(report),
            "--limits",
            "max_order_qty=1,max_position=2",
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    summary = json.loads((report / "load-summary.json").read_text())
    assert summary["peak_traders"] == 5 and set(summary["invariants"].values()) == {"pass"}
    assert summary["orders"] > 0 and summary["fills"] > 0, summary
    # the limits were set when the traders were onboarded, and the venue's ledger held against them
    assert summary["invariants"]["risk_limits_hold"] == "pass", summary["invariants"]
    assert "account(s) locked at the daily loss limit" in summary["invariant_summaries"]["risk_limits_hold"]
    assert "traders" in proc.stderr and f"report: {report}" in proc.stdout


@pytest.mark.slow
def test_traders_routed_to_cqg_trade_there_and_are_judged_against_its_ledger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UAT_FIXTURES", str(busy_desk(tmp_path / "fixtures")))
    report = tmp_path / "report"
    args = [*BASE, "--traders", "10", "--cqg-traders", "5", "--duration", "20", "--backend", "embedded"]
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "--log-level", "warning", *args, "--report", str(report)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    summary = json.loads((report / "load-summary.json").read_text())
    venues = summary["venues"]
    assert set(venues) == {"rithmic", "cqg"}, venues
    assert all(v["orders"] > 0 and v["fills"] > 0 for v in venues.values()), venues  # both traded
    assert summary["fills"] == sum(v["fills"] for v in venues.values())
    # positions_reconcile passing with fills at CQG: a CQG account held against Rithmic's fills (or
    # its CQG position against Rithmic's) would differ
    assert set(summary["invariants"].values()) == {"pass"}, summary["invariant_summaries"]
    (by_venue,) = [line for line in proc.stdout.splitlines() if "by venue:" in line]
    assert f"cqg {venues['cqg']['orders']} orders, {venues['cqg']['fills']} fills" in by_venue, by_venue


def test_funded_traders_need_a_target_with_a_lifecycle_and_enough_traders(tmp_path: Path) -> None:
    target = _plain_target(tmp_path)
    cannot = CliRunner().invoke(main, [*BASE, "--target", str(target), "--funded-traders", "2"])
    assert cannot.exit_code == 2, cannot.output
    assert "--funded-traders: the target plain declares no [lifecycle] (its Zaps)" in cannot.output
    too_many = CliRunner().invoke(main, [*BASE, "--funded-traders", "6"])
    assert too_many.exit_code == 2, too_many.output
    assert "--funded-traders: 6 is more than the profile's 5 traders" in too_many.output


@pytest.mark.slow
def test_funded_traders_go_through_the_whole_chain_and_their_records_are_held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UAT_FIXTURES", str(busy_desk(tmp_path / "fixtures")))
    report = tmp_path / "report"
    args = [*BASE, "--traders", "8", "--funded-traders", "4", "--duration", "15", "--backend", "embedded"]
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "--log-level", "warning", *args, "--report", str(report)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    summary = json.loads((report / "load-summary.json").read_text())
    funded = summary["funded"]
    assert (
        funded["traders"] == 4 and 0 <= funded["contracts_s"] <= funded["signed_s"] <= funded["provisioned_s"]
    )
    held = {k: v for k, v in summary["invariants"].items() if k.startswith("lifecycle_")}
    assert held == dict.fromkeys(
        ("lifecycle_provisioned_once", "lifecycle_balances", "lifecycle_no_double_deal"), "pass"
    ), summary["invariant_summaries"]
    assert "4 funded trader(s)" in summary["invariant_summaries"]["lifecycle_provisioned_once"]
    assert summary["invariant_summaries"]["lifecycle_balances"].startswith(
        "4 MT5 balance(s), 100000.00 in all"
    )
    assert "funded: 4 traders through the chain" in proc.stdout
    assert set(summary["invariants"].values()) == {"pass"}, summary["invariant_summaries"]


def test_an_unreadable_traders_fixture_exits_2_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UAT_FIXTURES", str(tmp_path / "nowhere"))
    result = CliRunner().invoke(main, BASE)
    assert result.exit_code == 2 and "nowhere/traders.yaml: cannot read" in result.output

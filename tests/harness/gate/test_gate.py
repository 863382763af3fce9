"""`uat gate` and `uat reproduce`: exit codes per the CLI contract, every output of a real run,
reproducing a mutant's failure, and Ctrl-C in the middle of a gate leaving nothing behind."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.faults.plane import choose_backend
from harness.report.html import ReportError, allure_command, embedded_data
from tests.harness.reference_copy import companions

SCENARIO = "RITHMIC-ORDER-PLANT-DROP"


def uat(
    *args: str, env: dict[str, str] | None = None, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )


def has_allure_cli() -> bool:
    try:
        allure_command()
    except ReportError:
        return False
    return True


# -- exit 2: usage and configuration errors, before anything starts


def test_bad_target_file_exits_2_naming_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n[start]\ncommand = "not a list"\n')
    result = CliRunner().invoke(main, ["gate", "--target", str(bad), "--report", str(tmp_path / "r")])
    assert result.exit_code == 2, result.output
    assert "start.command" in result.output
    assert not (tmp_path / "r").exists(), "nothing may run on a bad target file"


def test_an_off_loopback_ready_url_is_refused_before_anything_is_polled(tmp_path: Path) -> None:
    from harness.resources import data

    text = data("targets", "reference.toml").read_text()
    off = tmp_path / "off.toml"
    companions(tmp_path)
    off.write_text(
        text.replace('url = "http://127.0.0.1:{port}/health"', 'url = "http://192.0.2.1:{port}/health"')
    )
    result = CliRunner().invoke(main, ["gate", "--target", str(off), "--report", str(tmp_path / "r")])
    assert result.exit_code == 2, result.output
    assert "ready.url: refusing" in result.output and "192.0.2.1" in result.output
    assert not (tmp_path / "r").exists(), "nothing may start for a refused target"


def test_missing_target_file_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["gate", "--target", str(tmp_path / "nope.toml")])
    assert result.exit_code == 2
    assert "no such file" in result.output


def test_unknown_suite_exits_2() -> None:
    result = CliRunner().invoke(main, ["gate", "--suite", "no-such-suite"])
    assert result.exit_code == 2
    assert "--suite: unknown suite 'no-such-suite'" in result.output


def test_unknown_scenario_exits_2_for_gate_and_reproduce() -> None:
    result = CliRunner().invoke(main, ["gate", "--scenario", "NO-SUCH-SCENARIO"])
    assert result.exit_code == 2
    assert "unknown scenario id 'NO-SUCH-SCENARIO'" in result.output
    result = CliRunner().invoke(main, ["reproduce", "NO-SUCH-SCENARIO", "--seed", "1"])
    assert result.exit_code == 2
    assert "unknown scenario id" in result.output


def test_reproduce_needs_a_seed() -> None:
    result = CliRunner().invoke(main, ["reproduce", SCENARIO])
    assert result.exit_code == 2
    assert "--seed" in result.output


def test_list_names_every_suite() -> None:
    from scenarios import SCENARIOS, SUITES

    result = CliRunner().invoke(main, ["gate", "--list"])
    assert result.exit_code == 0
    for suite in SUITES:
        assert suite in result.output
    for sid in SCENARIOS:
        assert sid in result.output


# -- exit 3: the harness could not run; never a verdict on the middleware


def test_fault_plane_that_cannot_start_exits_3_not_1(tmp_path: Path) -> None:
    env = {"PATH": os.path.dirname(sys.executable) + ":/usr/bin:/bin", "TOXIPROXY_SERVER": ""}
    env["TOXIPROXY_SERVER"] = str(tmp_path / "no-such-toxiproxy-server")
    done = uat(
        "gate", "--scenario", SCENARIO, "--backend", "binary", "--seed", "1", "--no-html",
        "--report", str(tmp_path / "r"), env=env,
    )  # fmt: skip
    assert done.returncode == 3, done.stdout + done.stderr
    assert "harness error, not a verdict on the middleware" in done.stdout
    gate = json.loads((tmp_path / "r" / "gate.json").read_text())
    assert gate["verdict"] == "harness_error"
    assert gate["scenarios"][0]["status"] == "harness_error"
    assert "failing_checks" not in gate["scenarios"][0]
    # JUnit and Allure call it an error (broken), not a failure of the middleware
    suite = ET.parse(tmp_path / "r" / "junit.xml").getroot().find("testsuite")
    assert suite is not None and (suite.get("failures"), suite.get("errors")) == ("0", "1")
    results = [json.loads(p.read_text()) for p in (tmp_path / "r" / "allure-results").glob("*-result.json")]
    assert [r["status"] for r in results] == ["broken"]


# -- not applicable: skipped with its reason before anything starts; --strict fails on it


def _target_without_tt(tmp_path: Path) -> Path:
    """The reference target, declared wired to Rithmic and Stripe only."""
    from harness import resources

    text = resources.data(resources.TARGETS, "reference.toml").read_text()
    sql = resources.data(resources.TARGETS, "reference.sql")
    text = text.replace('name = "reference"', 'name = "no-tt"\nvenues = ["rithmic", "stripe"]', 1)
    text = text.replace('sql = "reference.sql"', f"sql = {json.dumps(str(sql))}", 1)
    zaps = resources.data(resources.TARGETS, "reference-zaps.toml")
    text = text.replace('zaps = "reference-zaps.toml"', f"zaps = {json.dumps(str(zaps))}", 1)
    path = tmp_path / "no-tt.toml"
    path.write_text(text)
    return path


def test_a_scenario_the_target_cannot_run_is_skipped_and_strict_fails_the_gate(tmp_path: Path) -> None:
    target = str(_target_without_tt(tmp_path))
    done = uat("gate", "--target", target, "--scenario", "TT-429-STORM", "--seed", "1", "--no-html",
               "--report", str(tmp_path / "r"))  # fmt: skip
    # skipped, never passed; and a gate in which nothing applied has judged nothing, so it fails
    assert done.returncode == 1, done.stdout + done.stderr
    assert "TT-429-STORM: skipped (not applicable to this target: the target is not wired to venue `tt`)" in (
        done.stdout
    )
    assert "no selected scenario applies to this target: the gate judged nothing" in done.stdout
    (record,) = json.loads((tmp_path / "r" / "gate.json").read_text())["scenarios"]
    assert record["status"] == "skipped" and "not wired to venue `tt`" in record["reason"]
    case = ET.parse(tmp_path / "r" / "junit.xml").getroot().find(".//testcase")
    assert case is not None and case.find("skipped") is not None
    results = [json.loads(p.read_text()) for p in (tmp_path / "r" / "allure-results").glob("*-result.json")]
    assert [r["status"] for r in results] == ["skipped"]
    assert "not wired to venue `tt`" in results[0]["statusDetails"]["message"]

    strict = uat("gate", "--target", target, "--scenario", "TT-429-STORM", "--seed", "1", "--no-html",
                 "--strict", "--report", str(tmp_path / "s"))  # fmt: skip
    assert strict.returncode == 1, strict.stdout + strict.stderr
    assert "strict: TT-429-STORM: skipped (not applicable" in strict.stdout
    assert "gate FAILED (strict): 0/1 scenarios passed (1 skipped)" in strict.stdout
    gate = json.loads((tmp_path / "s" / "gate.json").read_text())
    assert gate["verdict"] == "failed" and gate["strict"] is True and gate["strict_violations"]


def test_a_target_lock_statement_the_database_refuses_exits_2_naming_the_field(tmp_path: Path) -> None:
    """The target file's own SQL is wrong (a table it does not have): a configuration error (exit 2)
    naming the field, not a verdict on the middleware and not a harness error."""
    path = _target_without_tt(tmp_path)
    text = path.read_text().replace("FROM accounts WHERE id = ANY", "FROM acounts WHERE id = ANY", 1)
    path.write_text(text)
    done = uat("gate", "--target", str(path), "--scenario", "DB-ROW-LOCK-ACCOUNTS", "--seed", "1",
               "--no-html", "--report", str(tmp_path / "r"))  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert "database.locks.accounts" in done.stdout + done.stderr
    assert 'relation "acounts" does not exist' in done.stdout + done.stderr
    (record,) = json.loads((tmp_path / "r" / "gate.json").read_text())["scenarios"]
    assert record["status"] == "config_error" and "database.locks.accounts" in record["error"]
    case = ET.parse(tmp_path / "r" / "junit.xml").getroot().find(".//testcase/error")
    assert case is not None and case.get("type") == "target file error"


# -- real runs against the reference middleware


def _auto_backend() -> str:
    """What a reproduce command adds for the backend `auto` chose here: the same toxic code on replay
    (binary or embedded; an auto-chosen docker plane is left to auto)."""
    name = choose_backend()[0].name
    return f" --backend {name}" if name in ("binary", "embedded") else ""


@pytest.mark.slow
def test_gate_run_writes_every_output(tmp_path: Path) -> None:
    report = tmp_path / "report"
    done = uat("gate", "--scenario", SCENARIO, "--seed", "11", "--report", str(report))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{SCENARIO}: passed" in done.stdout
    assert "gate PASSED: 1/1" in done.stdout

    gate = json.loads((report / "gate.json").read_text())
    assert gate["verdict"] == "passed" and gate["exit_code"] == 0 and gate["seed"] == 11
    (record,) = gate["scenarios"]
    assert record["id"] == SCENARIO and record["status"] == "passed" and record["seed"] == 11
    assert record["duration_s"] > 0 and set(record["phases"]) >= {"setup", "steady", "fault", "recovery"}
    assert record["reproduce"] == f"uat reproduce {SCENARIO} --seed 11{_auto_backend()}"
    assert "| RITHMIC-ORDER-PLANT-DROP | connectivity | pass |" in (report / "gate-summary.md").read_text()

    junit = ET.parse(report / "junit.xml").getroot()
    cases = junit.findall(".//testcase")
    assert len(cases) == 1 and cases[0].find("failure") is None

    results = report / "allure-results"
    for name in ("categories.json", "environment.properties", "executor.json"):
        assert (results / name).is_file(), name
    names = [c["name"] for c in json.loads((results / "categories.json").read_text())]
    for wanted in ("Data loss", "Duplicate order", "Recovery SLO breach", "Protocol handling",
                   "Webhook handling", "Harness error (not the middleware)"):  # fmt: skip
        assert wanted in names
    env = (results / "environment.properties").read_text()
    for key in ("target=reference", "seed=11", "fault_plane_backend=", "git_commit=", "version.python="):
        assert key in env
    (result,) = [json.loads(p.read_text()) for p in results.glob("*-result.json")]
    labels = {(label["name"], label["value"]) for label in result["labels"]}
    assert {("epic", "rithmic"), ("feature", "connectivity"), ("severity", "blocker")} <= labels
    assert any(link["url"].endswith("#rithmic-order-plant-drop") for link in result["links"])
    steps = [step["name"] for step in result["steps"]]
    for phase in ("setup", "steady", "fault", "recovery", "verdict"):
        assert phase in steps
    attachments = {a["name"]: a for a in result["attachments"]}
    for name in ("reproduce command", "fault timeline", "faults vs latency and errors",
                 "middleware log tail (redacted)", "full history (jsonl)"):  # fmt: skip
        assert name in attachments, name
    assert attachments["faults vs latency and errors"]["type"] == "image/svg+xml"
    svg = results / attachments["faults vs latency and errors"]["source"]
    assert ET.parse(svg).getroot().tag == "{http://www.w3.org/2000/svg}svg"
    timeline = json.loads((results / attachments["fault timeline"]["source"]).read_text())
    assert [w["name"] for w in timeline] == ["rithmic down"]

    if not has_allure_cli():
        pytest.skip("the Allure 3 CLI is not installed (npm ci); the HTML was not checked")
    html = report / "html" / "index.html"
    assert f"html report: {html}" in done.stdout
    assert sorted(p.name for p in html.parent.iterdir()) == ["index.html"], "not a single file"
    text = html.read_text()
    assert "googletagmanager" not in text and "gtag(" not in text
    assert 'src="http' not in text and 'href="http' not in text.replace('href="http://www.w3.org', "")


@pytest.mark.slow
def test_reproduce_of_a_mutant_failure_fails_the_same_check(tmp_path: Path) -> None:
    mutant = {"REFMW_MUTANTS": "admin_coupled"}
    done = uat("gate", "--scenario", SCENARIO, "--seed", "5", "--no-html", "--report", str(tmp_path / "g"),
               env=mutant)  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    gate = json.loads((tmp_path / "g" / "gate.json").read_text())
    (record,) = gate["scenarios"]
    assert record["status"] == "failed"
    failed = {c["check"] for c in record["failing_checks"]}
    assert "admin_separation" in failed
    # the failure's cause, from what was sampled while the fault was active: the venue outage
    diagnosis = next(c["diagnosis"] for c in record["failing_checks"] if c["check"] == "admin_separation")
    assert diagnosis["cause"] == "venue" and "rithmic down" in diagnosis["summary"], diagnosis
    assert f"diagnosis: {diagnosis['summary']}" in done.stdout
    assert f"diagnosis: **{diagnosis['summary']}**" in (tmp_path / "g" / "gate-summary.md").read_text()
    command = record["reproduce"]
    assert command == f"REFMW_MUTANTS=admin_coupled uat reproduce {SCENARIO} --seed 5{_auto_backend()}"
    assert f"reproduce: {command}" in done.stdout

    words = shlex.split(command)
    env = dict(w.split("=", 1) for w in words if "=" in w and not w.startswith("-"))
    args = [w for w in words if "=" not in w][1:]  # drop "uat"
    again = uat(*args, "--report", str(tmp_path / "r"), "--html", env=env)
    assert again.returncode == 1, again.stdout + again.stderr
    redo = json.loads((tmp_path / "r" / "gate.json").read_text())["scenarios"][0]
    assert {c["check"] for c in redo["failing_checks"]} == failed
    assert redo["seed"] == 5
    assert f"{SCENARIO}: failed (" in again.stdout and "admin_separation" in again.stdout
    try:
        allure_command()
    except ReportError:
        return  # no Allure CLI here (`npm ci`): the report is not built, the rest is judged above
    shown = embedded_data((tmp_path / "r" / "html" / "index.html").read_text())  # what the report shows
    results = [text for name, text in shown.items() if name.startswith("data/test-results/")]
    assert any("diagnosis: venue" in text for text in results), sorted(shown)


# -- Ctrl-C in the middle of a gate


def _descendants(pid: int) -> dict[int, str]:
    """pid -> start time of every live descendant of pid."""
    children: dict[int, list[int]] = {}
    starts: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        children.setdefault(int(fields[1]), []).append(int(entry.name))
        starts[int(entry.name)] = fields[19]
    found: dict[int, str] = {}
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found[child] = starts[child]
            todo.append(child)
    return found


def _listening_sockets(pids: list[int] | None = None) -> dict[str, int]:
    """Listening TCP sockets (inode -> port): those `pids` hold open, or every one on the machine. A
    socket is known by its inode, not its port: once the gate has freed a port, another test's
    process may listen on the same number, and that is not a leak."""
    inodes: set[str] = set()
    for pid in pids or []:
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                link = os.readlink(fd)
                if link.startswith("socket:["):
                    inodes.add(link[8:-1])
        except OSError:
            continue
    found: dict[str, int] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            cols = line.split()
            if cols[3] == "0A" and (pids is None or cols[9] in inodes):
                found[cols[9]] = int(cols[1].rsplit(":", 1)[1], 16)
    return found


def _alive(pid: int, start: str) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    fields = stat.rsplit(")", 1)[1].split()
    return fields[19] == start and fields[0] != "Z"


def sigint_leaves_nothing(
    args: list[str],
    ready: Callable[[str], bool],
    *,
    check_family: Callable[[dict[int, str]], None] | None = None,
) -> None:
    """Runs `uat ARGS`, sends SIGINT once `ready(stderr so far)`, and checks it exits 130 leaving no
    process, listening port or temp dir of its own behind."""
    # Postgres runs as an unprivileged user when we are root: its temp dir must be reachable.
    tmp = Path(tempfile.mkdtemp(prefix="uat-sigint-test-", dir="/tmp"))
    tmp.chmod(0o1777)
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(tmp)},
    )
    try:
        assert proc.stderr is not None
        deadline = time.monotonic() + 150
        seen = ""
        while not ready(seen):
            line = proc.stderr.readline()
            assert line or proc.poll() is None, f"the gate ended early: {seen}"
            seen += line
            assert time.monotonic() < deadline, seen
        family = _descendants(proc.pid)
        sockets = _listening_sockets([proc.pid, *family])
        assert family, "the gate started no process (middleware, Postgres)"
        assert sockets, "the gate listened on no port"
        assert any(tmp.iterdir()), "the run made no temp dir"
        if check_family is not None:
            check_family(family)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=150)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert "interrupted" in err
    deadline = time.monotonic() + 10  # the kernel reaps orphans of a process group asynchronously
    while time.monotonic() < deadline and any(_alive(p, s) for p, s in family.items()):
        time.sleep(0.2)
    assert not [p for p, s in family.items() if _alive(p, s)], "a process outlived the gate"
    left_open = {inode: port for inode, port in _listening_sockets().items() if inode in sockets}
    assert not left_open, f"a listening socket outlived the gate (inode: port): {left_open}"
    left = list(tmp.iterdir())
    assert left == [], "a temp dir outlived the gate"
    tmp.rmdir()


@pytest.mark.slow
def test_sigint_mid_gate_leaves_no_process_port_or_temp_dir(tmp_path: Path) -> None:
    sigint_leaves_nothing(
        ["gate", "--scenario", SCENARIO, "--seed", "2", "--report", str(tmp_path / "r")],
        lambda seen: f"{SCENARIO}: fault" in seen,
    )


def test_middleware_that_never_gets_ready_fails_the_gate_with_exit_1(tmp_path: Path) -> None:
    """The harness came up fine and the middleware did not: that is the middleware's failure."""
    from harness.resources import data

    target = tmp_path / "sleepy.toml"
    companions(tmp_path)
    reference = data("targets", "reference.toml").read_text()
    target.write_text(  # the reference's wiring and API, a process that never answers, a short wait
        reference.replace('command = ["{python}", "-m", "reference_middleware"]',
                          'command = ["{python}", "-c", "import time; time.sleep(30)"]')
        .replace("timeout_s = 60", "timeout_s = 2")
    )  # fmt: skip
    done = uat("gate", "--target", str(target), "--scenario", SCENARIO, "--seed", "1", "--no-html",
               "--report", str(tmp_path / "r"))  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    (record,) = json.loads((tmp_path / "r" / "gate.json").read_text())["scenarios"]
    assert record["status"] == "failed"
    assert [c["check"] for c in record["failing_checks"]] == ["target_ready"]
    assert "did not answer" in record["failing_checks"][0]["summary"]
    assert record["reproduce"] == f"uat reproduce {SCENARIO} --seed 1 --target {target}"

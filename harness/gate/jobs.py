"""`uat gate --jobs N`: the selection split into N shards (harness.gate.shard) that run side by side
on this machine, each a `uat gate --shard i/N` with a topology of its own (its own Postgres, fault
plane, mocks, middleware and ports), then merged into one report (harness.gate.merge), as if one gate
had run. A scenario mostly waits on its phases, so two jobs on two cores take about half the time.

The jobs report their progress on their output, which is read back into the caller's display. A
job that exits 2 makes the gate exit 2 with its message; one that leaves no gate.json is a harness
failure (3), shown with its last lines. Ctrl-C (or SIGTERM) is passed to every job, which tears its
topology down; anything still running after the grace is killed with its process group."""

from __future__ import annotations

import collections
import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness.exitcodes import EXIT_INFRA, EXIT_USAGE, Interrupted

from . import merge, outputs
from .reporting import ProgressHook
from .run import GateConfig, GateUsageError, default_report_dir, plan
from .seeds import draw_seed

MAX_JOBS = 8
JOBS_DIR = "jobs"  # REPORT/jobs/<i>/: each job's own report, merged into REPORT
STOP_GRACE_S = 60.0  # a job's teardown after Ctrl-C: Postgres, mocks, middleware
TAIL_LINES = 40
# A job's progress line (harness.cli.display, when not on a terminal): "[  13.7s] ID: phase (faults)".
_PROGRESS = re.compile(
    r"^\[\s*[\d.]+s\] (?P<sid>[A-Z0-9][A-Z0-9-]*): (?P<phase>.*?)(?: \((?P<faults>.*)\))?$"
)


class JobFailed(RuntimeError):
    """A job ended without a report to merge: exit 2 (its usage error) or 3 (the harness's)."""

    def __init__(self, exit_code: int, message: str) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class Job:
    index: int
    count: int
    report: Path
    proc: subprocess.Popen[str]
    tail: collections.deque[str] = field(default_factory=lambda: collections.deque(maxlen=TAIL_LINES))
    reader: threading.Thread | None = None

    @property
    def name(self) -> str:
        return f"job {self.index}/{self.count}"


@dataclass
class JobsOutcome:
    exit_code: int
    report_dir: Path
    merged: merge.Merged
    seed: int
    wall_time_s: float
    html: Path | None = None
    html_error: str = ""


def command(config: GateConfig, seed: int, index: int, count: int, report: Path) -> list[str]:
    """The `uat gate` one job runs: this gate's selection and options, one shard, no HTML."""
    args = [sys.executable, "-m", "harness", "gate", "--target", config.target, "--seed", str(seed)]
    args += ["--backend", config.backend, "--report", str(report), "--no-html", "--shard", f"{index}/{count}"]
    for suite in config.suites:
        args += ["--suite", suite]
    for scenario in config.scenarios:
        args += ["--scenario", scenario]
    if config.strict:
        args.append("--strict")
    return args


def run_jobs(config: GateConfig, jobs: int, progress: ProgressHook) -> JobsOutcome:
    """Runs the gate as `jobs` shards side by side and merges them into config.report_dir."""
    if not 1 <= jobs <= MAX_JOBS:
        raise GateUsageError(f"--jobs: {jobs} is not between 1 and {MAX_JOBS}")
    plan(config)  # the target file and the selection, checked once here (exit 2) before any job starts
    seed = config.seed if config.seed is not None else draw_seed()
    report = config.report_dir or default_report_dir()
    began = time.monotonic()
    running = [
        _start(config, seed, i, jobs, report / JOBS_DIR / str(i), progress) for i in range(1, jobs + 1)
    ]
    try:
        _wait(running)
    except KeyboardInterrupt:
        _stop(running)
        raise Interrupted from None
    reports = [_report_of(job) for job in running]
    merged = merge.merge(reports)
    merged.meta["jobs"] = jobs
    merged.meta["wall_time_s"] = round(time.monotonic() - began, 2)
    results = merge.write(merged, reports, report)
    outcome = JobsOutcome(merged.exit_code, report, merged, seed, time.monotonic() - began)
    if config.html:
        outcome.html, outcome.html_error = outputs.build_report_html(results, report)
    return outcome


def _start(
    config: GateConfig, seed: int, index: int, count: int, report: Path, progress: ProgressHook
) -> Job:
    report.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        command(config, seed, index, count, report),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        start_new_session=True,  # a terminal's Ctrl-C reaches the jobs through _stop, once
    )
    job = Job(index, count, report, proc)
    job.reader = threading.Thread(target=_follow, args=(job, progress), name=f"job-{index}", daemon=True)
    job.reader.start()
    return job


def _follow(job: Job, progress: ProgressHook) -> None:
    """A job's output: progress lines to the display, the rest kept for an error message."""
    assert job.proc.stdout is not None
    for raw in job.proc.stdout:
        line = raw.rstrip("\n")
        job.tail.append(line)
        match = _PROGRESS.match(line)
        if match:
            faults = tuple(match["faults"].split(", ")) if match["faults"] else ()
            progress(match["sid"], match["phase"], faults)


def _wait(running: list[Job], poll_s: float = 0.2) -> None:
    while any(job.proc.poll() is None for job in running):
        time.sleep(poll_s)
    for job in running:
        if job.reader is not None:
            job.reader.join(timeout=5)


def _stop(running: list[Job], grace_s: float = STOP_GRACE_S) -> None:
    """Ctrl-C to every job still running (each tears its topology down), then a kill after the grace."""
    for job in running:
        if job.proc.poll() is None:
            job.proc.send_signal(signal.SIGINT)
    deadline = time.monotonic() + grace_s
    for job in running:
        try:
            job.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _kill_group(job.proc.pid)
            job.proc.wait(timeout=10)


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _report_of(job: Job) -> merge.ShardReport:
    code = job.proc.returncode
    if code == EXIT_USAGE:
        raise JobFailed(EXIT_USAGE, f"{job.name} refused its arguments:\n" + "\n".join(job.tail))
    try:
        return merge.load(job.report)
    except merge.MergeRefused as exc:
        raise JobFailed(
            EXIT_INFRA,
            f"{job.name} exited {code} without a report ({exc}); its last lines:\n" + "\n".join(job.tail),
        ) from None

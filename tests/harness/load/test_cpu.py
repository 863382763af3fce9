"""Per-process CPU: a busy process reads busy, an idle one idle, and a group never counts the
processes that are groups of their own."""

from __future__ import annotations

import csv
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.load.cpu import CpuSampler


def _started(code: str) -> subprocess.Popen[bytes]:
    """A child that has finished starting up: the interpreter's own start costs tens of
    milliseconds of CPU, which an idle child would otherwise show in its first interval."""
    proc = subprocess.Popen([sys.executable, "-c", f"print(flush=True)\n{code}"], stdout=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdout.readline() == b"\n"
    return proc


def test_busy_and_idle_processes_and_exclusive_groups() -> None:
    busy = _started("while True: pass")
    idle = _started("import time; time.sleep(30)")
    try:
        sampler = CpuSampler({"busy": busy.pid, "idle": idle.pid, "us": __import__("os").getpid()})
        assert sampler.sample() == {}  # the first sample only sets the baseline
        for _ in range(3):
            time.sleep(0.4)
            sampler.sample()
        summary = sampler.summary()
        assert summary["busy"]["mean"] > 25, summary  # one spinning core, on a box that may be loaded
        assert summary["idle"]["max"] < 10, summary
        # the busy child is its own group: our figure must not include it
        assert summary["us"]["mean"] < summary["busy"]["mean"], summary
    finally:
        for proc in (busy, idle):
            proc.kill()
            proc.wait()
            assert proc.stdout is not None
            proc.stdout.close()


def test_a_group_whose_process_ended_reads_zero_not_negative() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "sum(range(10**6))"])
    sampler = CpuSampler({"gone": proc.pid})
    sampler.sample()
    proc.wait()
    time.sleep(0.05)
    assert sampler.sample()["gone"] >= 0


def test_every_sample_goes_to_cpu_csv_with_its_time_since_the_run_started(tmp_path: Path) -> None:
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        sampler = CpuSampler({"busy": busy.pid, "us": __import__("os").getpid()})
        origin = time.time()
        for _ in range(4):
            sampler.sample()
            time.sleep(0.3)
    finally:
        busy.kill()
        busy.wait()
    path = sampler.write_csv(tmp_path / "cpu.csv", origin=origin)
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["group"] for r in rows] == ["busy", "us"] * 3  # the first sample is only the baseline
    times = [float(r["time_s"]) for r in rows]
    assert times == sorted(times) and 0.2 < times[0] < 1.0 and times[-1] < 2.5
    busy_pct = [float(r["percent"]) for r in rows if r["group"] == "busy"]
    assert sum(busy_pct) / len(busy_pct) > 25, rows
    means = sampler.summary()
    assert round(sum(busy_pct) / 3, 1) == pytest.approx(means["busy"]["mean"], abs=0.2)

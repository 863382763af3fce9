"""`make demo` runs harness.faults.demo: every fault it shows must be observed, not assumed."""

from __future__ import annotations

import subprocess
import sys


def test_demo_observes_every_fault_it_shows() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "harness.faults.demo"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"COLUMNS": "200", "PATH": "/nonexistent"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "FAIL" not in proc.stdout
    for fault in ("no toxic", "latency 250±50 ms", "proxy down", "timeout 300 ms", "reset_peer"):
        assert fault in proc.stdout
    assert proc.stdout.count(" ok ") == 5

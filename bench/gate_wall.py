"""Where the gate's wall time goes: each scenario's overhead (set-up, steady state, recovery and the
verdict) against its fault time, and what `--jobs N` buys, measured against one job in the same run.

    .venv/bin/python bench/gate_wall.py [--suite S]... [--scenario ID]... [--jobs 2] [--seed 7]
    .venv/bin/python bench/gate_wall.py --from REPORT_DIR [--from REPORT_DIR]   # no new runs

Runs `uat gate` on the selection once with one job (the baseline) and once with N, both with
--no-html, then prints a row per scenario and the totals: the wall time of each run, the ratio, and
what 100 scenarios would take at each rate. Prints figures; never passes or fails.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TARGET_SCENARIOS = 100  # the figure: 100 scenarios in under 10 minutes


def run_gate(args: list[str], report: Path) -> tuple[float, dict[str, Any]]:
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "harness", "gate", *args, "--no-html", "--report", str(report)],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.monotonic() - began
    gate_json = report / "gate.json"
    if not gate_json.exists():
        tail = done.stdout[-2000:] + done.stderr[-2000:]
        sys.exit(f"the gate left no gate.json (exit {done.returncode}):\n{tail}")
    return wall, json.loads(gate_json.read_text())


def per_scenario(gate: dict[str, Any]) -> list[tuple[str, str, float, float]]:
    """(id, status, duration, fault phase) per scenario."""
    rows = []
    for record in gate["scenarios"]:
        phases = record.get("phases") or {}
        rows.append(
            (
                record["id"],
                record["status"],
                float(record.get("duration_s", 0.0)),
                float(phases.get("fault", 0.0)),
            )
        )
    return rows


def show(label: str, wall: float, gate: dict[str, Any]) -> None:
    rows = per_scenario(gate)
    print(f"\n{label}: {len(rows)} scenarios in {wall:.0f} s of wall time ({gate.get('verdict')})")
    print(f"  {'scenario':44} {'status':8} {'total':>7} {'fault':>7} {'overhead':>9} {'ratio':>6}")
    for sid, status, total, fault in rows:
        overhead = total - fault
        ratio = f"{overhead / fault:5.1f}x" if fault else "    -"
        print(f"  {sid:44} {status:8} {total:6.1f}s {fault:6.1f}s {overhead:8.1f}s {ratio:>6}")
    total = sum(r[2] for r in rows)
    fault = sum(r[3] for r in rows)
    rest = wall - total / max(1, gate.get("jobs", 1))
    print(
        f"  sum: {total:.0f} s in scenarios, {fault:.0f} s of it under fault, {total - fault:.0f} s overhead "
        f"({(total - fault) / max(total, 1e-9):.0%}); start-up, teardown and report: about {rest:.0f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--suite", action="append", default=[])
    parser.add_argument("--scenario", action="append", default=[])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--target", default="reference")
    parser.add_argument("--from", dest="reports", action="append", default=[], type=Path)
    opts = parser.parse_args()
    if opts.reports:
        for report in opts.reports:
            gate = json.loads((report / "gate.json").read_text())
            show(str(report), float(gate.get("wall_time_s", 0.0)), gate)
        return
    selection = [a for s in opts.suite for a in ("--suite", s)] + [
        a for s in opts.scenario for a in ("--scenario", s)
    ]
    common = [*selection, "--target", opts.target, "--seed", str(opts.seed)]
    with tempfile.TemporaryDirectory(prefix="uat-gate-wall-") as tmp:
        base_wall, base = run_gate(common, Path(tmp) / "one")
        show("baseline, one job", base_wall, base)
        wall, jobs = run_gate([*common, "--jobs", str(opts.jobs)], Path(tmp) / "jobs")
        show(f"{opts.jobs} jobs", wall, jobs)
    n = len(base["scenarios"])
    ratio = wall / base_wall
    print(f"\n{opts.jobs} jobs / one job: {ratio:.2f} of the wall time ({1 / ratio:.2f}x faster)")
    for label, seconds in (("one job", base_wall), (f"{opts.jobs} jobs", wall)):
        projected = seconds / n * TARGET_SCENARIOS
        print(f"  at this rate, {TARGET_SCENARIOS} scenarios with {label}: {projected / 60:.1f} min")


if __name__ == "__main__":
    main()

"""How many traders this machine holds with everything local: `uat load` at growing trader
counts in one profile, with a Rithmic order-plant drop in the middle of each run.

    python bench/load_capacity.py [--traders 500,1000,2000,5000] [--duration 180] [--workers 0]
                                  [--faults venue|admin-state|crash] [--funded]

For each count it prints requests/s, ack and fill p99 before, during and after the drop, the
invariants, failures outside the fault, the CPU of every process (percent of one core) and
whether Locust warned about its own CPU. `--faults admin-state` breaks the middleware's own state
instead: its database link down for 10 s at a third of the run, and a graceful restart (SIGTERM,
drain, start) at two thirds; the invariants then include acked_orders_durable, db_bounded_answers
and drained_on_shutdown. `--faults crash` moves the market instead: every Rithmic symbol falls 3% over
10 s at a third of the run, with risk limits on every account (`--limits`, default below), so traders
holding longs reach their daily loss limit; risk_limits_hold then reports the violations (there must
be none) and the accounts it locked. The ratios compare each run's cost per trader with the
smallest run's, measured in the same invocation. `--funded` onboards every trader as a funded
trader through the whole lifecycle chain first (`uat load --funded-traders N`) and prints the chain's
stages. Reports land in reports/capacity-<N>/. The first lines say what ran and how fast this
machine's CPU was that day (a fixed Python loop): figures from different days compare only by it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _common import cpu_yardstick

CPU_WARNING = "CPU usage above 90%"
CRASH_LIMITS = "max_order_qty=3,max_position=6,daily_loss_limit=1500"


def _schedule(path: Path, duration_s: float, kind: str) -> str:
    """Write the run's fault schedule; a line saying what it does."""
    if kind == "admin-state":
        outage, restart = round(duration_s / 3), round(2 * duration_s / 3)
        path.write_text(
            f"seed: 7\nfaults:\n  - {{at: {outage}s, for: 10s, venue: postgres, down: true}}\n"
            f"  - {{at: {restart}s, deploy: graceful}}\n"
        )
        return f"Postgres link down 10 s at {outage} s, graceful restart at {restart} s"
    if kind == "crash":
        at = round(duration_s / 3)
        path.write_text(
            f"seed: 7\nfaults:\n  - {{at: {at}s, for: {round(duration_s)}s, venue: rithmic, protocol: crash, "
            "params: {pct: 3.0, over_s: 10.0}}\n"
        )
        return f"every Rithmic symbol down 3% over 10 s from {at} s, limits {CRASH_LIMITS}"
    at = round(duration_s / 2)
    path.write_text(f"seed: 7\nfaults:\n  - {{at: {at}s, for: 10s, venue: rithmic, down: true}}\n")
    return f"Rithmic down 10 s at {at} s"


def _run(traders: int, args: argparse.Namespace, faults: Path) -> dict[str, Any]:
    report = Path("reports") / f"capacity-{traders}{'-w' + str(args.workers) if args.workers else ''}"
    cmd = [sys.executable, "-m", "harness", "load", "--profile", args.profile, "--traders", str(traders),
           "--duration", f"{args.duration}s", "--faults", str(faults), "--seed", "7", "--backend", "embedded",
           "--report", str(report), "--workers", str(args.workers)]  # fmt: skip
    if args.faults == "crash":
        cmd += ["--limits", args.limits]
    if args.funded:  # every trader onboarded through the whole lifecycle chain before the open
        cmd += ["--funded-traders", str(traders)]
    began = time.monotonic()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.monotonic() - began
    summary_path = report / "load-summary.json"
    if not summary_path.exists():
        return {"traders": traders, "error": (done.stderr or done.stdout)[-1500:], "exit": done.returncode}
    summary: dict[str, Any] = json.loads(summary_path.read_text())
    logs = "".join(p.read_text(errors="replace") for p in report.glob("locust*.log"))
    summary.update(traders=traders, exit=done.returncode, wall_s=round(wall), cpu_warned=CPU_WARNING in logs)
    return summary


def _row(s: dict[str, Any], base: dict[str, Any] | None) -> str:
    if "error" in s:
        return f"{s['traders']:>6}  failed to run (exit {s['exit']}): {s['error'][-300:]}"
    ph = s["phases"]
    cpu = s["cpu_percent"]
    mw = cpu.get("middleware", {}).get("mean", 0.0)
    ratio = ""
    if base is not None and "error" not in base and base["cpu_percent"].get("middleware", {}).get("mean"):
        per_trader = mw / s["peak_traders"]
        base_per = base["cpu_percent"]["middleware"]["mean"] / base["peak_traders"]
        ratio = f"  mw CPU/trader x{per_trader / base_per:.2f} of {base['traders']}"
    verdict = "pass" if all(v == "pass" for v in s["invariants"].values()) else "FAIL"
    lines = [
        f"{s['traders']:>6}  peak {s['peak_traders']:>5}  exit {s['exit']}  invariants {verdict}  "
        f"outside-fault failures {s['failures_outside_faults']}  orders {s['orders']}  fills {s['fills']}  "
        f"locust CPU warning: {'yes' if s['cpu_warned'] else 'no'}{ratio}",
        "        "
        + "  ".join(
            f"{p}: rps {ph[p]['rps']} ack p99 {ph[p]['order_ack_ms']['p99']} fill p99 "
            f"{ph[p]['order_to_fill_ms']['p99']} ms"
            for p in ("before", "during", "after")
        ),
        "        cpu % of a core mean/max: "
        + ", ".join(f"{k} {v['mean']}/{v['max']}" for k, v in cpu.items()),
    ]
    funded = s.get("funded")
    if funded:
        lines.append(
            f"        funded chain: {funded['traders']} traders, contracts out {funded['contracts_s']} s, "
            f"signed {funded['signed_s']} s, provisioned {funded['provisioned_s']} s; onboarding "
            f"{s['onboarded_before_s']} s in all"
        )
    risk = s.get("invariant_summaries", {}).get("risk_limits_hold")
    if risk:
        lines.append(f"        risk_limits_hold ({s['invariants']['risk_limits_hold']}): {risk}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--traders", default="500,1000,2000,5000")
    parser.add_argument("--duration", type=int, default=180)
    parser.add_argument("--profile", default="market-open")
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--faults", choices=("venue", "admin-state", "crash"), default="venue")
    parser.add_argument("--limits", default=CRASH_LIMITS, help="risk limits for --faults crash")
    parser.add_argument(
        "--funded", action="store_true", help="onboard every trader through the lifecycle chain first"
    )
    args = parser.parse_args()
    counts = [int(n) for n in args.traders.split(",") if n]
    faults = Path("reports") / "capacity-faults.yaml"
    faults.parent.mkdir(exist_ok=True)
    what = _schedule(faults, args.duration, args.faults)
    print(f"profile {args.profile}, {args.duration} s, {what}, workers {args.workers}")
    print(f"machine: a 10M-step Python loop takes {cpu_yardstick():.2f} s (compare runs by it)", flush=True)
    base: dict[str, Any] | None = None
    for n in counts:
        summary = _run(n, args, faults)
        print(_row(summary, base), flush=True)
        base = base or summary


if __name__ == "__main__":
    main()

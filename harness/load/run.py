"""One load run: Locust (a master and N workers, or one local process) drives seeded traders
at the middleware while a fault schedule plays out, then the gate's checkers judge the merged
history against the venue ledger. Every loop here is bounded in time."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ..adapter import DefaultAdapter
from ..checks import CHECKERS, CheckContext, Verdict
from ..faults import Proxy
from ..history import History
from ..ports import free_port
from ..postgres import ThrowawayPostgres
from ..scenario.faults import FaultStep
from ..timeline import Timeline
from ..topology import Topology
from .allure_results import RunFacts, write_results
from .cpu import CpuSampler
from .identities import load_population
from .journal import merge, read_measures
from .onboard import onboard_population
from .phases import split_by_phase
from .plots import plot_run
from .schedule import Schedule
from .shapes import Profile

LOCUSTFILE = str(Path(__file__).with_name("users.py"))
INVARIANTS = ("no_duplicate_order", "no_lost_fill", "positions_reconcile", "unknown_outcomes_resolve")
EXIT_GRACE_S = 60.0  # Locust's own shutdown, on top of the run's duration
Progress = Callable[[dict[str, Any]], None]


@dataclass
class LoadOptions:
    profile: Profile
    workers: int = 0
    schedule: Schedule | None = None
    seed: int = 0
    report_dir: Path = Path("reports/load")
    onboard_first: bool = True  # onboard the population before the load (see onboard.py)


@dataclass
class LoadResult:
    summary: dict[str, Any]
    verdicts: list[Verdict]
    history: History
    timeline: Timeline
    stats: list[dict[str, str]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(v.passed for v in self.verdicts) and self.summary["failures_outside_faults"] == 0


class LoadRun:
    def __init__(self, topology: Topology, options: LoadOptions, progress: Progress | None = None) -> None:
        self.topo = topology
        self.options = options
        self.progress = progress or (lambda _: None)
        self.mocks = topology.stack.describe()["mocks"]
        self.timeline = Timeline()
        self.cpu = CpuSampler({})
        self.onboarding_s = 0.0

    # FaultContext, so schedule steps apply here exactly as in scenarios.
    def proxy(self, venue: str) -> Proxy:
        return self.topo.stack.plane.client.get_proxy(venue)

    def control(self, venue: str) -> str:
        return str(self.mocks[venue]["control"])

    def act(self, step: FaultStep) -> None:
        raise NotImplementedError(f"workload actions ({step.label}) are not part of load schedules")

    def run(self) -> LoadResult:
        options = self.options
        report = options.report_dir
        report.mkdir(parents=True, exist_ok=True)
        journal = report / "journal"
        for stale in [
            *journal.glob("history-*.jsonl"),
            *journal.glob("measures-*.jsonl"),
        ]:  # a report dir reused must not mix two runs
            stale.unlink()
        onboarded = options.profile.peak if options.onboard_first else 0
        self.onboarding_s = 0.0
        if onboarded:
            self.onboarding_s = onboard_population(
                stripe_control=self.control("stripe"),
                middleware=self.topo.base_url,
                seed=options.seed,
                count=onboarded,
                population=load_population(),
                progress=lambda done, of: self.progress({"onboarded": done, "of": of}),
            )
        started_wall = time.time()
        self.timeline = Timeline()
        env = dict(
            os.environ,
            UAT_MIDDLEWARE=self.topo.base_url,
            UAT_STRIPE_CONTROL=self.control("stripe"),
            UAT_JOURNAL=str(journal),
            UAT_SEED=str(options.seed),
            UAT_WORKERS=str(options.workers),
            UAT_ONBOARDED=str(onboarded),
            UAT_RUN_STARTED=str(started_wall),
            UAT_PROFILE=options.profile.name,
            UAT_TRADERS=str(options.profile.traders),
            UAT_DURATION=str(options.profile.duration_s),
        )
        procs = self._spawn(env, report / "locust")
        self.cpu = CpuSampler(self._process_groups(procs))
        stop = threading.Event()
        faults = threading.Thread(target=self._play_schedule, args=(stop,), daemon=True)
        faults.start()
        try:
            self._watch(procs, report / "locust_stats_history.csv", started_wall)
        finally:
            stop.set()
            faults.join(timeout=30)
            for proc in procs:
                if proc.poll() is None:
                    proc.terminate()
            for proc in procs:
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=5)
        history = History(started=self.timeline.started)
        merge(journal, history, faults_at=lambda t: self.timeline.active(t))
        verdicts = self._judge(history)
        stats = _read_csv(report / "locust_stats.csv")
        summary = self._summary(history, verdicts, stats, report, started_wall)
        (report / "load-summary.json").write_text(json.dumps(summary, indent=2))
        (report / "history.jsonl").write_text(history.to_jsonl())
        plot_run(
            report / "load.png",
            history,
            self.timeline,
            _read_csv(report / "locust_stats_history.csv"),
            started_wall,
        )
        facts = RunFacts(
            summary,
            target=self.topo.target.name,
            started_ms=int(started_wall * 1000),
            stopped_ms=int(time.time() * 1000),
            plot=report / "load.png",
        )
        write_results(report / "allure-results", verdicts, facts)
        return LoadResult(summary, verdicts, history, self.timeline, stats)

    def _spawn(self, env: dict[str, str], csv_prefix: Path) -> list[subprocess.Popen[bytes]]:
        base = [sys.executable, "-m", "locust", "-f", LOCUSTFILE, "--host", self.topo.base_url]
        common = ["--headless", "--csv", str(csv_prefix), "--only-summary", "--stop-timeout", "5"]
        logs = self.options.report_dir
        if self.options.workers <= 0:
            with (logs / "locust.log").open("wb") as log:
                return [subprocess.Popen([*base, *common], env=env, stdout=log, stderr=subprocess.STDOUT)]
        port = free_port()
        procs = []
        with (logs / "locust-master.log").open("wb") as log:
            procs.append(
                subprocess.Popen(
                    [
                        *base,
                        *common,
                        "--master",
                        "--master-bind-host",
                        "127.0.0.1",
                        "--master-bind-port",
                        str(port),
                        "--expect-workers",
                        str(self.options.workers),
                    ],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        for index in range(self.options.workers):
            with (logs / f"locust-worker-{index}.log").open("wb") as log:
                procs.append(
                    subprocess.Popen(
                        [*base, "--worker", "--master-host", "127.0.0.1", "--master-port", str(port)],
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
        return procs

    def _play_schedule(self, stop: threading.Event) -> None:
        schedule = self.options.schedule
        if schedule is None:
            return
        began = time.monotonic()
        pending = list(schedule.steps)
        active: list[tuple[float, FaultStep, Any]] = []
        while (pending or active) and not stop.is_set():
            now = time.monotonic() - began
            while pending and pending[0].at <= now:
                step = pending.pop(0)
                end = step.at + (step.for_s if step.for_s is not None else schedule.duration_s - step.at)
                active.append((end, step, step.apply(self)))
            for item in [a for a in active if a[0] <= now]:
                active.remove(item)
                item[1].clear(self, item[2])
            stop.wait(0.05)
        for _, step, window in active:  # the run ended first: nothing may stay broken
            step.clear(self, window)

    def _process_groups(self, procs: list[subprocess.Popen[bytes]]) -> dict[str, int]:
        groups = {"harness": os.getpid()}  # uat itself, the in-process mocks and fault plane
        if self.topo.process is not None and self.topo.process.pid:
            groups["middleware"] = self.topo.process.pid
        postmaster = self.topo.postgres.pid() if isinstance(self.topo.postgres, ThrowawayPostgres) else None
        if postmaster:
            groups["postgres"] = postmaster
        names = (
            ["locust"]
            if len(procs) == 1
            else ["locust-master"] + [f"locust-worker-{i}" for i in range(len(procs) - 1)]
        )
        groups.update({name: proc.pid for name, proc in zip(names, procs, strict=True)})
        return groups

    def _watch(self, procs: list[subprocess.Popen[bytes]], history_csv: Path, started_wall: float) -> None:
        deadline = time.monotonic() + self.options.profile.duration_s + EXIT_GRACE_S
        master = procs[0]
        while master.poll() is None:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"Locust did not finish within {self.options.profile.duration_s + EXIT_GRACE_S:g} s"
                )
            last = _last_row(history_csv)
            self.progress(
                {
                    "t": time.time() - started_wall,
                    "users": last.get("User Count", "0"),
                    "rps": last.get("Requests/s", "0"),
                    "failures_per_s": last.get("Failures/s", "0"),
                    "faults": self.timeline.active(),
                    "cpu": self.cpu.sample(),
                }
            )
            time.sleep(1.0)

    def _judge(self, history: History) -> list[Verdict]:
        http = httpx.Client(timeout=30, trust_env=False)
        adapter = DefaultAdapter(self.topo.base_url, allowed_hosts=self.topo.target.allowed_hosts)
        try:
            orders = _settle(history, adapter, self.topo.target.slo.fill_visible_s)
            ledger = http.get(f"{self.control('rithmic')}/ledger").json()
            accounts = {op.process: str(op.value["account"]) for op, _ in history.completions("place_order")}
            ctx = CheckContext(
                history, self.timeline, adapter, self.topo.target.slo, ledger, accounts, orders
            )
            return [CHECKERS[name](ctx) for name in INVARIANTS]
        finally:
            adapter.close()
            http.close()

    def _summary(
        self,
        history: History,
        verdicts: list[Verdict],
        stats: list[dict[str, str]],
        report: Path,
        started_wall: float,
    ) -> dict[str, Any]:
        placed = history.completions("place_order")
        cancels = history.completions("cancel_order")
        grace = self.topo.target.slo.recovery_s
        # An operation in flight when a fault began, or within the recovery SLO after it ended,
        # belongs to that fault; any other unknown outcome is a failure outside the faults.
        outside = [
            done
            for invoked, done in [*placed, *cancels]
            if done.type == "info"
            and not any(
                invoked.time <= (w.end if w.end is not None else invoked.time) + grace
                and done.time >= w.start
                for w in self.timeline.windows
            )
        ]
        ledger = httpx.get(f"{self.control('rithmic')}/ledger", timeout=30, trust_env=False).json()
        ours = {str(op.value["client_order_id"]) for op, _ in placed}
        by_name = {row["Name"]: row for row in stats}
        history_rows = _read_csv(report / "locust_stats_history.csv")
        return {
            "profile": self.options.profile.name,
            "traders": self.options.profile.traders,
            "peak_traders": max(
                (int(r["User Count"]) for r in history_rows if r.get("User Count")), default=0
            ),
            # HTTP requests only: Locust also counts our stream measurements as "requests".
            "requests": sum(
                int(r["Request Count"] or 0) for r in stats if r.get("Type") in ("GET", "POST", "DELETE")
            ),
            "locust_failures": int(by_name.get("Aggregated", {}).get("Failure Count", 0) or 0),
            "failures_outside_faults": len(outside),
            "orders": len(placed),
            "fills": sum(
                1
                for f in ledger.get("fills", [])
                if f.get("client_tag") in ours and not f.get("duplicate_of")
            ),
            "order_ack_ms": _percentiles(by_name.get("order ack")),
            "order_to_fill_ms": _percentiles(by_name.get("order to fill")),
            # Cancels asked for, and taken by the venue (the rest had filled or ended first).
            "cancels": {"requested": len(cancels), "accepted": sum(1 for _, d in cancels if d.type == "ok")},
            "ws_messages": int(by_name.get("quote age", {}).get("Request Count", 0) or 0),
            "phases": split_by_phase(
                history,
                self.timeline,
                read_measures(report / "journal", "order to fill"),
                [
                    (float(r["Timestamp"]) - started_wall, float(r["Requests/s"] or 0))
                    for r in history_rows
                    if r.get("Name") == "Aggregated" and r.get("Timestamp")
                ],
                grace,
            ),
            "cpu_percent": self.cpu.summary(),
            "faults": self.timeline.to_json(),
            "schedule": self.options.schedule.to_json() if self.options.schedule else None,
            "invariants": {v.check: "pass" if v.passed else "fail" for v in verdicts},
            "duration_s": round(time.time() - started_wall, 1),
            "workers": self.options.workers,
            "onboarded_before_s": round(self.onboarding_s, 1),
            "seed": self.options.seed,
        }


def _settle(history: History, adapter: DefaultAdapter, within_s: float) -> dict[str, dict[str, Any]]:
    """The middleware's final view of every order, once pending ones settle (bounded). Reads
    run on a few threads and re-read only what is still pending: a big run has tens of
    thousands of orders."""
    tags = [str(op.value["client_order_id"]) for op, _ in history.completions("place_order")]
    deadline = time.monotonic() + within_s
    orders: dict[str, dict[str, Any]] = {}

    def read(tag: str) -> tuple[str, dict[str, Any]]:
        outcome = adapter.order_status(tag)
        return tag, outcome.body if outcome.ok and isinstance(outcome.body, dict) else {"status": "missing"}

    with ThreadPoolExecutor(max_workers=8) as pool:
        while True:
            orders.update(pool.map(read, tags))
            tags = [t for t in tags if orders[t].get("status") in ("pending_new", "unknown")]
            if not tags or time.monotonic() >= deadline:
                return orders
            time.sleep(0.5)


def _percentiles(row: dict[str, str] | None) -> dict[str, float | None]:
    def value(key: str) -> float | None:
        raw = (row or {}).get(key, "N/A")
        return None if raw in ("", "N/A") else float(raw)

    return {"p50": value("50%"), "p95": value("95%"), "p99": value("99%")}


def _read_csv(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _last_row(path: Path) -> dict[str, str]:
    rows = [r for r in _read_csv(path) if r.get("Name") == "Aggregated"]
    return rows[-1] if rows else {}


__all__ = ["LoadOptions", "LoadResult", "LoadRun"]

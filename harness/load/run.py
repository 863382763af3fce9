"""One load run: Locust (one local process, or a master with local workers and workers from
other machines) drives seeded traders at the middleware while a fault schedule plays out, then
the gate's checkers judge the merged history against the venue ledger. Every loop here is
bounded in time."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ..adapters import Adapter
from ..checks import CHECKERS, CheckContext, Verdict
from ..faults import Proxy
from ..history import History
from ..lifecycle import Expected
from ..lifecycle.gather import LEDGERS, gather
from ..postgres import ThrowawayPostgres
from ..scenario import Limits
from ..scenario.faults import POSTGRES, FaultStep
from ..scenario.player import play
from ..scenario.risk import epoch_zero, instrument_specs
from ..scenario.statefaults import StateFaultHooks, StateFaults
from ..settle import settle_orders
from ..target import TargetError
from ..timeline import Timeline
from ..topology import Topology
from .allure_results import RunFacts, write_results
from .cpu import CpuSampler
from .funded import ChainTimes, fund_population
from .identities import load_population
from .journal import STATUS, merge, read_measures, read_status
from .locust_csv import last_writes, read_csv
from .onboard import onboard_population
from .plots import plot_run
from .processes import WORKER_WAIT_S, LocustFailed, LocustPlan, LocustProcesses
from .schedule import Schedule
from .shapes import Profile
from .shipping import audit
from .summary import RunFigures, summarize
from .venues import CQG, DEFAULT_VENUE, joined_ledger, routed_indices
from .wire import AdapterWire

INVARIANTS = ("no_duplicate_order", "no_lost_fill", "positions_reconcile", "unknown_outcomes_resolve")
# with --funded-traders: their records in every system of the chain, read once the run has ended
FUNDED_INVARIANTS = ("lifecycle_provisioned_once", "lifecycle_balances", "lifecycle_no_double_deal")
EXIT_GRACE_S = 60.0  # Locust's own shutdown, on top of the run's duration
START_GRACE_S = 60.0  # Locust's own start, on top of the wait for its workers
Progress = Callable[[dict[str, Any]], None]


@dataclass
class LoadOptions:
    profile: Profile
    workers: int = 0  # local Locust worker processes (0 and no remote ones: one local process)
    remote_workers: int = 0  # Locust workers from other machines the master waits for
    master_bind: str = "127.0.0.1"  # the interface the Locust master listens on
    worker_wait_s: int = WORKER_WAIT_S  # the master's bound on waiting for its workers
    schedule: Schedule | None = None
    seed: int = 0
    report_dir: Path = Path("reports/load")
    onboard_first: bool = True  # onboard the population before the load (see onboard.py)
    limits: Limits | None = None  # set on every account as it is onboarded; risk_limits_hold holds them
    cqg_traders: int = 0  # traders whose accounts are routed to CQG when onboarded (venues.py)
    funded_traders: int = 0  # traders onboarded through the whole lifecycle chain first (funded.py)


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

    @property
    def journal_problems(self) -> list[str]:
        """Ways the merged history is incomplete (a remote worker's rows lost on the way). The
        checkers judged a partial history then: a lost completion reads as an unknown outcome, a
        lost invoke hides an order. Neither verdict says anything about the middleware, so the
        command reports such a run as a harness failure (exit 3), never as a pass or a fail."""
        return list(self.summary.get("journal", {}).get("problems", []))


class LoadRun(StateFaultHooks):
    def __init__(self, topology: Topology, options: LoadOptions, progress: Progress | None = None) -> None:
        self.topo = topology
        self.options = options
        self.progress = progress or (lambda _: None)
        self.mocks = topology.stack.describe()["mocks"]
        self.timeline = Timeline()
        self.cpu = CpuSampler({})
        self.onboarding_s = 0.0
        self.funded: list[Expected] = []  # the funded traders, once their chain has gone through
        self.chain_times: ChainTimes | None = None
        self.account_venues: dict[str, str] = {}  # the accounts routed off Rithmic, with their venue
        self.state: StateFaults | None = None  # database faults, deployments, diagnosis sampling

    # FaultContext, so schedule steps apply here exactly as in scenarios.
    @property
    def seed(self) -> int:
        return self.options.seed

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
        stale = [*journal.glob("history-*.jsonl"), *journal.glob("measures-*.jsonl"), journal / STATUS]
        for path in [*stale, report / "remote-worker.txt"]:  # a report dir reused must not mix two runs
            path.unlink(missing_ok=True)
        onboarded = options.profile.peak if options.onboard_first else 0
        self.onboarding_s = 0.0
        if onboarded:
            webhook_url = self.topo.webhook_url("stripe")
            if webhook_url is None:
                raise TargetError(
                    self.topo.target.source, "webhooks.stripe", "onboarding needs the Stripe URL"
                )
            adapter = self.topo.adapter()
            try:
                self.onboarding_s = onboard_population(
                    stripe_control=self.control("stripe"),
                    webhook_url=webhook_url,
                    adapter=adapter,
                    seed=options.seed,
                    count=onboarded,
                    limits=options.limits,
                    population=load_population(),
                    progress=lambda done, of: self.progress({"onboarded": done, "of": of}),
                    routed=routed_indices(onboarded, options.cqg_traders),
                    routed_accounts=self.account_venues,
                    funded=routed_indices(onboarded, options.funded_traders),
                    deposit=self._deposit(),
                )
                if options.funded_traders:
                    self._fund(onboarded)
            finally:
                adapter.close()
        self.timeline = Timeline()
        locust = LocustProcesses(
            LocustPlan(
                self.topo.base_url,
                report,
                self._locust_env(journal, onboarded),
                workers=options.workers,
                remote_workers=options.remote_workers,
                master_bind=options.master_bind,
                worker_wait_s=options.worker_wait_s,
            )
        )
        stop = threading.Event()
        faults = threading.Thread(target=self._play_schedule, args=(stop,), daemon=True)
        sampler_adapter = self.topo.adapter()
        try:
            locust.start()
            if options.remote_workers:
                self.progress(
                    {"remote_command": locust.remote_command(), "remote_workers": options.remote_workers}
                )
            self.cpu = CpuSampler({**self._process_groups(), **locust.groups()})
            started_wall = self._watch(locust, journal, faults, sampler_adapter)
        finally:
            stop.set()
            if faults.is_alive():
                faults.join(timeout=30)
            locust.stop()
        try:
            history = History(started=self.timeline.started)
            merge(journal, history, faults_at=lambda t: self.timeline.active(t))
            ledger = self._ledger()
            verdicts = self._judge(history, ledger)
            if self.state is not None:
                self.state.diagnose(verdicts, None)
        finally:
            if self.state is not None:
                self.state.close()
            sampler_adapter.close()
        history_rows = read_csv(report / "locust_stats_history.csv")
        figures = RunFigures(
            profile=options.profile,
            seed=options.seed,
            workers=options.workers,
            remote_workers=options.remote_workers,
            schedule=options.schedule,
            timeline=self.timeline,
            started_wall=started_wall,
            grace_s=self.topo.target.slo.recovery_s,
            stats=read_csv(report / "locust_stats.csv"),
            history_rows=history_rows,
            ledger=ledger,
            fills=read_measures(journal, "order to fill"),
            cpu=self.cpu.summary(),
            onboarding_s=self.onboarding_s,
            journal=audit(journal, options.remote_workers),
            stream=self.topo.target.adapter.supports("stream"),
            venues=self._venues(),
            funded=(
                {"traders": len(self.funded), **self.chain_times.to_json()}
                if self.chain_times is not None
                else None
            ),
        )
        summary = summarize(history, verdicts, figures)
        (report / "load-summary.json").write_text(json.dumps(summary, indent=2))
        (report / "history.jsonl").write_text(history.to_jsonl())
        self.cpu.write_csv(report / "cpu.csv", origin=started_wall)
        plot_run(report / "load.png", history, self.timeline, history_rows, started_wall)
        facts = RunFacts(
            summary,
            target=self.topo.target.name,
            started_ms=int(started_wall * 1000),
            stopped_ms=int(time.time() * 1000),
            plot=report / "load.png",
        )
        write_results(report / "allure-results", verdicts, facts)
        return LoadResult(summary, verdicts, history, self.timeline, figures.stats)

    def _deposit(self) -> str:
        spec = self.topo.target.lifecycle
        return spec.deposit if spec is not None else "25000.00"

    def _fund(self, onboarded: int) -> None:
        """The funded traders' chain, after their checkouts (ChainStalled names who it left behind)."""
        spec = self.topo.target.lifecycle
        assert spec is not None  # the command refuses --funded-traders without one
        indices = sorted(routed_indices(onboarded, self.options.funded_traders))
        began = time.monotonic()
        self.funded, self.chain_times = fund_population(
            spec, self._controls(), self.options.seed, indices, self.progress
        )
        self.onboarding_s += time.monotonic() - began

    def _controls(self) -> dict[str, str]:
        return {name: str(facts["control"]) for name, facts in self.mocks.items()}

    def _venues(self) -> tuple[str, ...]:
        return (DEFAULT_VENUE, CQG) if self.options.cqg_traders else (DEFAULT_VENUE,)

    def _ledger(self) -> dict[str, Any]:
        """The venues' ledgers as the Locust processes left them: Rithmic's, or, with traders on CQG,
        both joined (each entry marked with its venue)."""
        ledgers = {
            venue: httpx.get(f"{self.control(venue)}/ledger", timeout=30, trust_env=False).json()
            for venue in self._venues()
        }
        return ledgers[DEFAULT_VENUE] if len(ledgers) == 1 else joined_ledger(ledgers)

    def _locust_env(self, journal: Path, onboarded: int) -> dict[str, str]:
        """The master's (or the one process's) settings; it forwards them to every worker."""
        options = self.options
        return dict(
            os.environ,
            UAT_STRIPE_CONTROL=self.control("stripe"),
            UAT_ADAPTER=AdapterWire(
                self.topo.target.adapter_table,
                self.topo.adapter_values(),
                self.topo.target.allowed_hosts,
                self.topo.webhook_url("stripe") or "",
                self.topo.target.source,
            ).to_json(),
            UAT_JOURNAL=str(journal),
            UAT_SEED=str(options.seed),
            UAT_WORKERS=str(options.workers + options.remote_workers),
            UAT_REMOTE_WORKERS=str(options.remote_workers),
            UAT_ONBOARDED=str(onboarded),
            UAT_RUN_STARTED="0",  # time zero is when the load starts: after every worker joined
            UAT_PROFILE=options.profile.name,
            UAT_TRADERS=str(options.profile.traders),
            UAT_DURATION=str(options.profile.duration_s),
        )

    def _play_schedule(self, stop: threading.Event) -> None:
        schedule = self.options.schedule
        if schedule is not None:  # run time: zero is when the load started
            play(schedule.steps, self, now=self.timeline.now, until_s=schedule.duration_s, stop=stop)

    def _process_groups(self) -> dict[str, int]:
        groups = {"harness": os.getpid()}  # uat itself, the in-process mocks and fault plane
        if self.topo.process is not None and self.topo.process.pid:
            groups["middleware"] = self.topo.process.pid
        postmaster = self.topo.postgres.pid() if isinstance(self.topo.postgres, ThrowawayPostgres) else None
        if postmaster:
            groups["postgres"] = postmaster
        return groups

    def _watch(
        self, locust: LocustProcesses, journal: Path, faults: threading.Thread, adapter: Adapter
    ) -> float:
        """Follow the run until the master exits; returns when the load started (epoch seconds).
        The fault schedule starts with the load, not with the processes: a master may first wait
        for workers from other machines."""
        plan = locust.plan
        started_wall: float | None = None
        deadline = time.monotonic() + plan.worker_wait_s + START_GRACE_S
        history_csv = self.options.report_dir / "locust_stats_history.csv"
        while locust.master.poll() is None:
            status = read_status(journal)
            if started_wall is None and status.get("run_started"):
                started_wall = float(status["run_started"])
                self.timeline = Timeline(started=time.monotonic() - (time.time() - started_wall))
                if self.options.schedule is not None:  # sampled for the diagnosis while faults play
                    self.state = StateFaults(self.topo, self.timeline, adapter, accounts=[], env={}).start()
                faults.start()
                deadline = time.monotonic() + self.options.profile.duration_s + EXIT_GRACE_S
            if time.monotonic() > deadline:
                raise LocustFailed(
                    f"Locust did not finish within {self.options.profile.duration_s + EXIT_GRACE_S:g} s"
                    if started_wall is not None
                    else f"the load did not start within {plan.worker_wait_s + START_GRACE_S:g} s"
                )
            cpu = self.cpu.sample()
            if started_wall is None:
                if plan.distributed:
                    joined = len(status.get("joined", []))
                    self.progress({"joined": joined, "expected": plan.expected_workers, "cpu": cpu})
                time.sleep(0.2 if plan.distributed else 0.5)
                continue
            last = last_writes(history_csv)[-1:]
            self.progress(
                {
                    "t": time.time() - started_wall,
                    "users": last[0].users if last else 0,
                    "rps": last[0].http_rps if last else 0.0,
                    "failures_per_s": last[0].failures_per_s if last else 0.0,
                    "faults": self.timeline.active(),
                    "cpu": cpu,
                }
            )
            time.sleep(1.0)
        if started_wall is None:
            status = read_status(journal)
            joined = len(status.get("joined", []))
            if plan.distributed and joined < plan.expected_workers:
                raise LocustFailed(
                    f"{joined} of {plan.expected_workers} Locust workers joined the master within "
                    f"{plan.worker_wait_s} s ({plan.workers} local, {plan.remote_workers} from other "
                    f"machines expected at {plan.master_bind}:{locust.port})"
                )
            raise LocustFailed(
                f"Locust exited (code {locust.master.returncode}) before the load started: see "
                f"{self.options.report_dir}/locust*.log"
            )
        return started_wall

    def _invariants(self, history: History) -> tuple[str, ...]:
        """The order invariants; the prices where the target's API reports an average fill price,
        and the cancels where the run had some accepted (a load shape with no resting orders has
        nothing to cancel: judged then, it would be `no_evidence`); and those of the admin state
        when the schedule breaks it."""
        steps = self.options.schedule.steps if self.options.schedule else ()
        found = list(INVARIANTS)
        spec = self.topo.target.adapter
        status = spec.operations.get("order_status")
        if spec.kind == "http" and status is not None and "avg_price" in status.fields:
            found.append("fill_prices_match")
        if any(done.type == "ok" for _, done in history.completions("cancel_order")):
            found.append("cancels_consistent")
        if self.options.limits is not None:
            found.append("risk_limits_hold")
        if self.funded:
            found += list(FUNDED_INVARIANTS)
        if any(s.kind == "deploy" or s.venue == POSTGRES for s in steps):
            found.append("acked_orders_durable")
        if any(s.kind == "deploy" and s.fault == "graceful" for s in steps):
            found.append("drained_on_shutdown")
        if any(s.venue == POSTGRES for s in steps):
            found.append("db_bounded_answers")
        return tuple(found)

    def _judge(self, history: History, ledger: dict[str, Any]) -> list[Verdict]:
        """The invariants, over the venue's ledger as read once the Locust processes stopped."""
        adapter = self.topo.adapter()
        try:
            tags = [str(op.value["client_order_id"]) for op, _ in history.completions("place_order")]
            orders = settle_orders(adapter, tags, self.topo.target.slo.fill_visible_s, poll_s=0.5)
            accounts = {op.process: str(op.value["account"]) for op, _ in history.completions("place_order")}
            deployments = list(self.state.deployments) if self.state is not None else []
            rithmic = self.topo.stack.describe()["mocks"].get("rithmic", {})
            # the instruments' ticks and money, which fill_prices_match reads; with --limits, the plan
            # risk_limits_hold holds the ledger against (every account got them when onboarded)
            plan: dict[str, Any] = {"instruments": instrument_specs(rithmic)}
            if self.options.limits is not None:
                plan |= {
                    "limits": {account: self.options.limits.to_json() for account in set(accounts.values())},
                    "in_flight_s": self.topo.target.slo.risk_in_flight_ms / 1000,
                    "epoch0": epoch_zero(self.timeline),
                }
            extras: dict[str, Any] = {"risk": plan}
            if self.funded:  # every system's records of the funded traders, after the run
                with httpx.Client(timeout=60, trust_env=False) as http:
                    extras["lifecycle"] = gather(
                        http,
                        {k: v for k, v in self._controls().items() if k in LEDGERS},
                        adapter,
                        self.funded,
                        sql_file=self.topo.target.checks_sql,
                        psql=self.topo.postgres.psql,
                    )
            ctx = CheckContext(
                history,
                self.timeline,
                adapter,
                self.topo.target.slo,
                ledger,
                accounts,
                orders,
                extras=extras,
                deployments=deployments,
                account_venues=dict(self.account_venues),
            )
            return [CHECKERS[name](ctx) for name in self._invariants(history)]
        finally:
            adapter.close()


__all__ = ["LoadOptions", "LoadResult", "LoadRun"]

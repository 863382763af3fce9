"""Runs one scenario through its phases (setup, steady, fault, recovery, verdict) against a
running topology, and returns its verdicts with the evidence and the fault timeline."""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from ..adapters import Adapter, OrderView
from ..checks import CHECKERS, CheckContext, Verdict
from ..faults import Proxy
from ..history import History
from ..metrics import MetricsProbe
from ..security.flood import FloodRecord
from ..settle import settle_orders
from ..timeline import Timeline
from ..topology import Topology
from .actions import WorkloadActions
from .evidence import Measured, event_kinds, measure, shortfall, thin_trading
from .faults import FaultStep
from .lifecycle import LifecycleActions, LifecycleRun
from .model import Scenario
from .player import play
from .probeworkloads import ProbeWorkloads
from .quotes import QUOTE_CHECKS, QuoteWatcher, market_extras
from .recovery import (
    not_driven,
    refused_everything,
    wait_for_evidence,
    wait_for_reacceptance,
    wait_for_recovery,
    wait_for_steady,
)
from .result import HarnessError, MiddlewareFault, ScenarioResult
from .risk import risk_plan
from .rotation import Rotation, rotate_secrets, rotation_extras
from .security import run_flood
from .setup import WorldSetup
from .statefaults import StateFaultHooks, StateFaults
from .workload import Prober, Trader, start_all

Progress = Callable[[str, str, tuple[str, ...]], None]  # scenario id, phase, active faults


class ScenarioRunner(WorldSetup, WorkloadActions, LifecycleActions, StateFaultHooks, ProbeWorkloads):
    http: httpx.Client  # opened by run() for that run only, and closed when it ends

    def __init__(self, topology: Topology, seed: int, progress: Progress | None = None) -> None:
        self.topo = topology
        self.seed = seed
        self.progress = progress or (lambda *_: None)
        self.mocks = topology.stack.describe()["mocks"]
        self.timeline = Timeline()
        self.rng = random.Random(seed)
        self.accounts: list[str] = []
        self.customers: dict[str, str] = {}  # account id -> Stripe customer
        self.webhook_sends: list[dict[str, Any]] = []
        self.life = LifecycleRun()  # the funded traders the `lifecycle` action took through the chain
        self._senders: list[threading.Thread] = []  # background Stripe sends, joined before the verdict
        self.adapter: Adapter | None = None
        self.scenario: Scenario | None = None
        self.flood: FloodRecord | None = None  # what the `flood` action sent, for the security checkers
        self.rotations: list[Rotation] = []  # the credentials `rotate_secrets` rotated
        self.state: StateFaults | None = None  # this run's database faults, deployments and sampling

    # FaultContext
    def proxy(self, venue: str) -> Proxy:
        return self.topo.stack.plane.client.get_proxy(venue)

    def control(self, venue: str) -> str:
        return str(self.mocks[venue]["control"])

    def _controls(self) -> dict[str, str]:
        return {name: str(mock["control"]) for name, mock in self.mocks.items()}

    def act(self, step: FaultStep) -> None:
        """A workload event in the fault schedule (see faults.action)."""
        if step.action in ("stripe_send", "lifecycle") and step.params.get("background"):
            # retried deliveries (or an onboarding) that outlast the fault window must not hold the
            # fault player: a network fault must clear on time while they wait for it
            work = self._stripe_send if step.action == "stripe_send" else self._lifecycle
            sender = threading.Thread(target=work, args=(step,), name=f"uat-{step.action}", daemon=True)
            sender.start()
            self._senders.append(sender)
        elif step.action == "stripe_send":
            self._stripe_send(step)
        elif step.action == "tt_fills":
            self._tt_fills(step)
        elif step.action == "lifecycle":
            self._lifecycle(step)
        elif step.action in ("lifecycle_payout", "lifecycle_cancel"):
            self._lifecycle_later(step)
        elif step.action == "rotate_secrets":
            self.rotations += rotate_secrets(step, self.topo, self.http, self._controls())
        elif step.action == "flood":
            assert self.adapter is not None and self.scenario is not None
            self.flood = run_flood(step, self.adapter, self.accounts, self.scenario, self.timeline.now)
        else:
            raise HarnessError(f"unknown scenario action {step.action!r}")

    def run(self, scenario: Scenario) -> ScenarioResult:
        started = time.monotonic()
        self.webhook_sends = []
        self.life = LifecycleRun()
        self._senders = []
        self.scenario, self.flood, self.rotations = scenario, None, []
        self.timeline = timeline = Timeline()
        history = History(timeline.active, started=timeline.started)
        phases: dict[str, float] = {}
        adapter = self.topo.adapter()
        self.adapter = adapter
        self.http = httpx.Client(timeout=30, trust_env=False)
        try:
            phase = self._phase_timer(scenario, timeline, phases)
            with phase("setup"):
                try:
                    accounts = self._setup(scenario, adapter)
                except MiddlewareFault as fault:
                    return self._result(scenario, [fault.verdict()], history, timeline, phases, started)
            if scenario.workload == "contract":
                return self._contract(scenario, adapter, history, timeline, phases, started, phase)
            if scenario.workload == "security":
                return self._security(scenario, adapter, history, timeline, phases, started, phase)
            self.state = state = StateFaults(
                self.topo,
                timeline,
                adapter,
                accounts=accounts,
                env=self.topo.target.setting_env(scenario.settings),
                in_flight=history.in_flight,
            ).start()
            stop = threading.Event()
            aborted: MiddlewareFault | None = None
            span = (timeline.now(), timeline.now())  # the fault and recovery phases, for diagnosis
            traders = [
                Trader(f"t{i + 1}", account, scenario, self.seed, adapter, history, stop)
                for i, account in enumerate(accounts)
                if scenario.workload == "orders"
            ]
            metrics_url, spec = self.topo.metrics_url(), self.topo.target.metrics
            probe = MetricsProbe(metrics_url, spec.database_up) if metrics_url and spec else None
            prober = Prober(accounts[0], adapter, history, stop, probe.read if probe else None)
            watcher = (
                QuoteWatcher(adapter, accounts[0], scenario.symbols, stop)
                if QUOTE_CHECKS & set(scenario.checks)
                else None
            )
            join = start_all([*traders, prober, *([watcher] if watcher else [])])
            refused: dict[str, int] | None = None
            try:
                names = [trader.name for trader in traders]
                with phase("steady"):  # at most steady_s; less once the middleware plainly works
                    began = timeline.now()
                    wait_for_steady(
                        history,
                        began,
                        names,
                        metrics=probe is not None,
                        at_most_s=scenario.steady_s,
                        faults_follow=bool(scenario.schedule),
                    )
                    if traders and scenario.schedule:
                        refused = refused_everything(history, began)
                span = (timeline.now(), timeline.now())
                if refused is None:
                    self._drive(scenario, history, timeline, names, phase, probe is not None)
            except MiddlewareFault as fault:
                aborted = fault
            finally:
                stop.set()
                join()
                if probe is not None:
                    probe.close()
                span = (span[0], timeline.now())
            if aborted is not None:
                verdicts = [aborted.verdict()]
                state.diagnose(verdicts, span)
                return self._result(scenario, verdicts, history, timeline, phases, started)
            with phase("verdict"):
                for sender in self._senders:
                    sender.join(timeout=130)  # the send's own bound is 120 s
                self._senders = []
                orders = self._settle(history, adapter, scenario.execution_venue)
                market = market_extras(  # before the ledger, which must be the later of the two
                    scenario,
                    adapter,
                    watcher,
                    accounts=self.accounts,
                    slo=self.topo.target.slo,
                    http=self.http,
                    control=self.control("rithmic"),
                    rithmic=self.mocks.get("rithmic", {}),
                )
                ledger = self._ledger(scenario.execution_venue)
                ctx = CheckContext(
                    history,
                    timeline,
                    adapter,
                    self.topo.target.slo,
                    ledger,
                    {f"t{i + 1}": account for i, account in enumerate(accounts)},
                    orders,
                    extras=self._extras(scenario, adapter)
                    | self._risk_extras(scenario, timeline)
                    | market
                    | self._security_extras(scenario, adapter, history)
                    | rotation_extras(self.rotations, self.http, self._controls())
                    | self._lifecycle_extras(scenario),
                    psql=self.topo.postgres.psql,
                    sql_file=self.topo.target.checks_sql,
                    deployments=list(state.deployments),
                    venue=scenario.execution_venue,
                )
                why_not, verdicts = (
                    ("", [CHECKERS[name](ctx) for name in scenario.checks])
                    if refused is None
                    else not_driven(scenario, refused)
                )
                state.diagnose(verdicts, span)
                measured = self._measure(
                    scenario,
                    history,
                    timeline,
                    ledger,
                    mock_events={
                        venue: [e for kind in kinds for e in self._mock_events(venue, kind)]
                        for venue, kinds in event_kinds(scenario).items()
                    },
                    webhook_sends=self.webhook_sends,
                    orders=orders,
                    lifecycle_sends=self.life.sends,
                )
        finally:
            if self.state is not None:
                self.state.close()
                self.state = None
            adapter.close()
            self.http.close()
        result = self._result(scenario, verdicts, history, timeline, phases, started, measured)
        snapshot = ctx.extras.get("lifecycle")
        result.lifecycle = snapshot.to_json() if snapshot is not None else None
        if why_not:
            result.missing.insert(0, why_not)
        return result

    def _drive(
        self,
        scenario: Scenario,
        history: History,
        timeline: Timeline,
        names: list[str],
        phase: Any,
        metrics: bool,
    ) -> None:
        """The fault phase, then the recovery phase: the faults' schedule played, then trading watched
        until it plainly works again (or recovery_s, and the SLO where recovery_slo judges)."""
        with phase("fault"):
            self._inject(scenario)
        with phase("recovery"):  # at most recovery_s; less once recovery is plain to see
            cleared = lambda: timeline.last_end() or timeline.now()  # noqa: E731
            wait_for_recovery(history, cleared, names, metrics=metrics, at_most_s=scenario.recovery_s)
            if "recovery_slo" in scenario.checks:  # never judge "never" before the SLO ran out
                wait_for_reacceptance(history, cleared, timeline.now, slo_s=self.topo.target.slo.recovery_s)
        if names and self._thin(scenario, history, timeline):
            with phase("evidence"):  # trading on, bounded, for what the run declared and lacks
                wait_for_evidence(lambda: self._thin(scenario, history, timeline), known_thin=True)

    def _thin(self, scenario: Scenario, history: History, timeline: Timeline) -> bool:
        """Short of the trading evidence the scenario declared, by the venue's ledger as it stands."""
        ledger = self._ledger(scenario.execution_venue)
        return thin_trading(scenario.minimum, self._measure(scenario, history, timeline, ledger))

    @staticmethod
    def _measure(
        scenario: Scenario, history: History, timeline: Timeline, ledger: dict[str, Any], **more: Any
    ) -> Measured:
        """What the run showed, its venue's fills and orders taken from `ledger`."""
        return measure(
            scenario,
            history,
            timeline,
            venue_fills=ledger.get("fills", []),
            venue_orders=ledger.get("orders", []),
            **more,
        )

    def _mock_events(self, venue: str, kind: str) -> list[dict[str, Any]]:
        """A mock's events of one kind during this run (its event log is reset with the world)."""
        answer = self.http.get(f"{self.control(venue)}/events", params={"kind": kind})
        answer.raise_for_status()
        return list(answer.json()["events"])

    def _result(
        self,
        scenario: Scenario,
        verdicts: list[Verdict],
        history: History,
        timeline: Timeline,
        phases: dict[str, float],
        started: float,
        measured: Measured | None = None,
    ) -> ScenarioResult:
        log_tail = self.topo.process.log_tail(80) if self.topo.process else ""
        return ScenarioResult(
            scenario,
            self.seed,
            verdicts,
            history,
            timeline,
            phases,
            duration_s=time.monotonic() - started,
            log_tail=log_tail,
            measured=measured,
            missing=shortfall(scenario.minimum, measured) if measured is not None else [],
            customers=list(self.customers.values()),
        )

    def _phase_timer(self, scenario: Scenario, timeline: Timeline, phases: dict[str, float]) -> Any:
        @contextlib.contextmanager
        def phase(name: str) -> Any:
            self.progress(scenario.id, name, timeline.active())
            began = time.monotonic()
            try:
                yield
            finally:
                phases[name] = time.monotonic() - began

        return phase

    def _risk_extras(self, scenario: Scenario, timeline: Timeline) -> dict[str, Any]:
        plan = risk_plan(
            scenario,
            accounts=self.accounts,
            customers=self.customers,
            webhook_sends=self.webhook_sends,
            timeline=timeline,
            slo=self.topo.target.slo,
            rithmic=self.mocks.get("rithmic", {}),
        )
        return {} if plan is None else {"risk": plan}

    def _inject(self, scenario: Scenario) -> None:
        began = time.monotonic()
        play(
            scenario.schedule,
            self,
            now=lambda: time.monotonic() - began,
            until_s=scenario.fault_s,
            on_change=lambda: self.progress(scenario.id, "fault", self.timeline.active()),
        )

    def _settle(self, history: History, adapter: Adapter, venue: str) -> dict[str, OrderView]:
        """Final middleware view of every order placed, after fills have had time to arrive."""
        tags = [str(op.value["client_order_id"]) for op, _ in history.completions("place_order")]

        def venue_filled() -> dict[str, int]:
            filled: dict[str, int] = {}
            for fill in self.http.get(f"{self.control(venue)}/ledger").json().get("fills", []):
                if not fill.get("duplicate_of"):
                    filled[fill["client_tag"]] = filled.get(fill["client_tag"], 0) + int(fill["qty"])
            return filled

        return settle_orders(
            adapter, tags, self.topo.target.slo.fill_visible_s, venue_filled=venue_filled, workers=4
        )

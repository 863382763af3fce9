"""Runs one scenario through its phases (setup, steady, fault, recovery, verdict) against a
running topology, and returns its verdicts with the evidence and the fault timeline."""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from ..adapter import DefaultAdapter
from ..checks import CHECKERS, CheckContext, Verdict
from ..faults import Proxy
from ..history import History
from ..timeline import Timeline
from ..topology import Topology
from .model import Scenario
from .workload import Prober, Trader, start_all

Progress = Callable[[str, str, tuple[str, ...]], None]  # scenario id, phase, active faults
SETTLE_POLL_S = 0.25


class HarnessError(RuntimeError):
    """The harness could not run the scenario: never a verdict on the middleware (exit 3)."""


@dataclass
class ScenarioResult:
    scenario: Scenario
    seed: int
    verdicts: list[Verdict]
    history: History
    timeline: Timeline
    phases: dict[str, float] = field(default_factory=dict)
    started_at: float = field(default_factory=time.time)
    duration_s: float = 0.0
    log_tail: str = ""

    @property
    def passed(self) -> bool:
        return all(v.passed for v in self.verdicts)

    @property
    def reproduce(self) -> str:
        return f"uat reproduce {self.scenario.id} --seed {self.seed}"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.scenario.id,
            "title": self.scenario.title,
            "suite": self.scenario.suite,
            "passed": self.passed,
            "seed": self.seed,
            "duration_s": round(self.duration_s, 2),
            "phases": {k: round(v, 2) for k, v in self.phases.items()},
            "verdicts": [v.to_json() for v in self.verdicts],
            "faults": self.timeline.to_json(),
            "reproduce": self.reproduce,
        }


class ScenarioRunner:
    def __init__(self, topology: Topology, seed: int, progress: Progress | None = None) -> None:
        self.topo = topology
        self.seed = seed
        self.progress = progress or (lambda *_: None)
        self.mocks = topology.stack.describe()["mocks"]
        self.http = httpx.Client(timeout=30, trust_env=False)  # replaced per run, closed after it
        self.http.close()
        self.timeline = Timeline()

    # FaultContext
    def proxy(self, venue: str) -> Proxy:
        return self.topo.stack.plane.client.get_proxy(venue)

    def control(self, venue: str) -> str:
        return str(self.mocks[venue]["control"])

    def run(self, scenario: Scenario) -> ScenarioResult:
        started = time.monotonic()
        self.timeline = timeline = Timeline()
        history = History(timeline.active, started=timeline.started)
        phases: dict[str, float] = {}
        adapter = DefaultAdapter(self.topo.base_url, allowed_hosts=self.topo.target.allowed_hosts)
        self.http = httpx.Client(timeout=30, trust_env=False)
        try:
            phase = self._phase_timer(scenario, timeline, phases)
            with phase("setup"):
                accounts = self._setup(scenario, adapter)
            stop = threading.Event()
            traders = [
                Trader(f"t{i + 1}", account, scenario, self.seed, adapter, history, stop)
                for i, account in enumerate(accounts)
            ]
            join = start_all([*traders, Prober(accounts[0], adapter, history, stop)])
            try:
                with phase("steady"):
                    time.sleep(scenario.steady_s)
                with phase("fault"):
                    self._inject(scenario)
                with phase("recovery"):
                    time.sleep(scenario.recovery_s)
            finally:
                stop.set()
                join()
            with phase("verdict"):
                orders = self._settle(history, adapter)
                ledger = self.http.get(f"{self.control('rithmic')}/ledger").json()
                ctx = CheckContext(
                    history,
                    timeline,
                    adapter,
                    self.topo.target.slo,
                    ledger,
                    {t.name: t.account for t in traders},
                    orders,
                )
                verdicts = [CHECKERS[name](ctx) for name in scenario.checks]
        finally:
            adapter.close()
            self.http.close()
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

    def _setup(self, scenario: Scenario, adapter: DefaultAdapter) -> list[str]:
        """A clean world, a fresh middleware, and `traders` accounts onboarded through Stripe."""
        try:
            self.topo.reset_world()
            self.topo.restart_target()
        except Exception as exc:
            raise HarnessError(f"could not reset the world for {scenario.id}: {exc}") from exc
        self._wait(
            lambda: adapter.health().ok, self.topo.target.slo.recovery_s, "the middleware to be healthy"
        )
        rng = random.Random(f"{self.seed}:{scenario.id}:customers")
        return [
            self._onboard(adapter, f"cus_{rng.getrandbits(56):014x}", index)
            for index in range(scenario.traders)
        ]

    def _onboard(self, adapter: DefaultAdapter, customer: str, index: int) -> str:
        """Checkout and subscription webhooks for a new customer; the account they create."""
        body = {
            "types": ["checkout.session.completed", "customer.subscription.created"],
            "customer": customer,
            "url": f"{self.topo.base_url}/v1/webhooks/stripe",
        }
        self.http.post(f"{self.control('stripe')}/send", json=body).raise_for_status()
        found: list[str] = []

        def onboarded() -> bool:
            outcome = adapter.accounts_for_customer(customer)
            found[:] = (
                outcome.body.get("accounts", []) if outcome.ok and isinstance(outcome.body, dict) else []
            )
            return bool(found)

        self._wait(onboarded, 10, f"trader {index + 1} to be onboarded by the Stripe webhook")
        return found[0]

    def _inject(self, scenario: Scenario) -> None:
        began = time.monotonic()
        pending = sorted(scenario.schedule, key=lambda s: s.at)
        active: list[tuple[float, Any, Any]] = []
        while pending or active:
            now = time.monotonic() - began
            while pending and pending[0].at <= now:
                step = pending.pop(0)
                window = step.apply(self)
                self.progress(scenario.id, "fault", self.timeline.active())
                end = step.at + step.for_s if step.for_s is not None else scenario.fault_s
                active.append((end, step, window))
            for item in [a for a in active if a[0] <= now]:
                active.remove(item)
                item[1].clear(self, item[2])
                self.progress(scenario.id, "fault", self.timeline.active())
            time.sleep(0.02)

    def _settle(self, history: History, adapter: DefaultAdapter) -> dict[str, dict[str, Any]]:
        """Final middleware view of every order placed, after fills have had time to arrive."""
        tags = [str(op.value["client_order_id"]) for op, _ in history.completions("place_order")]
        deadline = time.monotonic() + self.topo.target.slo.fill_visible_s
        ledger_filled: dict[str, int] = {}
        orders: dict[str, dict[str, Any]] = {}
        while True:
            ledger = self.http.get(f"{self.control('rithmic')}/ledger").json()
            ledger_filled = {}
            for fill in ledger.get("fills", []):
                if not fill.get("duplicate_of"):
                    ledger_filled[fill["client_tag"]] = ledger_filled.get(fill["client_tag"], 0) + int(
                        fill["qty"]
                    )
            for tag in tags:
                outcome = adapter.order_status(tag)
                orders[tag] = (
                    outcome.body if outcome.ok and isinstance(outcome.body, dict) else {"status": "missing"}
                )
            behind = [t for t in tags if int(orders[t].get("filled_qty") or 0) < ledger_filled.get(t, 0)]
            unknown = [t for t in tags if str(orders[t].get("status")) in ("unknown", "pending", "sending")]
            if (not behind and not unknown) or time.monotonic() >= deadline:
                return orders
            time.sleep(SETTLE_POLL_S)

    def _wait(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() >= deadline:
                log = self.topo.process.log_tail(30) if self.topo.process else ""
                raise HarnessError(f"timed out after {timeout:g} s waiting for {what}\n{log}")
            time.sleep(0.1)

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
from .faults import FaultStep
from .model import Scenario
from .workload import Prober, Trader, start_all

Progress = Callable[[str, str, tuple[str, ...]], None]  # scenario id, phase, active faults
SETTLE_POLL_S = 0.25
TT_CHECKS = frozenset({"tt_provisioned", "tt_positions_reconcile", "tt_rate_limit_honoured"})
WEBHOOK_CHECKS = frozenset({"webhook_exactly_once", "webhook_authentic", "webhook_state"})


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
        self.adapter: DefaultAdapter | None = None

    # FaultContext
    def proxy(self, venue: str) -> Proxy:
        return self.topo.stack.plane.client.get_proxy(venue)

    def control(self, venue: str) -> str:
        return str(self.mocks[venue]["control"])

    def act(self, step: FaultStep) -> None:
        """A workload event in the fault schedule (see faults.action)."""
        if step.action == "stripe_send":
            self._stripe_send(step)
        elif step.action == "tt_fills":
            self._tt_fills(step)
        else:
            raise HarnessError(f"unknown scenario action {step.action!r}")

    def run(self, scenario: Scenario) -> ScenarioResult:
        started = time.monotonic()
        self.webhook_sends = []
        self.timeline = timeline = Timeline()
        history = History(timeline.active, started=timeline.started)
        phases: dict[str, float] = {}
        adapter = DefaultAdapter(self.topo.base_url, allowed_hosts=self.topo.target.allowed_hosts)
        self.adapter = adapter
        self.http = httpx.Client(timeout=30, trust_env=False)
        try:
            phase = self._phase_timer(scenario, timeline, phases)
            with phase("setup"):
                accounts = self._setup(scenario, adapter)
            stop = threading.Event()
            traders = [
                Trader(f"t{i + 1}", account, scenario, self.seed, adapter, history, stop)
                for i, account in enumerate(accounts)
                if scenario.workload == "orders"
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
                    {f"t{i + 1}": account for i, account in enumerate(accounts)},
                    orders,
                    extras=self._extras(scenario, adapter),
                    psql=self.topo.postgres.psql,
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
            for venue, path, body in scenario.mock_setup:
                self.http.post(f"{self.control(venue)}{path}", json=body).raise_for_status()
            self.topo.restart_target(dict(scenario.target_env))
        except Exception as exc:
            raise HarnessError(f"could not reset the world for {scenario.id}: {exc}") from exc
        self._wait(
            lambda: adapter.health().ok, self.topo.target.slo.recovery_s, "the middleware to be healthy"
        )
        self.rng = rng = random.Random(f"{self.seed}:{scenario.id}:customers")
        self.customers = {}
        for index in range(scenario.traders):
            customer = f"cus_{rng.getrandbits(56):014x}"
            self.customers[self._onboard(adapter, customer, index)] = customer
        self.accounts = list(self.customers)
        return self.accounts

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

    # ------------------------------------------------------------------ actions and verdict inputs
    def _stripe_send(self, step: FaultStep) -> None:
        params = dict(step.params)
        who = params.pop("customer", "new")
        customer = (
            self.customers[self.accounts[0]] if who == "trader" else f"cus_{self.rng.getrandbits(56):014x}"
        )
        body: dict[str, Any] = {
            "types": list(params.pop("types")),
            "customer": customer,
            "url": f"{self.topo.base_url}/v1/webhooks/stripe",
            **params,
        }
        response = self.http.post(f"{self.control('stripe')}/send", json=body, timeout=120)
        response.raise_for_status()
        self.webhook_sends.append(
            {"customer": customer, "faults": list(params.get("faults", ())), **response.json()}
        )

    def _tt_account(self, account: str, timeout: float) -> dict[str, Any]:
        assert self.adapter is not None
        adapter = self.adapter
        info: list[dict[str, Any]] = [{}]

        def provisioned() -> bool:
            outcome = adapter.account(account)
            info[0] = outcome.body if outcome.ok and isinstance(outcome.body, dict) else {}
            return (info[0].get("tt") or {}).get("status") == "provisioned"

        deadline = time.monotonic() + timeout
        while not provisioned() and time.monotonic() < deadline:
            time.sleep(SETTLE_POLL_S)
        return info[0]

    def _tt_fills(self, step: FaultStep) -> None:
        account = self.accounts[0]
        tt_id = (self._tt_account(account, 15).get("tt") or {}).get("account_id")
        if tt_id is None:
            raise HarnessError(f"account {account} was never provisioned at TT; cannot seed TT fills")
        body = {"account": tt_id, **step.params}
        self.http.post(f"{self.control('tt')}/tt/fills", json=body).raise_for_status()

    def _extras(self, scenario: Scenario, adapter: DefaultAdapter) -> dict[str, Any]:
        """What the webhook and TT checkers judge, gathered once the run has settled (bounded waits)."""
        checks = set(scenario.checks)
        extras: dict[str, Any] = {
            "target": self.topo.target.name,
            "customers": dict(self.customers),
            "webhook_sends": self.webhook_sends,
        }
        for step in scenario.schedule:
            if step.fault == "rate_limit_storm":
                extras["tt_retry_after_s"] = float(step.params.get("retry_after", 1))
        if checks & WEBHOOK_CHECKS:
            extras["stripe_events"] = self.http.get(f"{self.control('stripe')}/sent").json()["events"]
            for send in self.webhook_sends:
                outcome = adapter.accounts_for_customer(send["customer"])
                found = outcome.body.get("accounts", []) if isinstance(outcome.body, dict) else []
                send["accounts"] = {a: self._account_view(adapter, a) for a in found}
        if checks & TT_CHECKS:
            customers = dict(self.customers)
            for send in self.webhook_sends:
                customers.update({a: send["customer"] for a in send.get("accounts", {})})
                outcome = adapter.accounts_for_customer(send["customer"])
                if outcome.ok and isinstance(outcome.body, dict):
                    customers.update({a: send["customer"] for a in outcome.body.get("accounts", [])})
            bound = self.topo.target.slo.fill_visible_s
            deadline = time.monotonic() + bound
            extras["admin"] = {
                a: self._tt_account(a, max(0.0, deadline - time.monotonic())) for a in customers
            }
            extras["tt_fault_events"] = self.http.get(
                f"{self.control('tt')}/events", params={"kind": "fault_fired"}
            ).json()["events"]
            extras["tt_positions"], extras["tt_ledger_positions"] = self._settle_tt(
                adapter, extras["admin"], deadline
            )
        return extras

    def _account_view(self, adapter: DefaultAdapter, account: str) -> dict[str, Any]:
        outcome = adapter.account(account)
        return outcome.body if outcome.ok and isinstance(outcome.body, dict) else {"status": outcome.status}

    def _settle_tt(
        self, adapter: DefaultAdapter, admin: dict[str, dict[str, Any]], deadline: float
    ) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, int]]]:
        """TT positions as the middleware and as TT see them, once they agree or the bound passes."""
        tt_ids = {a: str((v.get("tt") or {}).get("account_id")) for a, v in admin.items()}
        while True:
            rows = self.http.get(f"{self.control('tt')}/ledger").json().get("positions", [])
            venue: dict[str, dict[str, int]] = {}
            ours: dict[str, dict[str, int]] = {}
            for account, tt_id in tt_ids.items():
                venue[account] = {
                    r["symbol"]: int(r["net_qty"])
                    for r in rows
                    if str(r["account"]) == tt_id and r["net_qty"]
                }
                outcome = adapter.positions(account)
                body = outcome.body if isinstance(outcome.body, dict) else {}
                ours[account] = {
                    p["symbol"]: int(p["net_qty"])
                    for p in body.get("positions", [])
                    if p.get("venue") == "tt" and p.get("net_qty")
                }
            if ours == venue or time.monotonic() >= deadline:
                return ours, venue
            time.sleep(SETTLE_POLL_S)

    def _wait(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() >= deadline:
                log = self.topo.process.log_tail(30) if self.topo.process else ""
                raise HarnessError(f"timed out after {timeout:g} s waiting for {what}\n{log}")
            time.sleep(0.1)

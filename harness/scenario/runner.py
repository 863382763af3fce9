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

from ..adapters import AccountView, Adapter, OrderView
from ..checks import CHECKERS, CheckContext, Verdict
from ..faults import Proxy
from ..history import History
from ..metrics import MetricsProbe
from ..settle import settle_orders
from ..timeline import Timeline
from ..topology import TargetNotReady, Topology
from .evidence import Measured, event_kinds, measure, shortfall
from .faults import FaultStep
from .model import Scenario
from .result import HarnessError, MiddlewareFault, ScenarioResult
from .statefaults import StateFaults
from .workload import Prober, Trader, start_all

Progress = Callable[[str, str, tuple[str, ...]], None]  # scenario id, phase, active faults
SETTLE_POLL_S = 0.25
ONBOARD_WAIT_S = 10.0
TT_CHECKS = frozenset({"tt_provisioned", "tt_positions_reconcile", "tt_rate_limit_honoured"})
WEBHOOK_CHECKS = frozenset({"webhook_exactly_once", "webhook_authentic", "webhook_state"})


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
        self._senders: list[threading.Thread] = []  # background Stripe sends, joined before the verdict
        self.adapter: Adapter | None = None
        self.state: StateFaults | None = None  # this run's database faults, deployments and sampling

    # FaultContext
    def proxy(self, venue: str) -> Proxy:
        return self.topo.stack.plane.client.get_proxy(venue)

    def control(self, venue: str) -> str:
        return str(self.mocks[venue]["control"])

    def database(self, step: FaultStep) -> None:
        self._state().database(step)

    def release(self, step: FaultStep) -> None:
        self._state().release(step)

    def deploy(self, step: FaultStep) -> None:
        self._state().deploy(step)

    def _state(self) -> StateFaults:
        if self.state is None:
            raise HarnessError("a database or deployment fault outside a scenario's run")
        return self.state

    def act(self, step: FaultStep) -> None:
        """A workload event in the fault schedule (see faults.action)."""
        if step.action == "stripe_send" and step.params.get("background"):
            # retried deliveries that outlast the fault window must not hold the fault player
            sender = threading.Thread(
                target=self._stripe_send, args=(step,), name="uat-stripe-send", daemon=True
            )
            sender.start()
            self._senders.append(sender)
        elif step.action == "stripe_send":
            self._stripe_send(step)
        elif step.action == "tt_fills":
            self._tt_fills(step)
        else:
            raise HarnessError(f"unknown scenario action {step.action!r}")

    def run(self, scenario: Scenario) -> ScenarioResult:
        started = time.monotonic()
        self.webhook_sends = []
        self._senders = []
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
            self.state = state = StateFaults(
                self.topo,
                timeline,
                adapter,
                accounts=accounts,
                env=self.topo.target.setting_env(scenario.settings),
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
            join = start_all([*traders, prober])
            try:
                with phase("steady"):
                    time.sleep(scenario.steady_s)
                span = (timeline.now(), timeline.now())
                with phase("fault"):
                    self._inject(scenario)
                with phase("recovery"):
                    time.sleep(scenario.recovery_s)
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
                    sql_file=self.topo.target.checks_sql,
                    deployments=list(state.deployments),
                )
                verdicts = [CHECKERS[name](ctx) for name in scenario.checks]
                state.diagnose(verdicts, span)
                measured = measure(
                    scenario,
                    history,
                    timeline,
                    venue_fills=ledger.get("fills", []),
                    venue_orders=ledger.get("orders", []),
                    mock_events={
                        venue: [e for kind in kinds for e in self._mock_events(venue, kind)]
                        for venue, kinds in event_kinds(scenario).items()
                    },
                    webhook_sends=self.webhook_sends,
                )
        finally:
            if self.state is not None:
                self.state.close()
                self.state = None
            adapter.close()
            self.http.close()
        return self._result(scenario, verdicts, history, timeline, phases, started, measured)

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

    def _setup(self, scenario: Scenario, adapter: Adapter) -> list[str]:
        """A clean world, a fresh middleware, and `traders` accounts onboarded through Stripe."""
        try:
            self.topo.reset_world()
            for venue, path, body in scenario.mock_setup:
                self.http.post(f"{self.control(venue)}{path}", json=body).raise_for_status()
            self.topo.restart_target(self.topo.target.setting_env(scenario.settings))
        except TargetNotReady as exc:
            raise MiddlewareFault(
                "target_ready",
                f"the middleware did not become ready within {self.topo.target.ready_timeout_s:g} s",
                [{"error": str(exc).splitlines()[0], "log_tail": str(exc)[-2000:]}],
            ) from exc
        except Exception as exc:
            raise HarnessError(f"could not reset the world for {scenario.id}: {exc}") from exc
        self._wait(
            lambda: adapter.health().ok,
            self.topo.target.slo.recovery_s,
            "the middleware to be healthy",
            check="target_ready",
            probe=adapter.health,
        )
        self.rng = rng = random.Random(f"{self.seed}:{scenario.id}:customers")
        self.customers = {}
        for index in range(scenario.traders):
            customer = f"cus_{rng.getrandbits(56):014x}"
            self.customers[self._onboard(adapter, customer, index)] = customer
        self.accounts = list(self.customers)
        return self.accounts

    def _onboard(self, adapter: Adapter, customer: str, index: int) -> str:
        """Checkout and subscription webhooks for a new customer; the account they create."""
        body = {
            "types": ["checkout.session.completed", "customer.subscription.created"],
            "customer": customer,
            "url": self._webhook_url(),
        }
        try:
            sent = self.http.post(f"{self.control('stripe')}/send", json=body)
            sent.raise_for_status()
        except httpx.HTTPError as exc:
            raise HarnessError(f"the Stripe mock could not send onboarding webhooks: {exc}") from exc
        found: list[str] = []

        def onboarded() -> bool:
            found[:] = adapter.accounts_for_customer(customer).accounts or ()
            return bool(found)

        self._wait(
            onboarded,
            ONBOARD_WAIT_S,
            f"trader {index + 1} ({customer}) to be onboarded by the Stripe webhooks",
            check="onboarding",
            probe=lambda: adapter.accounts_for_customer(customer),
            extra={"customer": customer, "deliveries": sent.json().get("deliveries", [])},
        )
        return found[0]

    def _webhook_url(self) -> str:
        url = self.topo.webhook_url("stripe")
        if url is None:
            raise HarnessError("the target file declares no [webhooks] stripe URL; onboarding needs it")
        return url

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

    def _settle(self, history: History, adapter: Adapter) -> dict[str, OrderView]:
        """Final middleware view of every order placed, after fills have had time to arrive."""
        tags = [str(op.value["client_order_id"]) for op, _ in history.completions("place_order")]

        def venue_filled() -> dict[str, int]:
            filled: dict[str, int] = {}
            for fill in self.http.get(f"{self.control('rithmic')}/ledger").json().get("fills", []):
                if not fill.get("duplicate_of"):
                    filled[fill["client_tag"]] = filled.get(fill["client_tag"], 0) + int(fill["qty"])
            return filled

        return settle_orders(
            adapter, tags, self.topo.target.slo.fill_visible_s, venue_filled=venue_filled, workers=4
        )

    # ------------------------------------------------------------------ actions and verdict inputs
    def _stripe_send(self, step: FaultStep) -> None:
        params = dict(step.params)
        params.pop("background", None)
        who = params.pop("customer", "new")
        customer = (
            self.customers[self.accounts[0]] if who == "trader" else f"cus_{self.rng.getrandbits(56):014x}"
        )
        body: dict[str, Any] = {
            "types": list(params.pop("types")),
            "customer": customer,
            "url": self._webhook_url(),
            **params,
        }
        response = self.http.post(f"{self.control('stripe')}/send", json=body, timeout=120)
        response.raise_for_status()
        self.webhook_sends.append(
            {"customer": customer, "faults": list(params.get("faults", ())), **response.json()}
        )

    def _tt_account(self, account: str, timeout: float) -> AccountView:
        """The account as the middleware shows it, once provisioned at TT or the bound passes."""
        assert self.adapter is not None
        adapter = self.adapter
        info = [AccountView(account)]

        def provisioned() -> bool:
            outcome = adapter.account(account)
            info[0] = outcome.account or AccountView(account, raw=outcome.evidence())
            return info[0].tt_status == "provisioned"

        deadline = time.monotonic() + timeout
        while not provisioned() and time.monotonic() < deadline:
            time.sleep(SETTLE_POLL_S)
        return info[0]

    def _tt_fills(self, step: FaultStep) -> None:
        account = self.accounts[0]
        view = self._tt_account(account, self.topo.target.slo.fill_visible_s)
        tt_id = view.tt_account_id if view.tt_status == "provisioned" else None
        if tt_id is None:
            raise MiddlewareFault(
                "tt_provisioned",
                f"account {account} was never provisioned at TT within "
                f"{self.topo.target.slo.fill_visible_s:g} s, so the scenario's TT fills could not be booked",
                [{"account": account, "tt_status": view.tt_status, "answer": view.raw}],
            )
        body = {"account": tt_id, **step.params}
        self.http.post(f"{self.control('tt')}/tt/fills", json=body).raise_for_status()

    def _extras(self, scenario: Scenario, adapter: Adapter) -> dict[str, Any]:
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
                found = adapter.accounts_for_customer(send["customer"]).accounts or ()
                send["accounts"] = {a: self._account_view(adapter, a) for a in found}
        if checks & TT_CHECKS:
            customers = dict(self.customers)
            for send in self.webhook_sends:
                customers.update({a: send["customer"] for a in send.get("accounts", {})})
                found = adapter.accounts_for_customer(send["customer"]).accounts or ()
                customers.update({a: send["customer"] for a in found})
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

    def _account_view(self, adapter: Adapter, account: str) -> AccountView:
        outcome = adapter.account(account)
        return outcome.account or AccountView(account, raw=outcome.evidence())

    def _settle_tt(
        self, adapter: Adapter, admin: dict[str, AccountView], deadline: float
    ) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, int]]]:
        """TT positions as the middleware and as TT see them, once they agree or the bound passes."""
        tt_ids = {a: str(v.tt_account_id) for a, v in admin.items()}
        while True:
            rows = self.http.get(f"{self.control('tt')}/ledger").json().get("positions", [])
            venue: dict[str, dict[str, int]] = {}
            ours: dict[str, dict[str, int]] = {}
            for account, tt_id in tt_ids.items():
                venue[account] = {
                    r["symbol"]: int(r["net_qty"])
                    for r in rows
                    if str(r["account"]) == tt_id  # a flat position is still evidence of fills
                }
                shown = adapter.positions(account).positions or ()
                ours[account] = {p.symbol: p.net_qty for p in shown if p.venue == "tt" and p.net_qty}
            nonzero = {a: {k: q for k, q in pos.items() if q} for a, pos in venue.items()}
            if ours == nonzero or time.monotonic() >= deadline:
                return ours, venue
            time.sleep(SETTLE_POLL_S)

    def _wait(
        self,
        predicate: Callable[[], bool],
        timeout: float,
        what: str,
        *,
        check: str,
        probe: Callable[[], Any],
        extra: dict[str, Any] | None = None,
    ) -> None:
        """Wait for the middleware; past the bound it has failed `check`, with the last answer."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() >= deadline:
                last = probe()
                raise MiddlewareFault(
                    check,
                    f"timed out after {timeout:g} s waiting for {what}",
                    [{**(extra or {}), "last_answer": last.evidence(), "waited_s": timeout}],
                )
            time.sleep(0.1)

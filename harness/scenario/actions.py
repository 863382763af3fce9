"""The workload actions a fault schedule performs (a Stripe send, TT fills seeded at the venue) and
what the webhook and TT checkers judge, gathered once a run has settled: the scenario runner's
venue-facing half, kept apart from its phases."""

from __future__ import annotations

import time
from typing import Any

import httpx

from ..adapters import AccountView, Adapter
from ..topology import Topology
from .faults import FaultStep
from .model import Scenario
from .result import MiddlewareFault

SETTLE_POLL_S = 0.25
TT_CHECKS = frozenset({"tt_provisioned", "tt_positions_reconcile", "tt_rate_limit_honoured"})
WEBHOOK_CHECKS = frozenset({"webhook_exactly_once", "webhook_authentic", "webhook_state"})


class WorkloadActions:
    """Mixed into ScenarioRunner, which sets these for each run."""

    topo: Topology
    http: httpx.Client
    adapter: Adapter | None
    accounts: list[str]
    customers: dict[str, str]
    webhook_sends: list[dict[str, Any]]
    rng: Any  # random.Random, seeded per scenario

    def control(self, venue: str) -> str:
        raise NotImplementedError

    def _webhook_url(self) -> str:
        raise NotImplementedError

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

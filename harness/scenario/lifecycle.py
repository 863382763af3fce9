"""The `lifecycle` action: funded traders taken through the whole chain, as they would go in
production. Stripe pays (a funded checkout), the middleware hands it to the bus, the bus creates the
contract at DocuSign, the trader signs it there, and the middleware provisions MT5, the deposit,
Rippling and trading. Later steps pay them out (`lifecycle_payout`) or cancel them (`lifecycle_cancel`).

The harness plays only the outside world (Stripe, the trader, the back office); every hop between is
the target's. Each wait is bounded by the target's `[lifecycle] provisioned_s`, and a wait that runs
out is not an error of ours: the checkers then find the broken hop in the ledgers. Orders are tried
before the signature (they must be refused) and after provisioning (they should be taken).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

import httpx

from mocks.docusign.connect import ConnectEvent, signature_headers
from mocks.zapier.runs import FINAL  # a bus run that will not change again

from ..adapters import Adapter
from ..lifecycle import Expected, Payout, Snapshot, join, money
from ..lifecycle.gather import LEDGERS, gather
from ..lifecycle.model import AWAITING_SIGNATURE
from ..topology import Topology
from .faults import FaultStep
from .model import Scenario

POLL_S = 0.1
LIFECYCLE_CHECKS = frozenset(
    {
        "lifecycle_provisioned_once",
        "lifecycle_balances",
        "lifecycle_no_double_deal",
        "lifecycle_no_trading_before_signature",
        "lifecycle_cancelled",
    }
)


@dataclass
class LifecycleRun:
    """What the run did to each funded trader (customer -> Expected), and the orders it tried."""

    traders: dict[str, Expected] = field(default_factory=dict)
    probes: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # waits that ran out, in order
    sends: list[dict[str, Any]] = field(default_factory=list)  # the funded checkouts' Stripe sends


class LifecycleActions:
    """Mixed into ScenarioRunner, which sets these for each run."""

    topo: Topology
    http: httpx.Client
    adapter: Adapter | None
    scenario: Scenario | None
    webhook_sends: list[dict[str, Any]]
    rng: Any  # random.Random, seeded per scenario
    life: LifecycleRun

    def control(self, venue: str) -> str:
        raise NotImplementedError

    def _webhook_url(self) -> str:
        raise NotImplementedError

    # -- the action ------------------------------------------------------------------
    def _lifecycle(self, step: FaultStep) -> None:
        spec = self.topo.target.lifecycle
        assert spec is not None and self.adapter is not None
        params = step.params
        bound = float(params.get("within_s", spec.provisioned_s))
        deposit = money(params.get("deposit", spec.deposit))
        made = [self._checkout(deposit) for _ in range(int(params.get("traders", 2)))]
        self._life_wait(
            f"{len(made)} contract(s) sent", bound, lambda: all(self._contract_sent(t) for t in made)
        )
        for trader in made:
            self._probe(trader, "before_signature")
        if params.get("replay"):
            self._replay(made, bound)
        if params.get("forge"):
            self._forge(made)
            time.sleep(float(params.get("forge_wait_s", 1.0)))  # what a trusting build would do, it does now
            for trader in made:
                self._probe(trader, "after_forgery")
        sign = str(params.get("sign", "complete"))
        if sign == "none":
            return
        for trader in made:
            self._sign(trader, sign)
        if sign != "complete":
            time.sleep(float(params.get("settle_s", 1.0)))
            for trader in made:
                self._probe(trader, "after_decline")
            return
        self._life_wait(
            f"{len(made)} trader(s) provisioned", bound, lambda: all(self._provisioned(t) for t in made)
        )
        for trader in made:
            self._probe(trader, "after_provisioning")

    def _lifecycle_later(self, step: FaultStep) -> None:
        """`lifecycle_payout` or `lifecycle_cancel`, for every trader of the run who signed: a step of
        its own, so that a fault armed after onboarding hits the payout, not the deposit."""
        spec = self.topo.target.lifecycle
        assert spec is not None
        bound = float(step.params.get("within_s", spec.provisioned_s))
        signed = [c for c, t in self.life.traders.items() if t.signs]
        if step.action == "lifecycle_payout":
            amount, repeats = str(step.params.get("amount", "1500.00")), int(step.params.get("repeats", 1))
            self._payouts(signed, amount, repeats, bound)
        else:
            self._cancel(signed, bound)

    # -- the outside world's moves ---------------------------------------------------
    def _checkout(self, deposit: Decimal) -> str:
        customer = f"cus_{self.rng.getrandbits(56):014x}"
        name = f"Funded {customer[-6:].upper()}"
        email = f"{customer}@funded.uat.test"
        body = {
            "types": ["checkout.session.completed", "customer.subscription.created"],
            "customer": customer,
            "url": self._webhook_url(),
            "metadata": {"program": "funded", "name": name, "email": email, "deposit": str(deposit)},
        }
        answer = self.http.post(f"{self.control('stripe')}/send", json=body, timeout=120)
        answer.raise_for_status()
        send = {"customer": customer, "faults": [], **answer.json()}
        self.webhook_sends.append(send)
        self.life.sends.append(send)
        self.life.traders[customer] = Expected(customer, email, name, deposit, signs=False)
        return customer

    def _sign(self, customer: str, action: str) -> None:
        """The trader opens the email and signs (or declines) every live envelope sent to them."""
        for envelope in self._envelopes(customer):
            if envelope.get("status") in AWAITING_SIGNATURE:
                self.http.post(
                    f"{self.control('docusign')}/docusign/envelopes/{envelope['envelope_id']}/{action}"
                ).raise_for_status()
        trader = self.life.traders[customer]
        signed = action == "complete"
        self.life.traders[customer] = replace(
            trader, signs=signed, declined=action == "decline", signed_at=time.time() if signed else None
        )

    def _forge(self, customers: list[str]) -> None:
        """Someone posts `envelope-completed` for each unsigned envelope, signed with keys that are not
        the account's: a build that trusts it lets the trader trade before signing."""
        url = self.topo.webhook_url("docusign")
        assert url is not None
        facts = self.topo.values["mocks"]["docusign"]
        for customer in customers:
            for envelope in self._envelopes(customer):
                event = ConnectEvent(
                    event_id=f"{envelope['envelope_id']}:envelope-completed",
                    event="envelope-completed",
                    envelope_id=str(envelope["envelope_id"]),
                    account_id=str(facts["account_id"]),
                    user_id=str(facts["user_id"]),
                    generated_at=time.strftime("%Y-%m-%dT%H:%M:%S.0000000Z", time.gmtime()),
                    summary={"status": "completed", "envelopeId": envelope["envelope_id"]},
                )
                body = event.body(configuration_id=1, retry_count=0)
                headers = {
                    "Content-Type": "application/json",
                    **signature_headers(facts["hmac_keys"], body, True),
                }
                answer = self.http.post(url, content=body, headers=headers)
                self.life.probes.append(
                    {"customer": customer, "phase": "forged_event", "status": answer.status_code}
                )

    def _replay(self, customers: list[str], bound: float) -> None:
        """The bus replays each trader's Zap run from its task history, as an operator fixing a
        failed run would: every step again, the contract included."""
        runs = self._runs()
        replays = 0
        for customer in customers:
            email = self.life.traders[customer].email
            mine = [r for r in runs if customer in str(r.get("trigger")) or email in str(r.get("trigger"))]
            if mine:
                answer = self.http.post(f"{self.control('zapier')}/zapier/runs/{mine[0]['run_id']}/replay")
                replays += answer.status_code == 201
        self._life_wait(
            f"{replays} replayed run(s) finished",
            bound,
            lambda: sum(1 for r in self._runs() if r.get("replay_of") and r.get("state") in FINAL) >= replays,
        )

    def _payouts(self, customers: list[str], amount: str, repeats: int, bound: float) -> None:
        assert self.adapter is not None
        for customer in customers:
            payout_id = f"po_{self.rng.getrandbits(40):010x}"
            outcomes = [self.adapter.payout(customer, payout_id, amount) for _ in range(max(1, repeats))]
            accepted = any(o.type == "ok" for o in outcomes)
            trader = self.life.traders[customer]
            payout = Payout(payout_id, money(amount), accepted)
            self.life.traders[customer] = replace(trader, payouts=(*trader.payouts, payout))
            self.life.probes.append(
                {
                    "customer": customer,
                    "phase": "payout",
                    "payout_id": payout_id,
                    "answers": [o.evidence() for o in outcomes],
                }
            )
        self._life_wait(
            "payouts booked",
            bound,
            lambda: all(len(c.withdrawals) >= len(c.trader.payouts) for c in self._chains(customers)),
        )

    def _cancel(self, customers: list[str], bound: float) -> None:
        for customer in customers:
            body = {
                "types": ["customer.subscription.deleted"],
                "customer": customer,
                "url": self._webhook_url(),
            }
            answer = self.http.post(f"{self.control('stripe')}/send", json=body, timeout=120)
            answer.raise_for_status()
            self.webhook_sends.append({"customer": customer, "faults": [], **answer.json()})
            self.life.traders[customer] = replace(self.life.traders[customer], cancelled=True)
        self._life_wait(
            "cancellations applied",
            bound,
            lambda: all(
                c.trading_enabled() is False and not c.active_workers for c in self._chains(customers)
            ),
        )

    def _probe(self, customer: str, phase: str) -> None:
        """One market order on each of the trader's accounts: before the signature it must be refused."""
        assert self.adapter is not None and self.scenario is not None
        found = self.adapter.accounts_for_customer(customer).accounts or ()
        for account in found:
            tag = f"lc{self.rng.getrandbits(40):010x}"
            outcome = self.adapter.place_order(
                account=account,
                symbol=self.scenario.symbols[0],
                side="BUY",
                qty=1,
                order_type="MARKET",
                client_order_id=tag,
            )
            self.life.probes.append(
                {
                    "customer": customer,
                    "account": account,
                    "phase": phase,
                    "client_order_id": tag,
                    "at": time.time(),
                    "outcome": outcome.type,
                    "status": outcome.status,
                    "answer": outcome.evidence(),
                }
            )
        if not found:
            self.life.probes.append({"customer": customer, "phase": phase, "outcome": "no_account"})

    def _lifecycle_extras(self, scenario: Scenario) -> dict[str, Any]:
        """What the lifecycle checkers judge: every system's records of the run's funded traders."""
        if not LIFECYCLE_CHECKS & set(scenario.checks):
            return {}
        snapshot = self.lifecycle_snapshot(sql=True)
        snapshot.notes = list(self.life.notes)
        return {
            "lifecycle": snapshot,
            "lifecycle_probes": list(self.life.probes),
            "lifecycle_notes": list(self.life.notes),
        }

    # -- reading the world -------------------------------------------------------------
    def _life_ledger(self, venue: str) -> dict[str, Any]:
        body: dict[str, Any] = self.http.get(f"{self.control(venue)}/ledger").json()
        return body

    def _envelopes(self, customer: str) -> list[dict[str, Any]]:
        email = self.life.traders[customer].email
        return [
            e
            for e in self._life_ledger("docusign").get("envelopes", [])
            if any(str(r.get("email", "")).lower() == email for r in e.get("recipients", ()))
        ]

    def _runs(self) -> list[dict[str, Any]]:
        runs: list[dict[str, Any]] = self.http.get(f"{self.control('zapier')}/zapier/runs").json()["runs"]
        return runs

    def _contract_sent(self, customer: str) -> bool:
        """An envelope is out to the trader, and the bus has finished every run about them."""
        email = self.life.traders[customer].email
        runs = [
            r for r in self._runs() if customer in str(r.get("trigger")) or email in str(r.get("trigger"))
        ]
        live = [e for e in self._envelopes(customer) if e.get("status") in AWAITING_SIGNATURE]
        return bool(live) and bool(runs) and all(r.get("state") in FINAL for r in runs)

    def _chains(self, customers: list[str]) -> list[Any]:
        assert self.adapter is not None
        snapshot = self.lifecycle_snapshot([self.life.traders[c] for c in customers])
        return join(snapshot)

    def _provisioned(self, customer: str) -> bool:
        """The ledgers hold the trader's login, deposit and worker, trading is on, and where the
        middleware shows its own view, that view has caught up: a create that landed after its client
        gave up is in Rippling before the middleware has looked it up."""
        (chain,) = self._chains([customer])
        if not (chain.mt5_users and chain.deposits and chain.workers and chain.trading_enabled()):
            return False
        view = chain.middleware if isinstance(chain.middleware, dict) else {}
        logins = {u.get("login") for u in chain.mt5_users}
        workers = {w.get("id") for w in chain.workers}
        return ("mt5_login" not in view or view["mt5_login"] in logins) and (
            "rippling_worker_id" not in view or view["rippling_worker_id"] in workers
        )

    def lifecycle_snapshot(self, traders: list[Expected] | None = None, sql: bool = False) -> Snapshot:
        """Every system's records of the run's funded traders (and, with `sql`, the target's
        `lifecycle.*` queries run on its database)."""
        assert self.adapter is not None
        mocks = self.topo.values["mocks"]
        controls = {name: str(facts["control"]) for name, facts in mocks.items() if name in LEDGERS}
        chosen = list(self.life.traders.values()) if traders is None else traders
        return gather(
            self.http,
            controls,
            self.adapter,
            chosen,
            sql_file=self.topo.target.checks_sql if sql else None,
            psql=self.topo.postgres.psql if sql else None,
        )

    def _life_wait(self, what: str, bound: float, done: Callable[[], bool]) -> None:
        deadline = time.monotonic() + bound
        while not done():
            if time.monotonic() >= deadline:
                self.life.notes.append(f"{what}: not within {bound:g} s")
                return
            time.sleep(POLL_S)

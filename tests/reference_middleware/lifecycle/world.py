"""A funded trader's world for the lifecycle tests: the four mocks of the chain, the Zap loaded, the
middleware's Connect URL registered, and the reads each test judges by (the mocks' ledgers)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..conftest import Env, wait_for

CHAIN = ("mt5", "docusign", "rippling", "zapier")
HOOK = "funded-checkout"


def ctl(env: Env, venue: str) -> str:
    return str(env.mocks[venue]["control"])


def prepare(env: Env) -> None:
    """Before a middleware start: the chain's mocks reset, quick retries, the Zap and listener in place."""
    for venue in CHAIN:
        env.http.post(f"{ctl(env, venue)}/reset").raise_for_status()
    quick = {"base_delay_ms": 100, "max_delay_ms": 400}
    env.http.put(f"{ctl(env, 'docusign')}/docusign/retry", json=quick).raise_for_status()
    env.http.put(f"{ctl(env, 'zapier')}/zapier/retry", json={"base_delay_ms": 200}).raise_for_status()
    env.topo.wire_lifecycle()  # the target's [lifecycle] Zap and its Connect listener, after the reset


def start(env: Env, mutants: str = "", extra_env: dict[str, str] | None = None) -> None:
    env.restart(mutants, extra_env=extra_env, before_start=lambda: prepare(env))


@dataclass
class Funded:
    """One funded trader: checkout through the Stripe mock, then what each venue holds of them."""

    env: Env
    customer: str
    deposit: str = "25000.00"

    @classmethod
    def checkout(cls, env: Env, deposit: str = "25000.00") -> Funded:
        tag = uuid.uuid4().hex[:10]
        trader = cls(env, f"cus_f{tag}", deposit)
        meta = {"program": "funded", "name": f"Fay {tag}", "email": trader.email, "deposit": deposit}
        sent = env.stripe_send(
            ["checkout.session.completed", "customer.subscription.created"], trader.customer, metadata=meta
        )
        assert all(d["status"] == 200 for d in sent["deliveries"]), sent
        return trader

    @property
    def email(self) -> str:
        return f"{self.customer.removeprefix('cus_')}@funded.test"

    @property
    def account(self) -> str:
        return "ACC-" + self.customer.removeprefix("cus_")

    def view(self) -> dict[str, Any]:
        answer = self.env.http.get(f"{self.env.base}/v1/lifecycle/{self.customer}")
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result

    def wait(self, ok: Callable[[dict[str, Any]], bool], timeout: float = 20.0) -> dict[str, Any]:
        return wait_for(self.view, ok, timeout, 0.2)

    def trading(self) -> bool:
        return bool(self.env.account_info(self.account).json()["trading_enabled"])

    # -- the venues' truth --------------------------------------------------------------------
    def envelopes(self) -> list[dict[str, Any]]:
        rows = self.env.ledger(ctl(self.env, "docusign"))["envelopes"]
        return [e for e in rows if any(r.get("email") == self.email for r in e.get("recipients", []))]

    def sign(self, envelope_id: str) -> int:
        return self.env.http.post(
            f"{ctl(self.env, 'docusign')}/docusign/envelopes/{envelope_id}/complete"
        ).status_code

    def mt5_users(self) -> list[dict[str, Any]]:
        return [u for u in self.env.ledger(ctl(self.env, "mt5"))["users"] if u.get("email") == self.email]

    def mt5_deals(self, prefix: str) -> list[dict[str, Any]]:
        logins = {u["login"] for u in self.mt5_users()}
        deals = self.env.ledger(ctl(self.env, "mt5"))["deals"]
        return [d for d in deals if d["login"] in logins and d["comment"].startswith(prefix)]

    def deposits(self) -> list[Decimal]:
        return [Decimal(d["amount"]) for d in self.mt5_deals("fund:")]

    def workers(self) -> list[dict[str, Any]]:
        rows = self.env.ledger(ctl(self.env, "rippling"))["workers"]
        return [w for w in rows if w.get("work_email") == self.email]

    def pay_items(self) -> list[dict[str, Any]]:
        rows = self.env.ledger(ctl(self.env, "rippling"))["pay_items"]
        return [p for p in rows if p.get("reference", "").startswith(self.customer)]

    def runs(self) -> list[dict[str, Any]]:
        runs = self.env.http.get(f"{ctl(self.env, 'zapier')}/zapier/runs", params={"zap": HOOK}).json()[
            "runs"
        ]
        return [r for r in runs if r["trigger"].get("customer") == self.customer]

    def signed_and_provisioned(self, timeout: float = 30.0) -> dict[str, Any]:
        """Wait for the contract, sign it, wait for provisioning; returns the lifecycle view."""
        sent = self.wait(lambda v: v["contract"]["status"] in ("sent", "delivered"))
        assert sent["contract"]["envelope_id"], (sent, self.env.log())
        assert self.sign(sent["contract"]["envelope_id"]) == 200
        done = self.wait(lambda v: v["provisioned"], timeout)
        assert done["provisioned"], (done, self.env.log())
        return done

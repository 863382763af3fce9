"""Lifecycle snapshots built in the mocks' own ledger shapes (DocuSign envelopes, MT5 users and
deals, Rippling workers and pay items, Zapier runs, Stripe events): JSON fixtures of what each
system would hold, for the pure functions that judge them (checkers, the investigator)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from harness.lifecycle import Expected, Payout, Snapshot


class World:
    """A snapshot under construction: `healthy(...)` adds a trader whose every record is right; the
    other methods add what a broken middleware would have left."""

    def __init__(self) -> None:
        self.snapshot = Snapshot(traders=[])
        self._n = 0

    def _next(self) -> int:
        self._n += 1
        return self._n

    def trader(
        self, customer: str, *, deposit: str = "25000.00", signs: bool = True, **extra: Any
    ) -> Expected:
        trader = Expected(
            customer,
            f"{customer}@funded.uat.test",
            f"Funded {customer}",
            Decimal(deposit),
            signs=signs,
            **extra,
        )
        self.snapshot.traders.append(trader)
        return trader

    def checkout(self, t: Expected) -> None:
        checkout = {"customer": t.customer, "metadata": {"program": "funded", "email": t.email}}
        event = {"id": f"evt_{self._next()}", "type": "checkout.session.completed", "created": 1}
        self.snapshot.stripe_events.append({**event, "data": {"object": checkout}})

    def run(self, t: Expected, state: str = "success", replay_of: str | None = None) -> None:
        self.snapshot.zap_runs.append(
            {"run_id": f"run_{self._next()}", "zap_id": "funded", "hook": "funded-checkout", "state": state,
             "trigger": {"customer": t.customer, "email": t.email}, "replay_of": replay_of, "error": None}
        )  # fmt: skip

    def envelope(self, t: Expected, status: str = "completed", at: float = 100.0) -> str:
        envelope_id = f"env-{self._next()}"
        history = [{"status": "sent", "at": at - 10, "event": "envelope-sent"}]
        if status != "sent":
            history.append({"status": status, "at": at, "event": f"envelope-{status}"})
        self.snapshot.envelopes.append(
            {"envelope_id": envelope_id, "status": status, "created_at": at - 10, "history": history,
             "recipients": [{"email": t.email, "name": t.name, "role_name": "Trader", "status": status}]}
        )  # fmt: skip
        return envelope_id

    def login(self, t: Expected, balance: str, **extra: Any) -> int:
        login = 600000 + self._next()
        self.snapshot.mt5_users.append(
            {"login": login, "name": t.name, "group": "real", "balance": balance, "email": t.email, **extra}
        )
        return login

    def deal(self, login: int, amount: str, comment: str = "") -> None:
        n = self._next()
        self.snapshot.mt5_deals.append(
            {
                "deal": 1000 + n,
                "login": login,
                "action": 2,
                "amount": amount,
                "comment": comment,
                "time_msc": n,
            }
        )

    def worker(self, t: Expected, status: str = "ACTIVE") -> str:
        worker_id = f"w{self._next()}"
        self.snapshot.workers.append(
            {"id": worker_id, "work_email": t.email, "status": status, "external_id": t.customer}
        )
        return worker_id

    def pay_item(self, worker_id: str, amount: str, reference: str) -> None:
        self.snapshot.pay_items.append(
            {"id": f"pi{self._next()}", "worker_id": worker_id, "amount": amount, "reference": reference}
        )

    def accounts(self, t: Expected, enabled: bool | None) -> None:
        self.snapshot.accounts[t.customer] = [{"account": f"A-{t.customer}", "trading_enabled": enabled}]

    def healthy(self, customer: str, *, payouts: tuple[str, ...] = (), cancelled: bool = False) -> Expected:
        """A trader whose every record is right: paid, one contract signed, one login with the deposit
        and each payout booked once, one worker, trading on (off once cancelled)."""
        paid = tuple(Payout(f"po_{customer}_{n}", Decimal(a)) for n, a in enumerate(payouts))
        t = self.trader(customer, payouts=paid, cancelled=cancelled)
        self.checkout(t)
        self.run(t)
        self.envelope(t)
        balance = t.deposit - t.paid_out
        login = self.login(t, f"{balance:.2f}", enabled=not cancelled)
        self.deal(login, f"{t.deposit:.2f}", "funding")
        worker = self.worker(t, "TERMINATED" if cancelled else "ACTIVE")
        for payout in paid:
            self.deal(login, f"{-payout.amount:.2f}", payout.payout_id)
            self.pay_item(worker, f"{payout.amount:.2f}", payout.payout_id)
        self.accounts(t, not cancelled)
        return t

"""Snapshots built by hand in the ledgers' own JSON shapes (the mocks' control APIs: Stripe events,
Zap runs, DocuSign envelopes, MT5 users and deals, Rippling workers and pay items): fixtures of
ledgers, not mocks of behaviour. `World.trader` books what a correct middleware leaves behind for a
trader; a test then breaks one record the way a buggy middleware would.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from harness.lifecycle.investigate import investigate
from harness.lifecycle.model import Snapshot
from harness.lifecycle.report import Report, TraderReport

T0 = 1_760_000_000.0
ALICE = "cus_alice"
Record = dict[str, Any]


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


class World:
    """One snapshot's JSON, grown trader by trader."""

    def __init__(self, *, view: bool = True) -> None:
        self.doc: dict[str, Any] = {
            "version": 1,
            "traders": [],
            "stripe_events": [],
            "envelopes": [],
            "mt5_users": [],
            "mt5_deals": [],
            "workers": [],
            "pay_items": [],
            "zap_runs": [],
            "middleware": {},
            "accounts": {},
            "sql": [],
            "missing": [],
        }
        self.view = view
        self._n = 0
        self._users: dict[int, Record] = {}  # login -> its record, to book deals on

    def _next(self) -> int:
        self._n += 1
        return self._n

    def trader(
        self,
        name: str,
        *,
        signs: bool = True,
        deposit: str = "25000.00",
        payouts: tuple[tuple[str, str], ...] = (),
        refused: tuple[tuple[str, str], ...] = (),
        cancelled: bool = False,
    ) -> str:
        """Book everything a correct middleware leaves for one trader; returns the customer id."""
        n = self._next()
        customer, email = f"cus_{name}", f"{name}@uat.test"
        at = T0 + n
        self.doc["traders"].append(
            {
                "customer": customer,
                "email": email,
                "name": name.title(),
                "deposit": deposit,
                "signs": signs,
                "payouts": [{"payout_id": p, "amount": a, "accepted": True} for p, a in payouts]
                + [{"payout_id": p, "amount": a, "accepted": False} for p, a in refused],
                "cancelled": cancelled,
                "signed_at": at + 3 if signs else None,
            }
        )
        event = self.checkout(customer, email, deposit)
        self.run(event, f"run_{n}a")
        envelope = self.envelope(email, name, f"env-{n:04d}", "completed" if signs else "declined", at)
        view: Record = {"contract": {"envelope_id": envelope["envelope_id"]}}
        trading = False
        if signs:
            login = 5000 + n
            self.user(login, email, name, enabled=not cancelled)
            self.deal(login, Decimal(deposit), f"deposit {customer}")
            worker = self.worker(f"{n:024x}", email, name, customer, terminated=cancelled)
            for payout_id, amount in payouts:
                self.deal(login, -Decimal(amount), f"payout {payout_id}")
                self.pay_item(worker["id"], amount, payout_id)
            view |= {"mt5_login": login, "rippling_worker_id": worker["id"]}
            trading = not cancelled
            self.doc["accounts"][customer] = [{"account": f"MT5-{login}", "trading_enabled": trading}]
        else:
            self.doc["accounts"][customer] = []
        if self.view:
            self.doc["middleware"][customer] = view
        return customer

    # -- one record each, in its ledger's shape -----------------------------------------
    def checkout(self, customer: str, email: str, deposit: str) -> Record:
        event = {
            "id": f"evt_{customer}",
            "object": "event",
            "api_version": "2024-06-20",
            "created": int(T0),
            "data": {
                "object": {
                    "id": f"cs_test_{customer}",
                    "object": "checkout.session",
                    "customer": customer,
                    "customer_details": {"email": email},
                    "metadata": {"deposit": deposit},
                    "payment_status": "paid",
                }
            },
            "livemode": False,
            "type": "checkout.session.completed",
        }
        self.doc["stripe_events"].append(event)
        return event

    def run(self, trigger: Any, run_id: str, state: str = "success", replay_of: str | None = None) -> Record:
        run = {
            "run_id": run_id,
            "zap_id": "onboarding",
            "hook": "hooks/catch/1/onboarding",
            "trigger": trigger,
            "state": state,
            "attempts": [],
            "steps_done": ["envelope", "middleware"] if state == "success" else [],
            "faults": [],
            "replay_of": replay_of,
            "duplicate_of": None,
            "error": None if state == "success" else "step middleware: HTTP 500 after 3 attempts",
            "received_at": T0,
            "finished_at": T0 + 1,
        }
        self.doc["zap_runs"].append(run)
        return run

    def envelope(self, email: str, name: str, envelope_id: str, status: str, at: float) -> Record:
        path = {"completed": ("sent", "delivered", "completed"), "declined": ("sent", "declined")}.get(
            status, ("sent",) if status != "created" else ()
        )
        history = [{"status": "created", "at": at, "event": None, "suppressed_by": None}]
        history += [
            {"status": s, "at": at + i + 1, "event": f"envelope-{s}", "suppressed_by": None}
            for i, s in enumerate(path)
        ]
        if status == "voided":
            history.append(
                {"status": "voided", "at": at + 2, "event": "envelope-voided", "suppressed_by": None}
            )
        envelope = {
            "envelope_id": envelope_id,
            "template_id": "tpl-funded-trader",
            "email_subject": "Your trader agreement",
            "recipients": [
                {
                    "recipient_id": "1",
                    "recipient_guid": f"guid-{envelope_id}",
                    "role_name": "Trader",
                    "name": name.title(),
                    "email": email,
                    "status": status,
                    "sent_at": at + 1,
                    "delivered_at": None,
                    "signed_at": at + 3 if status == "completed" else None,
                    "declined_at": None,
                    "declined_reason": None,
                }
            ],
            "status": status,
            "created_at": at,
            "history": history,
            "voided_reason": "replaced" if status == "voided" else None,
        }
        self.doc["envelopes"].append(envelope)
        return envelope

    def user(self, login: int, email: str, name: str, *, enabled: bool = True) -> Record:
        user = {
            "login": login,
            "name": name.title(),
            "group": "demo\\funded",
            "leverage": 100,
            "balance": "0.00",
            "credit": "0.00",
            "registration": int(T0),
            "email": email,
            "extra": {"Email": email},
            "rights": 1 if enabled else 0,
            "enabled": enabled,
        }
        self.doc["mt5_users"].append(user)
        self._users[login] = user
        return user

    def deal(self, login: int, amount: Decimal, comment: str, *, book: bool = True) -> Record:
        """A balance deal; with `book`, the user's balance moves with it, as MT5 keeps them equal."""
        deal = {
            "deal": 100 + len(self.doc["mt5_deals"]),
            "login": login,
            "action": 2,
            "amount": _money(amount),
            "comment": comment,
            "time_msc": int(T0 * 1000) + len(self.doc["mt5_deals"]),
            "dealer": 1001,
        }
        self.doc["mt5_deals"].append(deal)
        user = self._users.get(login)
        if book and user is not None:
            user["balance"] = _money(Decimal(user["balance"]) + amount)
        return deal

    def worker(
        self, worker_id: str, email: str, name: str, customer: str, *, terminated: bool = False
    ) -> Record:
        worker = {
            "id": worker_id,
            "first_name": name.title(),
            "last_name": "Trader",
            "work_email": email,
            "worker_type": "CONTRACTOR",
            "status": "TERMINATED" if terminated else "ACTIVE",
            "external_id": customer,
            "title": "Funded trader",
            "start_date": "2025-10-09",
            "termination_date": "2025-11-01" if terminated else None,
            "created_at": T0,
            "updated_at": T0,
        }
        self.doc["workers"].append(worker)
        return worker

    def pay_item(self, worker_id: str, amount: str, reference: str) -> Record:
        item = {
            "id": f"pi{len(self.doc['pay_items']):022x}",
            "worker_id": worker_id,
            "amount": amount,
            "currency": "USD",
            "type": "PAYOUT",
            "reference": reference,
            "memo": f"payout {reference}",
            "status": "PENDING",
            "created_at": T0,
        }
        self.doc["pay_items"].append(item)
        return item

    # -- reading and breaking ----------------------------------------------------------
    def find(self, ledger: str, **match: Any) -> list[Record]:
        return [r for r in self.doc[ledger] if all(r.get(k) == v for k, v in match.items())]

    def one(self, ledger: str, **match: Any) -> Record:
        (found,) = self.find(ledger, **match)
        return found

    def drop(self, ledger: str, **match: Any) -> None:
        self.doc[ledger] = [r for r in self.doc[ledger] if not all(r.get(k) == v for k, v in match.items())]

    def again(self, ledger: str, record: Record, **changes: Any) -> Record:
        """A second copy of a record, as a blind retry books it."""
        twin = copy.deepcopy(record) | changes
        self.doc[ledger].append(twin)
        return twin

    def snapshot(self) -> Snapshot:
        return Snapshot.from_json(copy.deepcopy(self.doc))

    def report(self) -> Report:
        return investigate(self.snapshot())


def alice(*, cancelled: bool = False) -> World:
    """One healthy trader, signed, funded and paid out once (po_1, 500.00)."""
    world = World()
    world.trader("alice", payouts=(("po_1", "500.00"),), cancelled=cancelled)
    return world


def verdict(world: World) -> TraderReport:
    """The verdict of a world's only trader."""
    (trader,) = world.report().traders
    return trader

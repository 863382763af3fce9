"""One trader's records across every system of the lifecycle, joined by what each system knows.

The systems never share an id: Stripe knows the customer, DocuSign and Rippling an email, MT5 a
login whose Email field the middleware filled, the bus a trigger. So a trader is found in each by
the customer id or the email the harness gave them at checkout, never by the middleware's own
bookkeeping: a middleware that loses track of a trader cannot hide the records it left behind.

A snapshot (`Snapshot`, plain JSON so it can be saved and investigated later) holds each system's
ledger as its control API answered it, plus what the harness did (`Expected`) and what the middleware
says (its lifecycle view, where the target declares one).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

BALANCE_ACTION = 2  # an MT5 deal's action for a deposit or a withdrawal
SIGNED = "completed"
LIVE_ENVELOPE = ("created", "sent", "delivered", "completed")  # not voided or declined
AWAITING_SIGNATURE = ("sent", "delivered")  # out to the trader: what the trader (or the harness) signs
SNAPSHOT_VERSION = 1


def money(value: Any) -> Decimal:
    """A ledger's amount (text or number) as a Decimal; garbage reads as zero, never raises."""
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return Decimal("0.00")


@dataclass(frozen=True)
class Payout:
    payout_id: str
    amount: Decimal
    accepted: bool = True  # the middleware took the request (2xx); refused ones expect no effect

    def to_json(self) -> dict[str, Any]:
        return {"payout_id": self.payout_id, "amount": str(self.amount), "accepted": self.accepted}


@dataclass(frozen=True)
class Expected:
    """What the harness did for one trader, so what every system should show for them."""

    customer: str
    email: str
    name: str
    deposit: Decimal
    signs: bool = True  # the trader signs the contract (False: declines it, or never gets to)
    declined: bool = False  # the trader declined it (so no contract may stay live)
    payouts: tuple[Payout, ...] = ()
    cancelled: bool = False
    signed_at: float | None = None  # when the harness signed (epoch seconds), if it did

    @property
    def paid_out(self) -> Decimal:
        return sum((p.amount for p in self.payouts if p.accepted), Decimal("0.00"))

    def to_json(self) -> dict[str, Any]:
        return {
            **{k: v for k, v in asdict(self).items() if k not in ("deposit", "payouts")},
            "deposit": str(self.deposit),
            "payouts": [p.to_json() for p in self.payouts],
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Expected:
        payouts = tuple(
            Payout(str(p["payout_id"]), money(p["amount"]), bool(p.get("accepted", True)))
            for p in raw.get("payouts", ())
        )
        return cls(
            customer=str(raw["customer"]),
            email=str(raw["email"]),
            name=str(raw.get("name", "")),
            deposit=money(raw.get("deposit")),
            signs=bool(raw.get("signs", True)),
            declined=bool(raw.get("declined", False)),
            payouts=payouts,
            cancelled=bool(raw.get("cancelled", False)),
            signed_at=raw.get("signed_at"),
        )


@dataclass
class Snapshot:
    """Every system's records after a run, as JSON: `uat investigate` reads it back from a report."""

    traders: list[Expected]
    stripe_events: list[dict[str, Any]] = field(default_factory=list)
    envelopes: list[dict[str, Any]] = field(default_factory=list)
    mt5_users: list[dict[str, Any]] = field(default_factory=list)
    mt5_deals: list[dict[str, Any]] = field(default_factory=list)
    workers: list[dict[str, Any]] = field(default_factory=list)
    pay_items: list[dict[str, Any]] = field(default_factory=list)
    zap_runs: list[dict[str, Any]] = field(default_factory=list)
    # customer -> the middleware's lifecycle answer (None: it has none, or declares no such operation)
    middleware: dict[str, Any] = field(default_factory=dict)
    # customer -> [{"account", "trading_enabled"}] as the middleware's admin API shows them
    accounts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    sql: list[dict[str, Any]] = field(default_factory=list)  # the target's `lifecycle.*` queries, run
    missing: list[str] = field(default_factory=list)  # systems whose ledger could not be read, and why
    notes: list[str] = field(default_factory=list)  # the run's waits that ran out (what never happened)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["traders"] = [t.to_json() for t in self.traders]
        return {"version": SNAPSHOT_VERSION, **data}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Snapshot:
        if not isinstance(raw, dict):
            raise ValueError(f"expected a JSON object, got a JSON {type(raw).__name__}")
        if raw.get("version") != SNAPSHOT_VERSION:
            raise ValueError(f"version: expected {SNAPSHOT_VERSION}, got {raw.get('version')!r}")
        known = {k: v for k, v in raw.items() if k in cls.__dataclass_fields__ and k != "traders"}
        for name, value in known.items():
            want = dict if name in ("middleware", "accounts") else list
            if not isinstance(value, want):
                raise ValueError(f"{name}: expected a JSON {want.__name__}")
        traders = raw.get("traders")
        if not isinstance(traders, list):
            raise ValueError("traders: expected a JSON list")
        parsed = []
        for n, item in enumerate(traders):
            try:
                parsed.append(Expected.from_json(item))
            except (KeyError, TypeError) as exc:
                raise ValueError(f"traders[{n}]: missing or malformed {exc}") from None
        return cls(traders=parsed, **known)


@dataclass
class Chain:
    """One trader's records in every system, found by their customer id or email."""

    trader: Expected
    checkouts: list[dict[str, Any]]  # Stripe checkout.session.completed events
    zap_runs: list[dict[str, Any]]  # the bus's runs whose trigger names the trader
    envelopes: list[dict[str, Any]]  # DocuSign envelopes addressed to the trader
    mt5_users: list[dict[str, Any]]  # MT5 users with the trader's email
    deals: list[dict[str, Any]]  # balance deals on those logins, oldest first
    workers: list[dict[str, Any]]  # Rippling workers with the trader's work email
    pay_items: list[dict[str, Any]]  # pay items of those workers
    middleware: dict[str, Any] | None
    accounts: list[dict[str, Any]]

    @property
    def customer(self) -> str:
        return self.trader.customer

    @property
    def signed(self) -> list[dict[str, Any]]:
        return [e for e in self.envelopes if e.get("status") == SIGNED]

    @property
    def live_envelopes(self) -> list[dict[str, Any]]:
        return [e for e in self.envelopes if e.get("status") in LIVE_ENVELOPE]

    @property
    def deposits(self) -> list[dict[str, Any]]:
        return [d for d in self.deals if money(d.get("amount")) > 0]

    @property
    def withdrawals(self) -> list[dict[str, Any]]:
        return [d for d in self.deals if money(d.get("amount")) < 0]

    @property
    def active_workers(self) -> list[dict[str, Any]]:
        return [w for w in self.workers if w.get("status") != "TERMINATED"]

    def mt5_balance(self) -> Decimal:
        return sum((money(u.get("balance")) for u in self.mt5_users), Decimal("0.00"))

    def deal_total(self) -> Decimal:
        return sum((money(d.get("amount")) for d in self.deals), Decimal("0.00"))

    def signed_at(self) -> float | None:
        """When DocuSign recorded the first signature (epoch seconds), or None."""
        times = [completed_at(e) for e in self.signed]
        found = [t for t in times if t is not None]
        return min(found) if found else None

    def trading_enabled(self) -> bool | None:
        shown = [a.get("trading_enabled") for a in self.accounts if a.get("trading_enabled") is not None]
        return any(bool(v) for v in shown) if shown else None


def completed_at(envelope: dict[str, Any]) -> float | None:
    for change in envelope.get("history", ()):
        if isinstance(change, dict) and change.get("status") == SIGNED:
            at = change.get("at")
            return float(at) if isinstance(at, int | float) else None
    return None


def _email(value: Any) -> str:
    return str(value or "").strip().lower()


_WORD_BREAKS = re.compile(r"[\s\"{}\[\],:;=&?/<>()|\\]+")


def _words(trigger: Any) -> set[str]:
    """The words of a bus trigger (its JSON text split at spaces, quotes and punctuation), lowercased."""
    text = json.dumps(trigger, sort_keys=True, default=str, ensure_ascii=False).lower()
    return {word for word in _WORD_BREAKS.split(text) if word}


def _names(trigger: Any, customer: str, email: str) -> bool:
    """Whether a bus trigger is about this trader: their customer id or email is one of its words
    (a whole word, so `cus_1` never claims the run of `cus_12`)."""
    words = _words(trigger)
    return customer.lower() in words or (bool(email) and email in words)


def _index(
    records: list[dict[str, Any]], keys: Callable[[dict[str, Any]], Iterable[Any]]
) -> dict[Any, list[int]]:
    """Positions of the records under each of their keys (each position once per key; unhashable
    keys skipped), so joining 5,000 traders is one pass per ledger, not one per trader."""
    found: dict[Any, list[int]] = {}
    for n, record in enumerate(records):
        for key in keys(record):
            try:
                positions = found.setdefault(key, [])
            except TypeError:  # a list or an object where an id belongs: it names no one
                continue
            if not positions or positions[-1] != n:
                positions.append(n)
    return found


def _pick(
    records: list[dict[str, Any]], index: dict[Any, list[int]], keys: Iterable[Any]
) -> list[dict[str, Any]]:
    """The records under any of `keys`, in ledger order, each once."""
    positions: set[int] = set()
    for key in keys:
        try:
            positions.update(index.get(key, ()))
        except TypeError:
            continue
    return [records[n] for n in sorted(positions)]


def join(snapshot: Snapshot) -> list[Chain]:
    """Each expected trader's records, system by system (a record can belong to one trader only
    if the harness gave each a distinct customer id and email, which it does)."""
    checkouts = [e for e in snapshot.stripe_events if e.get("type") == "checkout.session.completed"]
    by_customer = _index(checkouts, lambda e: [((e.get("data") or {}).get("object") or {}).get("customer")])
    by_recipient = _index(
        snapshot.envelopes,
        lambda e: [_email(r.get("email")) for r in e.get("recipients", ()) if isinstance(r, dict)],
    )
    users_by_email = _index(snapshot.mt5_users, lambda u: [_email(u.get("email"))])
    balance_deals = [d for d in snapshot.mt5_deals if d.get("action", BALANCE_ACTION) == BALANCE_ACTION]
    deals_by_login = _index(balance_deals, lambda d: [d.get("login")])
    workers_by_email = _index(snapshot.workers, lambda w: [_email(w.get("work_email"))])
    items_by_worker = _index(snapshot.pay_items, lambda p: [p.get("worker_id")])
    runs_by_word = _index(snapshot.zap_runs, lambda r: _words(r.get("trigger")))
    chains = []
    for trader in snapshot.traders:
        email = _email(trader.email)
        users = _pick(snapshot.mt5_users, users_by_email, [email])
        deals = sorted(
            _pick(balance_deals, deals_by_login, [u.get("login") for u in users]),
            key=lambda d: (d.get("time_msc") or 0, d.get("deal") or 0),
        )
        workers = _pick(snapshot.workers, workers_by_email, [email])
        chains.append(
            Chain(
                trader=trader,
                checkouts=_pick(checkouts, by_customer, [trader.customer]),
                zap_runs=_pick(snapshot.zap_runs, runs_by_word, [trader.customer.lower(), email]),
                envelopes=_pick(snapshot.envelopes, by_recipient, [email]),
                mt5_users=users,
                deals=deals,
                workers=workers,
                pay_items=_pick(snapshot.pay_items, items_by_worker, [w.get("id") for w in workers]),
                middleware=snapshot.middleware.get(trader.customer),
                accounts=list(snapshot.accounts.get(trader.customer, ())),
            )
        )
    return chains

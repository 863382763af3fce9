"""What every hop's judge shares: the snapshot-wide facts beyond one trader's chain (which ledgers
could not be read, who owns each login, worker and envelope), what the harness's actions make
expected, and how a hop's problems become its verdict.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from . import evidence
from .model import Chain, Snapshot, money
from .report import DUPLICATE, MISMATCH, MISSING, OK, Hop

# The systems a snapshot's `missing` entries name ("mt5: ConnectError: ..."), and the hops each feeds.
SYSTEMS = ("stripe", "zapier", "docusign", "mt5", "rippling", "middleware")
HOP_SYSTEMS: dict[str, tuple[str, ...]] = {
    "stripe": ("stripe",),
    "bus": ("zapier",),
    "contract": ("docusign",),
    "signature": ("docusign",),
    "mt5_login": ("mt5",),
    "deposit": ("mt5",),
    "payouts": ("mt5", "rippling"),
    "rippling": ("rippling",),
    "middleware": ("middleware",),
}


RANK = {MISSING: 0, DUPLICATE: 1, MISMATCH: 2}


def ident(value: Any) -> str:
    """An id as text, however a system typed it (MT5 logins are numbers in one place, text in another)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "" if value is None else str(value).strip()


@dataclass(frozen=True)
class Ledgers:
    """Facts about the whole snapshot that a single trader's chain cannot show."""

    unread: dict[str, str]  # system -> why its ledger could not be read
    logins: dict[str, str]  # MT5 login -> the email on that user
    workers: dict[str, str]  # Rippling worker id -> its work email
    envelopes: dict[str, str]  # DocuSign envelope id -> its status
    declares_view: bool  # the middleware answered a lifecycle view for some trader

    @classmethod
    def of(cls, snapshot: Snapshot) -> Ledgers:
        unread: dict[str, str] = {}
        for entry in snapshot.missing:
            head = re.split(r"[:\s]", str(entry).strip(), maxsplit=1)[0].lower()
            system = "zapier" if head == "bus" else head
            if system in SYSTEMS:
                unread.setdefault(system, str(entry))
        return cls(
            unread=unread,
            logins={ident(u.get("login")): str(u.get("email") or "") for u in snapshot.mt5_users},
            workers={ident(w.get("id")): str(w.get("work_email") or "") for w in snapshot.workers},
            envelopes={ident(e.get("envelope_id")): str(e.get("status")) for e in snapshot.envelopes},
            declares_view=any(view is not None for view in snapshot.middleware.values()),
        )


def provisioned(chain: Chain, ledgers: Ledgers) -> bool:
    """Whether the middleware should have provisioned the trader: the harness signed and DocuSign
    holds the signature (or DocuSign could not be read, so the harness's word is all there is)."""
    return chain.trader.signs and (bool(chain.signed) or "docusign" in ledgers.unread)


@dataclass(frozen=True)
class Problem:
    status: str
    detail: str  # the facts, for the hop's detail
    cause: str  # in plain words, for the diagnosis when this hop broke first


def verdict(
    name: str,
    problems: list[Problem],
    records: Iterable[dict[str, Any]],
    fine: str,
    fine_status: str = OK,
) -> Hop:
    """The hop's status is its worst problem's (a missing record first: the chain stopped there; then
    a duplicate; then a wrong value), and every problem's facts go in the detail."""
    problems = sorted(problems, key=lambda p: RANK.get(p.status, len(RANK)))
    kept = list(records)
    extra = f" (+{len(kept) - evidence.MAX_RECORDS} more records)" if len(kept) > evidence.MAX_RECORDS else ""
    if problems:
        detail = "; ".join(p.detail for p in problems) + extra
        return Hop(name, problems[0].status, detail, evidence.capped(kept), problems[0].cause)
    return Hop(name, fine_status, fine + extra, evidence.capped(kept))


def count(n: int, noun: str, plural: str | None = None) -> str:
    words = {1: "one", 2: "two", 3: "three"}
    return f"{words.get(n, n)} {noun if n == 1 else plural or noun + 's'}"


def amount(value: Decimal) -> str:
    return f"{value:+.2f}"


def listed(records: list[dict[str, Any]], key: str, also: str = "status") -> str:
    """`e1 sent, e2 voided`: the ids (and a second field) of a few records."""
    shown = [f"{ident(r.get(key))} {r.get(also)}".rstrip() for r in records[:4]]
    more = f" and {len(records) - 4} more" if len(records) > 4 else ""
    return ", ".join(shown) + more


def deals(records: list[dict[str, Any]]) -> str:
    """`deal 17 +25000.00 'deposit cus_1'`, for a few deals."""
    shown = [
        f"deal {ident(d.get('deal'))} {amount(money(d.get('amount')))}"
        + (f" {str(d.get('comment'))[:40]!r}" if d.get("comment") else "")
        for d in records[:4]
    ]
    more = f" and {len(records) - 4} more" if len(records) > 4 else ""
    return ", ".join(shown) + more

"""What `uat investigate` found: per trader, each hop of the lifecycle judged in chain order, and
the first one that broke. Plain data with its JSON form, so the text view, the JSON output and the
tests read the same thing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

OK = "ok"
MISSING = "missing"  # a record that should exist does not
DUPLICATE = "duplicate"  # one record expected, more found
MISMATCH = "mismatch"  # a record exists where none should, or says the wrong thing
NOT_EXPECTED = "not_expected"  # nothing to judge for this trader (and nothing there)
UNREAD = "unread"  # the system's ledger could not be read: no verdict either way
STATUSES = (OK, MISSING, DUPLICATE, MISMATCH, NOT_EXPECTED, UNREAD)
BROKEN = (MISSING, DUPLICATE, MISMATCH)
AGREEING = (OK, NOT_EXPECTED)

# The hops in chain order: the order a trader's records come to exist in (the worker is hired when
# the contract is signed, so before any payout can reach it).
HOPS = (
    "stripe",
    "bus",
    "contract",
    "signature",
    "mt5_login",
    "deposit",
    "rippling",
    "payouts",
    "middleware",
)


@dataclass(frozen=True)
class Hop:
    """One hop's verdict for one trader, with the records it was judged on (trimmed to key fields).
    `cause` says in plain words why it broke, for the trader's diagnosis when it broke first."""

    name: str
    status: str
    detail: str
    records: tuple[dict[str, Any], ...] = ()
    cause: str = ""

    @property
    def broken(self) -> bool:
        return self.status in BROKEN

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "detail": self.detail,
            "cause": self.cause,
            "records": list(self.records),
        }


@dataclass(frozen=True)
class TraderReport:
    customer: str
    email: str
    hops: tuple[Hop, ...]

    @property
    def agrees(self) -> bool:
        """Every hop ok or not expected: an unread ledger is no evidence of agreement."""
        return all(h.status in AGREEING for h in self.hops)

    @property
    def broke_at(self) -> str | None:
        """The first hop whose records disagree, in chain order."""
        return next((h.name for h in self.hops if h.broken), None)

    @property
    def diagnosis(self) -> str:
        broke = next((h for h in self.hops if h.broken), None)
        if broke is not None:
            return broke.cause or f"{broke.name}: {broke.detail}"
        unread = [h.name for h in self.hops if h.status == UNREAD]
        if unread:
            return f"no hop disagrees, but {', '.join(unread)} could not be judged: a ledger was not read"
        return ""

    def hop(self, name: str) -> Hop:
        return next(h for h in self.hops if h.name == name)

    def to_json(self) -> dict[str, Any]:
        return {
            "customer": self.customer,
            "email": self.email,
            "agrees": self.agrees,
            "broke_at": self.broke_at,
            "diagnosis": self.diagnosis,
            "hops": [h.to_json() for h in self.hops],
        }


@dataclass(frozen=True)
class Report:
    """Every expected trader's verdict, the middleware's own SQL findings (queries that returned
    rows), and the systems that could not be read."""

    traders: tuple[TraderReport, ...]
    sql: tuple[dict[str, Any], ...] = ()
    missing: tuple[str, ...] = field(default_factory=tuple)

    @property
    def disagreeing(self) -> list[TraderReport]:
        return [t for t in self.traders if not t.agrees]

    @property
    def agrees(self) -> bool:
        """Some trader to judge, every one agreeing, no SQL finding and every system read: an empty
        or partial snapshot is not evidence of agreement."""
        return bool(self.traders) and not self.disagreeing and not self.sql and not self.missing

    def broke_at(self) -> Counter[str]:
        """How many traders' chains broke at each hop."""
        return Counter(t.broke_at for t in self.traders if t.broke_at is not None)

    def to_json(self) -> dict[str, Any]:
        counts = self.broke_at()
        return {
            "agrees": self.agrees,
            "traders": len(self.traders),
            "disagreeing": len(self.disagreeing),
            "broke_at": {hop: counts[hop] for hop in HOPS if counts[hop]},
            "sql": list(self.sql),
            "missing": list(self.missing),
            "results": [t.to_json() for t in self.traders],
        }

"""Which venue each load trader trades on, and the one ledger the invariants judge.

A firm's traders do not all clear through one venue. `uat load --cqg-traders N` has the back office
route N of the population's accounts to CQG as they are onboarded (the target's `route_account`
operation), spread evenly over the population so the ramp brings them in with the rest. The
invariants then judge every order against the ledger of the venue that holds it: the venues'
ledgers are read after the run and joined, each order and fill marked with its venue, and
positions are reconciled per account against its own venue."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

CQG = "cqg"
DEFAULT_VENUE = "rithmic"


def routed_indices(count: int, routed: int) -> frozenset[int]:
    """The indices, among traders 0..count-1, of `routed` of them spread evenly (the first is 0)."""
    if not 0 <= routed <= count:
        raise ValueError(f"{routed} routed traders: must be between 0 and {count}")
    return frozenset((i * count) // routed for i in range(routed)) if routed else frozenset()


def joined_ledger(ledgers: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """One ledger from the venues' own: their orders and fills, each marked with its `venue`. Client
    tags are ours and unique across venues; a fill's `duplicate_of` names a fill of the same venue,
    so no entry is rewritten."""
    joined: dict[str, Any] = {"orders": [], "fills": [], "venues": sorted(ledgers)}
    for venue, ledger in sorted(ledgers.items()):
        for kind in ("orders", "fills"):
            joined[kind] += [{**entry, "venue": venue} for entry in ledger.get(kind, [])]
    return joined


def per_venue(ledger: Mapping[str, Any], venues: Iterable[str]) -> dict[str, dict[str, int]]:
    """Orders and (first, not duplicate) fills a joined ledger holds at each venue."""
    counts = {venue: {"orders": 0, "fills": 0} for venue in venues}
    for order in ledger.get("orders", []):
        counts.setdefault(order.get("venue", DEFAULT_VENUE), {"orders": 0, "fills": 0})["orders"] += 1
    for fill in ledger.get("fills", []):
        if not fill.get("duplicate_of"):
            counts.setdefault(fill.get("venue", DEFAULT_VENUE), {"orders": 0, "fills": 0})["fills"] += 1
    return counts

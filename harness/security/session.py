"""A security session against a running middleware: two traders' own objects set up (each a resting
limit order), the probe groups a scenario's checks need, then the venue's view of what they touched."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from ..adapters import HttpAdapter
from .evidence import CHECK_GROUPS, SecurityEvidence
from .groups import GROUPS, RESTING_PRICE, Party, ProbeRun, allowlist
from .probes import Sender

ORDER_VISIBLE_S = 10.0  # how long a resting order may take to reach the venue's book


class SetupFailed(Exception):
    """The middleware would not take the traders' own resting orders: its failure, with the answer."""

    def __init__(self, message: str, evidence: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.evidence = evidence


def parties(
    adapter: HttpAdapter,
    accounts: Sequence[str],
    customers: dict[str, str],
    symbol: str,
    tag: str,
    ledger: Callable[[], dict[str, Any]],
) -> list[Party]:
    """Each account's trader with its own key and one resting limit order, resting at the venue."""
    out: list[Party] = []
    for index, account in enumerate(accounts[:2]):
        coid = f"{tag}-rest-{index + 1}"
        placed = adapter.place_order(
            account=account,
            symbol=symbol,
            side="BUY",
            qty=1,
            order_type="LIMIT",
            client_order_id=coid,
            limit_price=RESTING_PRICE,
        )
        if not placed.ok:
            raise SetupFailed(
                f"the middleware refused trader {index + 1}'s resting limit order, so no object of its "
                "own exists for the probes to reach",
                [placed.evidence()],
            )
        key = adapter.keys.known().get(account) if adapter.api.auth.per_trader else None
        out.append(Party(account, customers.get(account, ""), key, coid))
    deadline = time.monotonic() + ORDER_VISIBLE_S
    wanted = {p.order for p in out}
    while time.monotonic() < deadline:
        seen = {o.get("client_tag") for o in ledger().get("orders", [])}
        if wanted <= seen:
            break
        time.sleep(0.2)
    return out


def probe(
    adapter: HttpAdapter,
    checks: Sequence[str],
    people: list[Party],
    *,
    symbol: str,
    tag: str,
    allowlisted: tuple[str, str] | None,
    ledger: Callable[[], dict[str, Any]],
) -> SecurityEvidence:
    """Every probe group the checks need; the venue's orders read before and after."""
    sender = Sender(adapter.api)
    evidence = SecurityEvidence()
    run = ProbeRun(sender, adapter, people[0], people[1] if len(people) > 1 else None, symbol, tag)
    victim = run.b.order if run.b is not None else ""
    before = {o.get("client_tag"): o for o in ledger().get("orders", [])}
    evidence.victim_order = victim
    evidence.victim_before = before.get(victim)
    try:
        groups = dict.fromkeys(g for check in checks for g in CHECK_GROUPS.get(check, ()))
        for group in groups:
            if group == "allowlist":
                if allowlisted is None:
                    run.skipped["allowlist"] = "the target file declares no [security] allowlist addresses"
                else:
                    allowlist(run, *allowlisted)
            else:
                GROUPS[group](run)
    finally:
        sender.close()
    time.sleep(0.5)  # an order a probe slipped through has time to reach the venue
    after = {str(o.get("client_tag")): o for o in ledger().get("orders", [])}
    tags = {p.order_tag for p in run.probes if p.order_tag} | ({victim} if victim else set())
    evidence.venue_orders = {tag_: after[tag_] for tag_ in tags if tag_ in after}
    evidence.probes, evidence.skipped = run.probes, run.skipped
    return evidence

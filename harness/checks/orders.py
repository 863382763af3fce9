"""Order and fill invariants, held against the venue ledger: the venue is the truth."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from ..adapters import KNOWN_STATES, OrderView
from .base import CheckContext, Verdict, checker


def _venue_fills(ctx: CheckContext) -> list[dict[str, Any]]:
    tags = ctx.our_tags()
    return [
        f for f in ctx.ledger.get("fills", []) if f.get("client_tag") in tags and not f.get("duplicate_of")
    ]


@checker("no_duplicate_order")
def no_duplicate_order(ctx: CheckContext) -> Verdict:
    tags = ctx.our_tags()
    counts = Counter(o["client_tag"] for o in ctx.ledger.get("orders", []) if o.get("client_tag") in tags)
    dupes = {tag: n for tag, n in counts.items() if n > 1}
    evidence = [
        {
            "client_order_id": tag,
            "venue_orders": n,
            "orders": [o for o in ctx.ledger["orders"] if o["client_tag"] == tag],
        }
        for tag, n in dupes.items()
    ]
    if dupes:
        return Verdict.fail(
            "no_duplicate_order",
            f"{len(dupes)} client_order_id(s) reached the venue more than once",
            evidence,
            "duplicate order",
        )
    if not counts:
        return Verdict.no_evidence("no_duplicate_order", "no order of ours reached the venue")
    return Verdict.ok("no_duplicate_order", f"{len(counts)} orders at the venue, each client_order_id once")


@checker("no_lost_fill")
def no_lost_fill(ctx: CheckContext) -> Verdict:
    filled_at_venue: dict[str, int] = defaultdict(int)
    for fill in _venue_fills(ctx):
        filled_at_venue[fill["client_tag"]] += int(fill["qty"])
    lost = []
    for tag, qty in sorted(filled_at_venue.items()):
        view = ctx.orders.get(tag) or OrderView.missing()
        seen = view.filled_qty
        if seen < qty:
            lost.append(
                {
                    "client_order_id": tag,
                    "venue_filled_qty": qty,
                    "middleware_filled_qty": seen,
                    "middleware_status": view.status,
                    "middleware_answer": view.raw,
                }
            )
    if lost:
        return Verdict.fail(
            "no_lost_fill",
            f"{len(lost)} order(s) filled at the venue are short in the middleware "
            f"{ctx.slo.fill_visible_s:g} s after recovery",
            lost,
            "data loss",
        )
    if not filled_at_venue:
        return Verdict.no_evidence("no_lost_fill", "no order of ours filled at the venue: no fill to lose")
    total = sum(filled_at_venue.values())
    return Verdict.ok("no_lost_fill", f"all {total} contracts filled at the venue are in the middleware")


@checker("positions_reconcile")
def positions_reconcile(ctx: CheckContext) -> Verdict:
    account_of = {}
    for invoked, _ in ctx.history.completions("place_order"):
        account_of[str(invoked.value["client_order_id"])] = str(invoked.value["account"])
    expected: dict[tuple[str, str], int] = defaultdict(int)
    for fill in _venue_fills(ctx):
        sign = 1 if fill["side"] == "BUY" else -1
        expected[(account_of[fill["client_tag"]], fill["symbol"])] += sign * int(fill["qty"])
    mismatches = []
    for account in sorted(set(ctx.accounts.values())):
        outcome = ctx.adapter.positions(account)
        venue = ctx.venue_of(account)
        actual = {p.symbol: p.net_qty for p in outcome.positions or () if p.venue == venue}
        symbols = {s for (a, s) in expected if a == account} | set(actual)
        for symbol in sorted(symbols):
            want, got = expected.get((account, symbol), 0), actual.get(symbol, 0)
            if want != got:
                mismatches.append(
                    {"account": account, "symbol": symbol, "venue_net_qty": want, "middleware_net_qty": got}
                )
        if not outcome.ok:
            mismatches.append({"account": account, **outcome.evidence()})
    if mismatches:
        return Verdict.fail(
            "positions_reconcile",
            f"{len(mismatches)} position(s) differ from the signed sum of the venue's fills",
            mismatches,
            "data loss",
        )
    if not expected or not ctx.accounts:
        # Flat positions with no fill prove nothing: a middleware that books nothing shows them too.
        return Verdict.no_evidence("positions_reconcile", "no order of ours filled at the venue: no position")
    return Verdict.ok(
        "positions_reconcile",
        f"positions of {len(set(ctx.accounts.values()))} account(s) "
        "equal the signed sum of the venue's fills",
    )


@checker("unknown_outcomes_resolve")
def unknown_outcomes_resolve(ctx: CheckContext) -> Verdict:
    unknown = [invoked for invoked, done in ctx.history.completions("place_order") if done.type == "info"]
    at_venue = {o.get("client_tag") for o in ctx.ledger.get("orders", [])}
    unresolved = []
    for invoked in unknown:
        tag = str(invoked.value["client_order_id"])
        status = (ctx.orders.get(tag) or OrderView.missing()).status
        # A request that never reached the middleware (a transport error) is known too: the
        # middleware has no such order and neither has the venue, so it was never placed.
        never_placed = status == "missing" and tag not in at_venue
        if status not in KNOWN_STATES and not never_placed:
            unresolved.append(
                {
                    "client_order_id": tag,
                    "middleware_status": status,
                    "invoked_at": invoked.time,
                    "faults": list(invoked.faults),
                }
            )
    if unresolved:
        return Verdict.fail(
            "unknown_outcomes_resolve",
            f"{len(unresolved)} of {len(unknown)} orders with an unknown outcome never resolved",
            unresolved,
            "data loss",
        )
    placed = len(ctx.history.completions("place_order"))
    if not placed:
        return Verdict.no_evidence("unknown_outcomes_resolve", "no order was placed: no outcome to resolve")
    return Verdict.ok(
        "unknown_outcomes_resolve",
        f"{len(unknown)} of {placed} order(s) had an unknown outcome; all resolved after recovery",
    )

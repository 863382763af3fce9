"""What the middleware says of its orders' prices and endings, held against the venue's ledger: the
average fill price it reports, the cancels it accepted, and the market orders it let out on a frozen
feed."""

from __future__ import annotations

from collections import defaultdict

from ..adapters import OrderView
from .base import CheckContext, Verdict, checker
from .ledger import NO_PLAN, RiskPlan, VenueFill, VenueOrder, instruments, ledger_fills, ledger_orders

DEFAULT_TICK = 1e-6  # an instrument the plan does not declare: prices must agree to the micro-point
EPSILON = 1e-9  # float noise: half a tick exactly is still within half a tick


def _avg_price(view: OrderView | None) -> float | None:
    avg = getattr(view, "avg_price", None)
    return None if avg is None else float(avg)


@checker("fill_prices_match")
def fill_prices_match(ctx: CheckContext) -> Verdict:
    name = "fill_prices_match"
    by_order: dict[str, list[VenueFill]] = defaultdict(list)
    for fill in ledger_fills(ctx.ledger, ctx.our_tags()):
        by_order[fill.client_tag].append(fill)
    if not by_order:
        return Verdict.no_evidence(name, "no order of ours filled at the venue: no price to compare")
    if all(_avg_price(view) is None for view in ctx.orders.values()):
        return Verdict.skip(
            name,
            "the target's API does not report an order's average fill price (no order carries avg_price)",
        )
    specs = instruments(ctx.extras)
    mismatches, unreported = [], []
    for tag, fills in sorted(by_order.items()):
        qty = sum(f.qty for f in fills)
        venue = sum(f.qty * f.price for f in fills) / qty if qty else 0.0
        view = ctx.orders.get(tag)
        reported = _avg_price(view)
        if reported is None:
            unreported.append(tag)
            continue
        spec = specs.get(fills[0].symbol)
        tick = spec.tick_size if spec and spec.tick_size else DEFAULT_TICK
        if abs(venue - reported) > tick / 2 + EPSILON:
            summed = " + ".join(f"{f.qty} x {f.price}" for f in fills)
            mismatches.append(
                {
                    "client_order_id": tag,
                    "symbol": fills[0].symbol,
                    "venue_avg_price": venue,
                    "middleware_avg_price": reported,
                    "difference": reported - venue,
                    "tick_size": tick,
                    "arithmetic": f"({summed}) / {qty} = {round(venue, 9)}",
                    "fills": [f.to_json() for f in fills],
                    "middleware_answer": view.raw if view else None,
                }
            )
    compared = len(by_order) - len(unreported)
    silent = f"; {len(unreported)} filled order(s) without an avg_price: {', '.join(unreported[:10])}"
    if mismatches:
        return Verdict.fail(
            name,
            f"{len(mismatches)} of {compared} filled order(s) report an average price more than half a tick "
            "from the venue's fills" + (silent if unreported else ""),
            mismatches,
            "price mismatch",
        )
    return Verdict.ok(
        name,
        f"{compared} filled order(s): the middleware's average price is within half a tick of the "
        "venue's qty-weighted fill price" + (silent if unreported else ""),
    )


def _venue_state(orders: list[VenueOrder]) -> tuple[str, int]:
    """What the venue made of an order (summed over any duplicates): its status and filled qty."""
    statuses = {o.status for o in orders}
    status = next((s for s in ("open", "filled", "cancelled", "rejected") if s in statuses), "rejected")
    return status, sum(o.filled_qty for o in orders)


def _cancel_problem(view: OrderView, venue: list[VenueOrder]) -> tuple[str, bool]:
    """Why the middleware's final word on a cancelled order disagrees with the venue ('' if it does
    not), and whether it is the worst case: called cancelled while still working at the venue."""
    said = f"the middleware shows {view.status} with {view.filled_qty} filled"
    if not venue:
        ok = view.status in ("cancelled", "rejected", "failed") and view.filled_qty == 0
        return ("" if ok else f"the venue never received it, yet {said}"), False
    status, filled = _venue_state(venue)
    if status == "open":
        if view.status == "cancelled":
            return (
                "the middleware calls it cancelled but it is still open at the venue: it can still fill",
                True,
            )
        return f"the cancel was accepted but the order is still open at the venue; {said}", False
    wanted = {"filled": ("filled",), "cancelled": ("cancelled",), "rejected": ("rejected", "cancelled")}
    if view.status in wanted.get(status, ()) and view.filled_qty == filled:
        return "", False
    return f"the venue {status} it with {filled} filled, but {said}", False


@checker("cancels_consistent")
def cancels_consistent(ctx: CheckContext) -> Verdict:
    name = "cancels_consistent"
    cancels = ctx.history.completions("cancel_order")
    accepted = {str(i.value["client_order_id"]): i.time for i, done in cancels if done.type == "ok"}
    called = {tag for tag, view in ctx.orders.items() if view.status == "cancelled" and tag in ctx.our_tags()}
    if not accepted and not called:
        return Verdict.no_evidence(
            name, f"no cancel was accepted ({len(cancels)} sent) and no order of ours ended cancelled"
        )
    venue: dict[str, list[VenueOrder]] = defaultdict(list)
    for order in ledger_orders(ctx.ledger, set(accepted) | called):
        venue[order.client_tag].append(order)
    bad, filled_first = [], 0
    for tag in sorted(set(accepted) | called):
        view = ctx.orders.get(tag) or OrderView.missing()
        problem, worst = _cancel_problem(view, venue[tag])
        filled_first += not problem and view.status == "filled"
        if problem:
            bad.append(
                {
                    "client_order_id": tag,
                    "problem": problem,
                    "worst_case": worst,
                    "cancel_accepted_at": accepted.get(tag),
                    "middleware_status": view.status,
                    "middleware_filled_qty": view.filled_qty,
                    "middleware_answer": view.raw,
                    "venue_orders": [o.to_json() | {"filled_qty": o.filled_qty} for o in venue[tag]],
                }
            )
    total = len(set(accepted) | called)
    if bad:
        still_open = sum(e["worst_case"] for e in bad)
        return Verdict.fail(
            name,
            f"{len(bad)} of {total} cancelled order(s) disagree with the venue"
            + (
                f"; {still_open} the middleware calls cancelled are still open at the venue"
                if still_open
                else ""
            ),
            sorted(bad, key=lambda e: not e["worst_case"]),
            "data loss",
        )
    return Verdict.ok(
        name,
        f"{total} order(s) cancelled or with an accepted cancel ({len(accepted)} accepted): the venue "
        f"closed each, and the middleware's status and filled qty agree ({filled_first} filled first)",
    )


@checker("stale_orders_refused")
def stale_orders_refused(ctx: CheckContext) -> Verdict:
    """A market order priced on a frozen feed must not reach the venue once the middleware had
    `bound_s` to notice the feed stopped; limit orders carry their own price and may go."""
    name = "stale_orders_refused"
    plan = RiskPlan.from_extras(ctx.extras)
    if plan is None:
        return Verdict.skip(name, NO_PLAN)
    if plan.stale is None:
        return Verdict.skip(name, "the scenario declares no window of stale market data")
    # the middleware's own bound, plus the in-flight tolerance: an order it let out just inside the
    # bound, or that saw the last quote a step after the fault was armed, arrives a little after it
    bound, windows = plan.stale.bound_s + plan.in_flight_s, plan.stale.windows

    def window_of(epoch: float) -> tuple[float, float] | None:
        return next((w for w in windows if w[0] <= epoch <= w[1]), None)

    orders = ledger_orders(ctx.ledger, ctx.our_tags())
    if plan.epoch0 is not None:
        epoch0 = plan.epoch0
        sent = sum(
            1
            for op in list(ctx.history.ops)
            if op.type == "invoke" and op.f == "place_order" and window_of(epoch0 + op.time)
        )
        counted = "sent"
    else:  # no run-clock anchor: only the venue's own clock tells when an order went out
        sent, counted = sum(1 for o in orders if window_of(o.received_at)), "received at the venue"
    findings, limits = [], 0
    for order in orders:
        window = window_of(order.received_at)
        if window is None:
            continue
        if order.order_type != "MARKET":
            limits += 1
            continue
        late = order.received_at - window[0]
        outcome = "violation" if late > bound else "tolerated"
        why = "after" if late > bound else f"within the declared bound of {bound:g} s after"
        findings.append(
            order.to_json()
            | {"outcome": outcome, "window": list(window), "stale_for_s": late, "bound_s": bound}
            | {"explanation": f"a market order received {late:.3f} s {why} market data stopped"}
        )
    bad = [f for f in findings if f["outcome"] == "violation"]
    where = f"{len(windows)} stale window(s)"
    if bad:
        return Verdict.fail(
            name,
            f"{len(bad)} market order(s) of ours reached the venue more than {bound:g} s into {where}: "
            "priced on a frozen feed",
            bad + [f for f in findings if f["outcome"] != "violation"],
            "risk breach",
        )
    if not sent and not findings:
        return Verdict.no_evidence(name, f"no order was {counted} during the {where}")
    return Verdict.ok(
        name,
        f"{sent} order(s) {counted} during the {where}: no market order reached the venue more than "
        f"{bound:g} s after market data stopped ({len(findings)} within the bound tolerated, "
        f"{limits} limit order(s) let through)",
        findings,
    )

"""Risk limits held against the venue's ledger: each middleware account's orders and fills are replayed
in the venue's own time order, so a breach is shown with the venue's arithmetic, not the middleware's
word. The typed ledger and the risk plan are in ledger.py."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .base import CheckContext, Verdict, checker
from .ledger import (
    NO_PLAN,
    AvgCost,
    InstrumentSpec,
    Limits,
    RiskPlan,
    VenueFill,
    VenueOrder,
    ledger_fills,
    ledger_orders,
    middleware_accounts,
)

__all__ = ["Finding", "Replay", "replay", "risk_limits_hold", "risk_refusals"]

MAX_LISTED = 100  # fills or working orders listed in one piece of evidence


@dataclass
class _Account:
    """One middleware account's state at a moment of the replay."""

    limits: Limits
    instruments: Mapping[str, InstrumentSpec]
    books: dict[str, AvgCost] = field(default_factory=dict)
    fees: float = 0.0
    fills: list[tuple[VenueFill, float]] = field(default_factory=list)  # with the P&L each realised
    open: dict[str, VenueOrder] = field(default_factory=dict)  # venue order id -> received, not closed
    filled: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    loss_crossing: VenueFill | None = None  # the fill that took it to its loss limit, while there

    def book(self, symbol: str) -> AvgCost:
        spec = self.instruments.get(symbol) or InstrumentSpec()
        return self.books.setdefault(symbol, AvgCost(spec.point_value))

    def apply(self, fill: VenueFill) -> None:
        self.fills.append((fill, self.book(fill.symbol).apply(fill)))
        self.fees += fill.fee
        self.filled[fill.order_id] += fill.qty
        limit = self.limits.daily_loss_limit
        if limit is not None:
            beyond = self.realised() <= -limit
            self.loss_crossing = (self.loss_crossing or fill) if beyond else None

    def realised(self) -> float:
        return sum(b.realised for b in self.books.values()) - self.fees

    def working(self, symbol: str, side: str) -> list[tuple[VenueOrder, int]]:
        """Orders resting on the symbol and side, with what is left of each."""
        left = [(o, o.qty - self.filled[o.order_id]) for o in self.open.values()]
        return [(o, n) for o, n in left if o.symbol == symbol and o.side == side and n > 0]


@dataclass
class Finding:
    outcome: str  # violation | tolerated | allowed (reduce-only past the loss limit)
    limit_kind: str  # order_size | position | daily_loss | trading_status
    account: str  # the middleware account
    order: VenueOrder
    limit: dict[str, float]
    arithmetic: str
    detail: dict[str, Any] = field(default_factory=dict)
    explanation: str = ""

    def to_json(self) -> dict[str, Any]:
        out = {"outcome": self.outcome, "limit_kind": self.limit_kind, "account": self.account}
        out |= self.order.to_json() | {"limit": self.limit, "arithmetic": self.arithmetic} | self.detail
        return out | ({"explanation": self.explanation} if self.explanation else {})


@dataclass
class Replay:
    checked: int = 0  # orders of ours checked against at least one limit
    approached: int = 0  # of those, orders that came within one order of a limit
    limits: set[str] = field(default_factory=set)  # the limits orders were checked against
    findings: list[Finding] = field(default_factory=list)
    locked: list[dict[str, Any]] = field(default_factory=list)  # accounts at their loss limit at the end


def replay(
    orders: Iterable[VenueOrder], fills: Iterable[VenueFill], account_of: Mapping[str, str], plan: RiskPlan
) -> Replay:
    """Checks every order of ours against its account's limits as they stood just before the venue
    received it. Events are taken in time order; at one instant, orders before fills before closes."""
    events: dict[str, list[tuple[float, int, int, Any]]] = defaultdict(list)
    for seq, order in enumerate(orders):
        account = account_of[order.client_tag]
        events[account].append((order.received_at, 0, seq, order))
        closed = order.closed_at
        if closed is None and order.status == "rejected":
            closed = order.received_at  # refused at once: it never rested
        if closed is not None:
            events[account].append((closed, 2, seq, ("close", order.order_id)))
    for seq, fill in enumerate(fills):
        events[account_of[fill.client_tag]].append((fill.sent_at, 1, seq, fill))
    result = Replay()
    for account, timeline in sorted(events.items()):
        state = _Account(plan.limits.get(account) or Limits(), plan.instruments)
        for _, _, _, event in sorted(timeline, key=lambda e: e[:3]):
            if isinstance(event, VenueFill):
                state.apply(event)
            elif isinstance(event, VenueOrder):
                _judge(account, event, state, plan, result)
                state.open[event.order_id] = event
            else:
                state.open.pop(event[1], None)
        result.locked.extend(_locked(account, state))
    return result


def _locked(account: str, state: _Account) -> list[dict[str, Any]]:
    """The account, if the replay leaves it at its daily loss limit: the middleware must refuse it any
    order that adds risk from then on, so a run reports which accounts it locked and why."""
    limit, realised = state.limits.daily_loss_limit, state.realised()
    if limit is None or realised > -limit:
        return []
    crossing = state.loss_crossing
    return [
        {
            "outcome": "locked",
            "account": account,
            "daily_loss_limit": limit,
            "realised": round(realised, 6),
            "fees": round(state.fees, 6),
            "crossed_at": crossing.sent_at if crossing else None,
            "crossing_fill": crossing.fill_id if crossing else None,
        }
    ]


def _judge(account: str, order: VenueOrder, state: _Account, plan: RiskPlan, out: Replay) -> None:
    limits, disabled = state.limits, plan.disabled_at.get(account)
    checks = [
        (limits.max_order_qty is not None, "max_order_qty", _size),
        (limits.max_position is not None, "max_position", _position),
        (limits.daily_loss_limit is not None, "daily_loss_limit", _loss),
        (disabled is not None, "trading status", _status),
    ]
    applicable = [(name, check) for applies, name, check in checks if applies]
    if not applicable:
        return
    out.checked += 1
    approached = False
    for name, check in applicable:
        out.limits.add(name)
        finding, near = check(account, order, state, plan)
        approached |= near
        if finding is not None:
            out.findings.append(finding)
    out.approached += approached


_Check = tuple[Finding | None, bool]  # what one limit says of one order, and whether it came near


def _size(account: str, order: VenueOrder, state: _Account, plan: RiskPlan) -> _Check:
    limit = state.limits.max_order_qty or 0
    if order.qty <= limit:
        return None, order.qty == limit
    arithmetic = f"qty {order.qty} > max_order_qty {limit}"
    return Finding("violation", "order_size", account, order, {"max_order_qty": limit}, arithmetic), True


def _position(account: str, order: VenueOrder, state: _Account, plan: RiskPlan) -> _Check:
    limit = state.limits.max_position or 0
    book = state.book(order.symbol)
    working = state.working(order.symbol, order.side)
    pending = sum(n for _, n in working)
    buy = order.side == "BUY"
    projected = book.net + pending + order.qty if buy else book.net - pending - order.qty
    near = projected + order.qty > limit if buy else projected - order.qty < -limit  # one more would breach
    if abs(projected) <= limit or (projected > 0) != buy:
        return None, near
    fills = [f for f, _ in state.fills if f.symbol == order.symbol]
    sign, way = ("+", ">") if buy else ("-", "<")
    arithmetic = (
        f"net {book.net} (sum of {len(fills)} fill(s)) {sign} working {order.side.lower()}s {pending} "
        f"{sign} this order {order.qty} = {projected} {way} {'' if buy else '-'}max_position {limit}"
    )
    detail = {
        "net": book.net,
        "working_qty": pending,
        "projected": projected,
        **_listed("fills", [f.to_json() for f in fills]),
        **_listed("working", [_working_json(o, n, state) for o, n in working]),
    }
    return Finding("violation", "position", account, order, {"max_position": limit}, arithmetic, detail), True


def _loss(account: str, order: VenueOrder, state: _Account, plan: RiskPlan) -> _Check:
    limit = state.limits.daily_loss_limit or 0.0
    realised = state.realised()
    if realised > -limit:
        return None, False
    gross = realised + state.fees
    arithmetic = (
        f"realised {gross:.2f} - fees {state.fees:.2f} = {realised:.2f} <= -daily_loss_limit {-limit:.2f}"
    )
    crossing = state.loss_crossing
    detail: dict[str, Any] = {
        "realised_before_fees": round(gross, 6),
        "fees": round(state.fees, 6),
        "realised": round(realised, 6),
        "crossed_at": crossing.sent_at if crossing else None,
        "crossing_fill": crossing.fill_id if crossing else None,
        **_listed("fills", [f.to_json() | {"realised": round(pnl, 6)} for f, pnl in state.fills]),
    }
    finding = Finding(
        "violation", "daily_loss", account, order, {"daily_loss_limit": limit}, arithmetic, detail
    )
    net = state.book(order.symbol).net
    same_side = sum(n for _, n in state.working(order.symbol, order.side))
    if net and (net > 0) != (order.side == "BUY") and order.qty <= abs(net) - same_side:
        finding.outcome = "allowed"
        finding.explanation = (
            f"reduce-only: {order.side} {order.qty} <= |net {net}| - working {order.side.lower()}s "
            f"{same_side}; a firm lets a trader flatten past the loss limit"
        )
    elif crossing is not None:
        _tolerate(finding, crossing.sent_at, f"fill {crossing.fill_id} took it to the loss limit", plan)
    return finding, True


def _status(account: str, order: VenueOrder, state: _Account, plan: RiskPlan) -> _Check:
    disabled = plan.disabled_at[account]
    if order.received_at <= disabled:
        return None, False
    arithmetic = f"received_at {order.received_at} > disabled_at {disabled}"
    finding = Finding("violation", "trading_status", account, order, {"disabled_at": disabled}, arithmetic)
    _tolerate(finding, disabled, "trading was disabled", plan)
    return finding, True


def _tolerate(finding: Finding, crossed_at: float, what: str, plan: RiskPlan) -> None:
    late = finding.order.received_at - crossed_at
    if 0 <= late <= plan.in_flight_s:
        finding.outcome = "tolerated"
        finding.explanation = (
            f"received {late:.3f} s after {what} at {crossed_at}: within the declared in-flight "
            f"tolerance of {plan.in_flight_s:g} s, the middleware could not have known yet"
        )


def _working_json(order: VenueOrder, left: int, state: _Account) -> dict[str, Any]:
    return order.to_json() | {"filled_so_far": state.filled[order.order_id], "remaining": left}


def _listed(name: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Rows as evidence, the last MAX_LISTED of them, saying how many were left out."""
    omitted = max(0, len(rows) - MAX_LISTED)
    return {name: rows[omitted:]} | ({f"{name}_omitted": omitted} if omitted else {})


def risk_refusals(ctx: CheckContext, plan: RiskPlan) -> list[dict[str, Any]]:
    """Orders of limited accounts the middleware refused itself: failed, rejected, never at the venue."""
    at_venue = {str(o.get("client_tag")) for o in ctx.ledger.get("orders", [])}
    refused = []
    for invoked, done in ctx.history.completions("place_order"):
        coid, account = str(invoked.value["client_order_id"]), str(invoked.value["account"])
        view = ctx.orders.get(coid)
        limited = account in plan.limits or account in plan.disabled_at
        if done.type == "fail" and limited and view and view.status == "rejected" and coid not in at_venue:
            refused.append(
                {"outcome": "refused", "client_order_id": coid, "account": account, "status": done.status}
                | {k: invoked.value.get(k) for k in ("symbol", "side", "qty")}
                | {"at": invoked.time}
            )
    return refused


@checker("risk_limits_hold")
def risk_limits_hold(ctx: CheckContext) -> Verdict:
    name = "risk_limits_hold"
    plan = RiskPlan.from_extras(ctx.extras)
    if plan is None:
        return Verdict.skip(name, NO_PLAN)
    tags = ctx.our_tags()
    orders = ledger_orders(ctx.ledger, tags)
    if not orders:
        return Verdict.no_evidence(name, "no order of ours reached the venue")
    result = replay(orders, ledger_fills(ctx.ledger, tags), middleware_accounts(ctx), plan)
    refusals = risk_refusals(ctx, plan)
    bad = [f for f in result.findings if f.outcome == "violation"]
    tolerated = sum(f.outcome == "tolerated" for f in result.findings)
    allowed = sum(f.outcome == "allowed" for f in result.findings)
    tolerance = (
        f"an order the venue received within {plan.in_flight_s:g} s after its account crossed a limit "
        "(the fill that took it to its loss limit, or trading disabled) is tolerated"
    )
    others = [f.to_json() for f in result.findings if f.outcome != "violation"] + refusals + result.locked
    locked = f"{len(result.locked)} account(s) locked at the daily loss limit"
    if bad:
        kinds = ", ".join(sorted({f.limit_kind for f in bad}))
        return Verdict.fail(
            name,
            f"{len(bad)} breach(es) of a risk limit by {len({f.order.order_id for f in bad})} "
            f"order(s) of ours at the venue ({kinds}); {locked}; {tolerance}",
            [f.to_json() for f in bad] + others,
            "risk breach",
        )
    limits = ", ".join(sorted(result.limits)) or "no limit"
    if not result.approached and not refusals:
        return Verdict.no_evidence(
            name,
            f"{result.checked} of {len(orders)} order(s) of ours at the venue checked against {limits}, "
            "but none came within one order of a limit and the middleware refused none: "
            "a limit nobody approached proves nothing",
        )
    return Verdict.ok(
        name,
        f"{result.checked} order(s) of ours at the venue checked against {limits}: none breached "
        f"({result.approached} came within one order of a limit); {len(refusals)} refused by the "
        f"middleware, {tolerated} tolerated in flight, {allowed} reduce-only past the loss limit; "
        f"{locked}; {tolerance}",
        others,
    )

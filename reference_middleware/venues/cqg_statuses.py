"""What CQG's order statuses mean to the reference: which orders are ours, and one notice per change.

CQG reports an order as statuses carrying transactions, and a server may repeat them or send them out
of order; OrderService wants one event per change, in the shape it reads for Rithmic. So here: one
fill per trade id, no WORKING once the order was seen final, and an order recognised as ours from the
cl_order_id we gave it (a cancel's is `<client_order_id>~x<n>`, so any status names the original).

A trade snapshot shows an order's fill total and average, not its trades: `state()` reports what an
order filled while we were away once, under an id of ours, for reconciliation to book.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from mocks.cqg.proto import webapi_pb2 as pb

from . import cqg
from .cqg import Fill, OrderView, from_decimal

NOTIFY_WORKING, NOTIFY_CANCELLED, NOTIFY_FILL, NOTIFY_REJECTED = 1, 3, 5, 6
FINAL_NAMES = {
    cqg.FILLED: "filled",
    cqg.REJECTED: "rejected",
    cqg.CANCELLED: "cancelled",
    cqg.EXPIRED: "cancelled",
}
Price = Callable[[int, int, float], float]  # (contract id, scaled price, fallback) -> real price


@dataclass(frozen=True)
class CQGNotice:
    """One CQG order event in the shape OrderService.on_notification reads (the fields of Rithmic's
    ExchangeOrderNotification it uses)."""

    user_tag: str  # our client_order_id: the cl_order_id the order was submitted with
    basket_id: str  # the CQG order_id
    notify_type: int  # 1 working, 5 fill, 6 rejected, 3 cancelled
    fill_id: str = ""  # the CQG trade_id of a fill
    fill_size: int = 0
    fill_price: float = 0.0  # real price: scaled_fill_price * the contract's correct_price_scale
    total_fill_size: int = 0  # 0: unknown
    text: str = ""
    status: str = ""
    venue: str = "cqg"


@dataclass(frozen=True)
class VenueOrderState:
    client_order_id: str  # ours
    order_id: str
    status: str  # "working" | "filled" | "cancelled" | "rejected" | "partially_filled"
    filled_qty: int
    fills: tuple[tuple[str, int, float], ...]  # (trade_id, qty, real price), once each
    avg_price: float = 0.0  # the venue's average fill price over `filled_qty`


def original(cl_order_id: str) -> str:
    """The client_order_id a cl_order_id of ours derives from (a cancel's `~x<n>` taken off)."""
    return cl_order_id.split("~")[0]


class OrderStatuses:
    def __init__(self, price: Price, quantity: Callable[[pb.Decimal], Decimal] = from_decimal) -> None:
        self._price, self._quantity = price, quantity
        self.ours: set[str] = set()  # client_order_ids submitted (or cancelled) through this venue
        self.owner: dict[str, str] = {}  # CQG order_id -> our client_order_id
        self._trades: set[str] = set()
        self._working: set[str] = set()  # order ids noticed as working
        self._final: set[str] = set()  # order ids seen filled, cancelled or rejected
        # what an order had filled when first seen in a snapshot (qty, notional), and the fills reported
        # for what it filled while we were away; neither has a trade id
        self._baseline: dict[str, tuple[int, float]] = {}
        self._gaps: dict[str, list[tuple[str, int, float]]] = {}

    def read(self, s: pb.OrderStatus) -> tuple[str | None, list[CQGNotice]]:
        """The status's order as ours (None: not ours) and the notices it adds."""
        ours = self.owner.get(s.order_id)
        for cl in (s.cl_order_id, *(t.cl_order_id for t in s.transaction_statuses)):
            if ours is None and original(cl) in self.ours:
                ours = original(cl)
        if ours is None and s.is_snapshot and s.cl_order_id:
            ours = original(s.cl_order_id)  # this login's order from before a middleware restart
            self._baseline[s.order_id] = self._untraded(s)
        if ours is None:
            return None, []
        self.owner[s.order_id] = ours
        return ours, self._notices(s, ours)

    def _notices(self, s: pb.OrderStatus, tag: str) -> list[CQGNotice]:
        """What this status adds: working (once, never after final), each new trade, then the end."""
        oid, out = s.order_id, list[CQGNotice]()
        if s.status == cqg.WORKING and oid not in self._working and oid not in self._final:
            self._working.add(oid)
            out.append(CQGNotice(tag, oid, NOTIFY_WORKING, status="working"))
        total = int(self._quantity(s.fill_qty))
        for t in s.transaction_statuses:
            if t.trade_id and t.trade_id not in self._trades:
                self._trades.add(t.trade_id)
                price = self._price(s.contract_id, t.scaled_fill_price, s.avg_fill_price_correct)
                state = "filled" if s.status == cqg.FILLED else "partially_filled"
                qty = int(self._quantity(t.fill_qty))
                out.append(CQGNotice(tag, oid, NOTIFY_FILL, t.trade_id, qty, price, total, status=state))
        if s.status in FINAL_NAMES and oid not in self._final:
            self._final.add(oid)
            if s.status != cqg.FILLED:
                kind = NOTIFY_REJECTED if s.status == cqg.REJECTED else NOTIFY_CANCELLED
                out.append(CQGNotice(tag, oid, kind, text=s.reject_message, status=FINAL_NAMES[s.status]))
        return out

    def _untraded(self, s: pb.OrderStatus) -> tuple[int, float]:
        """The quantity and notional of an order's fills that this status shows without a trade id."""
        qty, paid = int(from_decimal(s.fill_qty)), s.avg_fill_price_correct * int(from_decimal(s.fill_qty))
        for t in (t for t in s.transaction_statuses if t.trade_id):
            qty -= int(from_decimal(t.fill_qty))
            paid -= int(from_decimal(t.fill_qty)) * self._price(s.contract_id, t.scaled_fill_price, 0.0)
        return qty, paid

    def states(self, views: Iterable[OrderView], fills: Iterable[Fill]) -> list[VenueOrderState]:
        """Every order of ours among the client's views, as the venue last reported it."""
        by_order: dict[str, list[Fill]] = {}
        for fill in fills:
            by_order.setdefault(fill.order_id, []).append(fill)
        return [self._state(v, by_order.get(v.order_id, [])) for v in views if v.order_id in self.owner]

    def _state(self, view: OrderView, fills: list[Fill]) -> VenueOrderState:
        """The order with its fills, once each. Fills made while we were away have no trade id in the
        snapshot: what the order's total adds beyond the fills we know is reported once, under an id of
        ours. What it had filled before this venue first saw it is in `filled_qty` only (an earlier
        process may have booked it already, under the real trade ids)."""
        oid, filled, gaps = view.order_id, int(view.fill_qty), self._gaps.setdefault(view.order_id, [])
        listed = [
            (f.trade_id, int(f.qty), self._price(view.contract_id, f.scaled_price, view.avg_fill_price))
            for f in fills
        ] + gaps
        before_qty, before_paid = self._baseline.get(oid, (0, 0.0))
        gap = filled - before_qty - sum(qty for _, qty, _ in listed)
        if gap > 0:
            paid = view.avg_fill_price * filled - before_paid - sum(qty * price for _, qty, price in listed)
            gaps.append((f"cqg-gap-{oid}-{filled}", gap, round(paid / gap, 9)))
            listed.append(gaps[-1])
        status = FINAL_NAMES.get(view.status) or ("partially_filled" if filled else "working")
        return VenueOrderState(
            self.owner[oid], oid, status, filled, tuple(listed), float(view.avg_fill_price or 0.0)
        )

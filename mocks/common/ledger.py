"""The venue ledger: venue-side truth that the gate holds the middleware against."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class LedgerOrder:
    order_id: str
    client_tag: str  # the client's own id for the order (user_tag, client_order_id, ...)
    account: str
    symbol: str
    exchange: str
    side: str  # "BUY" | "SELL"
    qty: int
    order_type: str  # "MARKET" | "LIMIT" | ...
    price: float | None
    status: str = "open"
    filled_qty: int = 0
    received_at: float = field(default_factory=time.time)
    closed_at: float | None = None  # epoch seconds it became final (filled, cancelled, rejected), if known


@dataclass
class LedgerFill:
    fill_id: str
    order_id: str
    client_tag: str
    account: str
    symbol: str
    exchange: str
    side: str
    qty: int
    price: float
    sent_at: float = field(default_factory=time.time)
    duplicate_of: str | None = None  # set when a fault re-sent an earlier fill
    fee: float = 0.0  # the venue's commission on this fill (USD); 0.0 where a mock charges none


@dataclass
class Delivery:
    event_id: str
    event_type: str
    url: str
    attempt: int
    status: int | None
    response: str
    faults: list[str]
    sent_at: float = field(default_factory=time.time)


class Ledger:
    """Orders received, fills sent, positions and webhook deliveries, as the venue saw them.

    Positions derive from fills the venue really executed; a duplicate notification sent by a
    fault is recorded with `duplicate_of` and never counts twice.
    """

    def __init__(self) -> None:
        self.orders: dict[str, LedgerOrder] = {}
        self.fills: list[LedgerFill] = []
        self.deliveries: list[Delivery] = []

    def add_order(self, order: LedgerOrder) -> LedgerOrder:
        self.orders[order.order_id] = order
        return order

    def add_fill(self, fill: LedgerFill) -> LedgerFill:
        self.fills.append(fill)
        order = self.orders.get(fill.order_id)
        if order is not None and fill.duplicate_of is None:
            order.filled_qty += fill.qty
            order.status = "filled" if order.filled_qty >= order.qty else "partial"
        return fill

    def add_delivery(self, delivery: Delivery) -> Delivery:
        self.deliveries.append(delivery)
        return delivery

    def positions(self) -> list[dict[str, Any]]:
        net: dict[tuple[str, str, str], int] = {}
        for fill in self.fills:
            if fill.duplicate_of is not None:
                continue
            key = (fill.account, fill.symbol, fill.exchange)
            net[key] = net.get(key, 0) + (fill.qty if fill.side == "BUY" else -fill.qty)
        return [
            {"account": a, "symbol": s, "exchange": e, "net_qty": q} for (a, s, e), q in sorted(net.items())
        ]

    def clear(self) -> None:
        self.orders.clear()
        self.fills.clear()
        self.deliveries.clear()

    def to_json(self) -> dict[str, Any]:
        return {
            "orders": [asdict(o) for o in self.orders.values()],
            "fills": [asdict(f) for f in self.fills],
            "positions": self.positions(),
            "deliveries": [asdict(d) for d in self.deliveries],
        }

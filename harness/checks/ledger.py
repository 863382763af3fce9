"""The venue's ledger, its price path and the scenario's risk plan, typed: what the risk, price, quote
and P&L checkers read.

A missing `closed_at` or `fee` (a mock that does not record them) reads as None / 0.0."""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .base import CheckContext

NO_PLAN = "the scenario declares no risk limits"


@dataclass(frozen=True)
class VenueOrder:
    order_id: str
    client_tag: str
    account: str  # the venue account: several middleware accounts may share one
    symbol: str
    side: str  # BUY | SELL
    qty: int
    order_type: str
    status: str  # open | filled | cancelled | rejected
    filled_qty: int
    received_at: float
    closed_at: float | None  # when it became filled, cancelled or rejected

    @classmethod
    def from_json(cls, row: Mapping[str, Any]) -> VenueOrder:
        closed = row.get("closed_at")
        return cls(
            str(row["order_id"]),
            str(row["client_tag"]),
            str(row.get("account", "")),
            str(row["symbol"]),
            str(row["side"]).upper(),
            int(row["qty"]),
            str(row.get("order_type", "")).upper(),
            str(row.get("status", "open")),
            int(row.get("filled_qty", 0)),
            float(row["received_at"]),
            None if closed is None else float(closed),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "client_order_id": self.client_tag,
            "venue_order_id": self.order_id,
            "venue_account": self.account,
            "symbol": self.symbol,
            "side": self.side,
            "qty": self.qty,
            "order_type": self.order_type,
            "venue_status": self.status,
            "received_at": self.received_at,
            "closed_at": self.closed_at,
        }


@dataclass(frozen=True)
class VenueFill:
    fill_id: str
    order_id: str
    client_tag: str
    symbol: str
    side: str
    qty: int
    price: float
    sent_at: float
    fee: float = 0.0  # USD for the whole fill
    duplicate_of: str | None = None  # a fault re-sent an earlier fill: never counts

    @classmethod
    def from_json(cls, row: Mapping[str, Any]) -> VenueFill:
        dup = row.get("duplicate_of")
        return cls(
            str(row["fill_id"]),
            str(row["order_id"]),
            str(row["client_tag"]),
            str(row["symbol"]),
            str(row["side"]).upper(),
            int(row["qty"]),
            float(row["price"]),
            float(row["sent_at"]),
            float(row.get("fee") or 0.0),
            None if dup is None else str(dup),
        )

    @property
    def signed(self) -> int:
        return self.qty if self.side == "BUY" else -self.qty

    def to_json(self) -> dict[str, Any]:
        return {
            "fill_id": self.fill_id,
            "client_order_id": self.client_tag,
            "side": self.side,
            "qty": self.qty,
            "price": self.price,
            "sent_at": self.sent_at,
            "fee": self.fee,
        }


@dataclass
class AvgCost:
    """One symbol's position, booked by average cost as the Rithmic mock's pnl.Position does."""

    point_value: float
    net: int = 0
    avg_open: float = 0.0
    realised: float = 0.0

    def apply(self, fill: VenueFill) -> float:
        """Books the fill; returns the P&L it realised (before its fee)."""
        if fill.qty <= 0:
            return 0.0
        if self.net == 0 or (self.net > 0) == (fill.signed > 0):
            total = abs(self.net) + fill.qty
            self.avg_open = (self.avg_open * abs(self.net) + fill.price * fill.qty) / total
            self.net += fill.signed
            return 0.0
        closing = min(abs(self.net), fill.qty)
        direction = 1 if self.net > 0 else -1
        gained = (fill.price - self.avg_open) * closing * direction * self.point_value
        self.realised += gained
        self.net += fill.signed
        if self.net == 0:
            self.avg_open = 0.0
        elif (self.net > 0) != (direction > 0):  # flipped through flat: the rest opens at this price
            self.avg_open = fill.price
        return gained


def ledger_orders(ledger: Mapping[str, Any], tags: set[str]) -> list[VenueOrder]:
    """The venue's orders carrying one of our client tags."""
    return [VenueOrder.from_json(o) for o in ledger.get("orders", []) if o.get("client_tag") in tags]


def ledger_fills(ledger: Mapping[str, Any], tags: set[str]) -> list[VenueFill]:
    """The venue's real fills of our orders: a duplicate a fault re-sent never counts."""
    fills = [VenueFill.from_json(f) for f in ledger.get("fills", []) if f.get("client_tag") in tags]
    return [f for f in fills if not f.duplicate_of]


def middleware_accounts(ctx: CheckContext) -> dict[str, str]:
    """client_order_id -> middleware account, from the orders the traders placed."""
    return {
        str(invoked.value["client_order_id"]): str(invoked.value["account"])
        for invoked, _ in ctx.history.completions("place_order")
    }


@dataclass(frozen=True)
class Limits:
    max_order_qty: int | None = None
    max_position: int | None = None
    daily_loss_limit: float | None = None


@dataclass(frozen=True)
class InstrumentSpec:
    point_value: float = 1.0
    fee_per_contract: float = 0.0
    tick_size: float | None = None


@dataclass(frozen=True)
class StalePlan:
    bound_s: float  # how long a market order may still go out after the feed stopped
    windows: tuple[tuple[float, float], ...]  # epoch seconds: market data to the middleware stopped


@dataclass(frozen=True)
class RiskPlan:
    """ctx.extras["risk"], typed."""

    limits: Mapping[str, Limits] = field(default_factory=dict)
    disabled_at: Mapping[str, float] = field(default_factory=dict)  # account -> epoch trading stopped
    in_flight_s: float = 0.0
    instruments: Mapping[str, InstrumentSpec] = field(default_factory=dict)
    stale: StalePlan | None = None
    epoch0: float | None = None  # the epoch of run-clock 0

    @classmethod
    def from_extras(cls, extras: Mapping[str, Any]) -> RiskPlan | None:
        raw = extras.get("risk")
        if not isinstance(raw, Mapping):
            return None
        stale = raw.get("stale")
        return cls(
            {str(a): _limits(lim) for a, lim in (raw.get("limits") or {}).items()},
            {str(a): float(t) for a, t in (raw.get("disabled_at") or {}).items()},
            float(raw.get("in_flight_s") or 0.0),
            instruments(extras),
            StalePlan(
                float(stale.get("bound_s") or 0.0), tuple((float(s), float(e)) for s, e in stale["windows"])
            )
            if isinstance(stale, Mapping)
            else None,
            None if raw.get("epoch0") is None else float(raw["epoch0"]),
        )


def instruments(extras: Mapping[str, Any]) -> dict[str, InstrumentSpec]:
    raw = extras.get("risk")
    declared = raw.get("instruments") if isinstance(raw, Mapping) else None
    return {
        str(symbol): InstrumentSpec(
            float(spec.get("point_value", 1.0)),
            float(spec.get("fee_per_contract", 0.0)),
            None if spec.get("tick_size") is None else float(spec["tick_size"]),
        )
        for symbol, spec in (declared or {}).items()
    }


def _limits(raw: Mapping[str, Any]) -> Limits:
    def number(key: str) -> float | None:
        return None if raw.get(key) is None else float(raw[key])

    qty, position, loss = number("max_order_qty"), number("max_position"), number("daily_loss_limit")
    return Limits(None if qty is None else int(qty), None if position is None else int(position), loss)


@dataclass(frozen=True)
class MarketStep:
    """One step of the venue's price path (mocks/rithmic/history.py `history_json`)."""

    ts: float  # epoch seconds
    seq: int
    bid: float
    ask: float
    last: float
    regime: str = ""

    @classmethod
    def from_json(cls, row: Mapping[str, Any]) -> MarketStep:
        return cls(
            float(row["ts"]),
            int(row.get("seq") or 0),
            float(row["bid"]),
            float(row["ask"]),
            float(row["last"]),
            str(row.get("regime") or ""),
        )

    def to_json(self) -> dict[str, Any]:
        return {"ts": self.ts, "seq": self.seq, "bid": self.bid, "ask": self.ask, "last": self.last} | (
            {"regime": self.regime} if self.regime else {}
        )


@dataclass(frozen=True)
class MarketPath:
    """What the venue showed of one symbol, oldest step first, with the symbol's money terms."""

    symbol: str
    spec: InstrumentSpec
    steps: tuple[MarketStep, ...]

    def in_force(self, start: float, end: float) -> list[MarketStep]:
        """What the venue showed over [start, end]: the quote in force at `start` (its last step at or
        before it), then every step up to `end`."""
        lo = bisect.bisect_right(self.steps, start, key=lambda s: s.ts)
        hi = bisect.bisect_right(self.steps, end, key=lambda s: s.ts)
        return list(self.steps[max(lo - 1, 0) : max(hi, lo)])

    def last_at(self, at: float) -> MarketStep | None:
        """The venue's last step at or before `at`."""
        i = bisect.bisect_right(self.steps, at, key=lambda s: s.ts)
        return self.steps[i - 1] if i else None

    def nearest(self, at: float) -> MarketStep | None:
        i = bisect.bisect_left(self.steps, at, key=lambda s: s.ts)
        near = self.steps[max(i - 1, 0) : i + 1]
        return min(near, key=lambda s: abs(s.ts - at)) if near else None


def market_paths(extras: Mapping[str, Any]) -> dict[str, MarketPath]:
    """ctx.extras["market"], typed: symbol -> the venue's price path. Money terms the path does not
    carry come from the risk plan's instruments."""
    declared = instruments(extras)
    paths = {}
    for symbol, raw in (extras.get("market") or {}).items():
        base = declared.get(str(symbol)) or InstrumentSpec()
        tick = raw.get("tick_size")
        spec = InstrumentSpec(
            float(raw.get("point_value", base.point_value)),
            float(raw.get("fee_per_contract", base.fee_per_contract)),
            base.tick_size if tick is None else float(tick),
        )
        steps = sorted((MarketStep.from_json(s) for s in raw.get("steps") or ()), key=lambda s: (s.ts, s.seq))
        paths[str(symbol)] = MarketPath(str(symbol), spec, tuple(steps))
    return paths

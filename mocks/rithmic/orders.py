"""Order matching against the seeded price paths: pure state, no I/O.

- A market order fills at the touch (buys at the ask, sells at the bid).
- A limit order fills on arrival at the touch when it is marketable; otherwise it rests and fills at
  its own price once the path crosses it (the ask falls to a buy limit, the bid rises to a sell limit).
- Stop orders trigger on the last trade price, then behave as market or limit orders.
- Every fill takes at most the size shown at the touch, so an order larger than that fills in parts,
  one part per price step, until it is done.
- Market regimes (regimes.py), read from the path: while it is halted nothing matches, and an order
  that arrived meanwhile meets the reopened market as a new arrival (at the touch); under thin
  liquidity an order takes at most 1 contract, only on every `every`-th step of its instrument.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from .market import Market, Quote

BUY, SELL = 1, 2
LIMIT, MARKET, STOP_LIMIT, STOP_MARKET = 1, 2, 3, 4
PRICE_TYPE_NAMES = {LIMIT: "LIMIT", MARKET: "MARKET", STOP_LIMIT: "STOP_LIMIT", STOP_MARKET: "STOP_MARKET"}


class OrderError(ValueError):
    """A request the venue refuses; `rp_code` is what goes back to the client."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(f"{code} {text}")
        self.rp_code = [code, text]


@dataclass
class Order:
    basket_id: str
    user_tag: str
    user: str
    account_id: str
    symbol: str
    exchange: str
    side: int
    qty: int
    price_type: int
    price: float
    trigger_price: float
    duration: int
    trade_route: str
    manual_or_auto: int
    filled: int = 0
    notional: float = 0.0
    status: str = "open"  # open | complete
    completion_reason: str = ""  # Fill | Cancel | Reject
    triggered: bool = False
    rested: bool = False
    arrived_halted: bool = False  # reached the engine while its instrument was halted
    last_fill_seq: int = -1  # the path step of its latest fill (thin liquidity: one per step)

    @property
    def remaining(self) -> int:
        return self.qty - self.filled if self.status == "open" else 0

    @property
    def avg_fill_price(self) -> float:
        return self.notional / self.filled if self.filled else 0.0

    @property
    def exchange_order_id(self) -> str:
        return f"X{self.basket_id}"

    @property
    def side_name(self) -> str:
        return "BUY" if self.side == BUY else "SELL"

    @property
    def is_working(self) -> bool:
        return self.status == "open"


@dataclass(frozen=True)
class Execution:
    order: Order
    fill_id: str
    price: float
    size: int


class MatchingEngine:
    def __init__(self, market: Market) -> None:
        self.market = market
        self.orders: dict[str, Order] = {}
        # Indexes, so a clock step and an account's snapshot cost what they touch, not the run's
        # whole history: 15,000 orders scanned on every step of every instrument lagged the mock's
        # loop by seconds under load. An order leaves `_resting` lazily, on the first step that
        # finds it no longer working (its status only ever moves from open to complete).
        self._resting: dict[tuple[str, str], dict[str, Order]] = {}
        self._by_account: dict[str, list[Order]] = {}
        self._baskets = itertools.count(1)
        self._fills = itertools.count(1)

    def reset(self) -> None:
        self.orders.clear()
        self._resting.clear()
        self._by_account.clear()
        self._baskets = itertools.count(1)
        self._fills = itertools.count(1)

    def next_basket_id(self) -> str:
        return str(100_000_000 + next(self._baskets))

    def validate(self, order: Order) -> None:
        path = self.market.lookup(order.symbol, order.exchange)
        if path is None:
            raise OrderError("1027", f"instrument {order.symbol} on {order.exchange} is not listed")
        if order.qty <= 0:
            raise OrderError("1014", "quantity must be positive")
        if order.side not in (BUY, SELL):
            raise OrderError("1015", "invalid transaction type")
        if order.price_type not in PRICE_TYPE_NAMES:
            raise OrderError("1016", "unsupported price type")
        inst = path.instrument
        for name, value in (("price", order.price), ("trigger_price", order.trigger_price)):
            # Matching turns both into ticks whatever the order type: NaN, infinity, or a value whose
            # tick count overflows would fail there, on every later step of the instrument's path.
            if not math.isfinite(value / inst.tick_size):
                raise OrderError("1018", f"{name} {value} is not a finite price")
            needed = (name == "price" and order.price_type in (LIMIT, STOP_LIMIT)) or (
                name == "trigger_price" and order.price_type in (STOP_LIMIT, STOP_MARKET)
            )
            if needed and (value <= 0 or abs(inst.to_ticks(value) * inst.tick_size - value) > 1e-9):
                raise OrderError("1018", f"{name} {value} is not on the {inst.tick_size} tick grid")

    def accept(self, order: Order) -> list[Execution]:
        """Register a validated order and fill whatever is marketable now."""
        self.orders[order.basket_id] = order
        self._by_account.setdefault(order.account_id, []).append(order)
        fills = self._match(order)
        if order.is_working:
            self._resting.setdefault((order.symbol, order.exchange), {})[order.basket_id] = order
        return fills

    def resting_count(self, symbol: str, exchange: str) -> int:
        """Orders the next step of this instrument will look at (finished ones leave at that step)."""
        return len(self._resting.get((symbol, exchange), {}))

    def orders_of(self, account_id: str) -> list[Order]:
        """The account's orders, oldest first."""
        return list(self._by_account.get(account_id, ()))

    def on_step(self, symbol: str, exchange: str) -> list[Execution]:
        """Match resting orders on this instrument after its path stepped."""
        path = self.market.lookup(symbol, exchange)
        if path is None or path.regime.halted:
            return []
        fills: list[Execution] = []
        resting = self._resting.get((symbol, exchange), {})
        for basket_id, order in list(resting.items()):
            if not order.is_working:
                del resting[basket_id]
                continue
            if order.arrived_halted:  # first step after the halt: still a new arrival
                order.arrived_halted = False
            else:
                order.rested = True
            fills.extend(self._match(order))
        return fills

    def cancel(self, basket_id: str, account_id: str) -> Order:
        order = self._working(basket_id, account_id)
        order.status, order.completion_reason = "complete", "Cancel"
        return order

    def modify(
        self, basket_id: str, account_id: str, qty: int, price: float, trigger_price: float, price_type: int
    ) -> tuple[Order, list[Execution]]:
        order = self._working(basket_id, account_id)
        if qty <= order.filled:
            raise OrderError("1030", f"quantity {qty} is not above the filled {order.filled}")
        candidate = Order(**{**order.__dict__, "qty": qty, "price": price, "trigger_price": trigger_price})
        candidate.price_type = price_type or order.price_type
        self.validate(candidate)
        order.qty, order.price, order.trigger_price = qty, price, trigger_price
        order.price_type = candidate.price_type
        order.rested = False
        return order, self._match(order)

    def _working(self, basket_id: str, account_id: str) -> Order:
        order = self.orders.get(basket_id)
        if order is None or (account_id and order.account_id != account_id):
            raise OrderError("1031", f"no order with basket id {basket_id!r}")
        if not order.is_working:
            raise OrderError("1032", f"order {basket_id} is already {order.completion_reason.lower()}")
        return order

    def _match(self, order: Order) -> list[Execution]:
        path = self.market.lookup(order.symbol, order.exchange)
        if path is None or not order.is_working:
            return []
        quote, inst, regime = path.quote, path.instrument, path.regime
        if regime.halted:
            order.arrived_halted = order.arrived_halted or not order.rested
            return []
        if order.price_type in (STOP_LIMIT, STOP_MARKET) and not order.triggered:
            trigger = inst.to_ticks(order.trigger_price)
            hit = quote.last_ticks >= trigger if order.side == BUY else quote.last_ticks <= trigger
            if not hit:
                return []
            order.triggered, order.rested = True, False
        price_ticks = self._fill_ticks(order, quote, inst.to_ticks(order.price))
        if price_ticks is None:
            return []
        touch_size = quote.ask_size if order.side == BUY else quote.bid_size
        if regime.thin_every:
            if quote.seq % regime.thin_every or order.last_fill_seq == quote.seq:
                return []
            touch_size = 1
        size = min(order.remaining, touch_size)
        price = inst.price(price_ticks)
        order.last_fill_seq = quote.seq
        order.filled += size
        order.notional += price * size
        if order.filled >= order.qty:
            order.status, order.completion_reason = "complete", "Fill"
        return [Execution(order, f"F{next(self._fills):09d}", price, size)]

    @staticmethod
    def _fill_ticks(order: Order, quote: Quote, limit: int) -> int | None:
        touch = quote.ask_ticks if order.side == BUY else quote.bid_ticks
        if order.price_type in (MARKET, STOP_MARKET):
            return touch
        crossed = touch <= limit if order.side == BUY else touch >= limit
        if not crossed:
            return None
        return limit if order.rested else touch

"""The TT mock's venue-side state: accounts and risk limits, instruments, orders and fills.

Fills and orders live in the venue `Ledger` (the gate's truth); this module adds what TT shows
on top of them: numeric account and instrument ids, and a strictly increasing `transactTime` in
epoch nanoseconds, so that TT's documented paging (`minTimestamp = last transactTime + 1`) never
skips or repeats a fill.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Any

from mocks.common import Ledger, LedgerFill, LedgerOrder

# symbol, product, tick size, point value, price around which seeded fills are made
CONTRACTS: tuple[tuple[str, str, float, float, float], ...] = (
    ("ESZ6", "ES", 0.25, 50.0, 6000.0),
    ("NQZ6", "NQ", 0.25, 20.0, 21000.0),
    ("CLF7", "CL", 0.01, 1000.0, 70.0),
    ("GCG7", "GC", 0.1, 100.0, 2600.0),
)
EXCHANGE = "CME"
CME_MARKET_ID = 7
SIDES = {"BUY": 1, "SELL": 2}


@dataclass
class Instrument:
    id: str
    symbol: str
    product: str
    product_id: int
    tick_size: float
    point_value: float
    base_price: float

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.symbol,
            "alias": self.symbol,
            "productSymbol": self.product,
            "productId": self.product_id,
            "productTypeId": 34,  # future
            "marketId": CME_MARKET_ID,
            "securityExchangeId": EXCHANGE,
            "tickSize": self.tick_size,
            "pointValue": self.point_value,
            "currency": "USD",
        }


@dataclass
class Account:
    id: int
    name: str
    description: str = ""
    parent_id: int | None = None
    risk_limits: list[dict[str, Any]] = field(default_factory=list)
    created_ns: int = field(default_factory=time.time_ns)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "parentId": self.parent_id,
            "riskLimitsCount": len(self.risk_limits),
        }


class TTState:
    """Accounts, instruments and the TT view of the ledger, all fixed by the seed."""

    def __init__(self, seed: int, ledger: Ledger) -> None:
        self.rng = random.Random(f"tt-state-{seed}")
        self.ledger = ledger
        self.instruments: dict[str, Instrument] = {}
        self.accounts: dict[int, Account] = {}
        self.fill_times: dict[str, int] = {}  # fill_id -> transactTime (ns)
        self.order_times: dict[str, int] = {}  # order_id -> transactTime (ns)
        self._last_ns = 0
        self._seq = 0
        for symbol, product, tick, point_value, base in CONTRACTS:
            iid = str(self.rng.randrange(10**18, 10**19))
            self.instruments[iid] = Instrument(
                iid, symbol, product, self.rng.randrange(10**5, 10**6), tick, point_value, base
            )
        for n in range(1, 4):
            self.add_account(f"UAT-ACC-{n:02d}", "seeded")

    # -- accounts -----------------------------------------------------------------------------

    def add_account(self, name: str, description: str = "", parent_id: int | None = None) -> Account:
        account_id = self.rng.randrange(100_000, 1_000_000)
        while account_id in self.accounts:
            account_id = self.rng.randrange(100_000, 1_000_000)
        account = Account(account_id, name, description, parent_id)
        self.accounts[account_id] = account
        return account

    def find_account(self, raw: str) -> Account | None:
        try:
            return self.accounts.get(int(raw))
        except ValueError:
            return None

    # -- instruments --------------------------------------------------------------------------

    def instrument_for(self, symbol: str) -> Instrument | None:
        for inst in self.instruments.values():
            if symbol in (inst.symbol, inst.product, inst.id):
                return inst
        return None

    # -- fills --------------------------------------------------------------------------------

    def _next_ns(self, at_least: int | None = None) -> int:
        now = time.time_ns() if at_least is None else at_least
        self._last_ns = max(now, self._last_ns + 1)
        return self._last_ns

    def _next_id(self, prefix: str) -> str:
        self._seq += 1
        return f"{prefix}{self._seq:08d}-{self.rng.randrange(16**6):06x}"

    def add_fill(
        self,
        account: Account,
        instrument: Instrument,
        side: str,
        qty: int,
        price: float | None = None,
        client_tag: str | None = None,
        transact_ns: int | None = None,
    ) -> LedgerFill:
        """One order, fully filled: the order and the fill go into the venue ledger."""
        order_id = self._next_id("ord-")
        tag = client_tag or self._next_id("clord-")
        if price is None:
            ticks = self.rng.randint(-40, 40)
            price = round(instrument.base_price + ticks * instrument.tick_size, 6)
        ns = self._next_ns(transact_ns)
        order = LedgerOrder(
            order_id, tag, str(account.id), instrument.symbol, EXCHANGE, side, qty, "LIMIT", price
        )
        self.ledger.add_order(order)
        self.order_times[order_id] = ns
        fill = LedgerFill(
            self._next_id("fill-"),
            order_id,
            tag,
            str(account.id),
            instrument.symbol,
            EXCHANGE,
            side,
            qty,
            price,
        )
        self.ledger.add_fill(fill)
        self.fill_times[fill.fill_id] = ns
        return fill

    def seed_fills(
        self,
        account: Account,
        count: int,
        symbol: str | None = None,
        start_ns: int | None = None,
        step_ns: int = 1_000_000,
    ) -> list[LedgerFill]:
        instruments = list(self.instruments.values())
        fixed = self.instrument_for(symbol) if symbol else None
        made = []
        for i in range(count):
            inst = fixed or self.rng.choice(instruments)
            side = self.rng.choice(("BUY", "SELL"))
            at = None if start_ns is None else start_ns + i * step_ns
            made.append(self.add_fill(account, inst, side, self.rng.randint(1, 5), transact_ns=at))
        return made

    def fill_json(self, fill: LedgerFill) -> dict[str, Any]:
        inst = self.instrument_for(fill.symbol)
        return {
            "recordId": fill.fill_id,
            "fillId": fill.fill_id,
            "orderId": fill.order_id,
            "clOrdId": fill.client_tag,
            "accountId": int(fill.account) if fill.account.isdigit() else fill.account,
            "instrumentId": inst.id if inst else None,
            "symbol": fill.symbol,
            "securityExchangeId": fill.exchange,
            "side": SIDES.get(fill.side, fill.side),
            "lastQty": fill.qty,
            "lastPx": fill.price,
            "transactTime": self.fill_times.get(fill.fill_id, 0),
        }

    def order_json(self, order: LedgerOrder) -> dict[str, Any]:
        inst = self.instrument_for(order.symbol)
        return {
            "orderId": order.order_id,
            "clOrdId": order.client_tag,
            "accountId": int(order.account) if order.account.isdigit() else order.account,
            "instrumentId": inst.id if inst else None,
            "side": SIDES.get(order.side, order.side),
            "orderQty": order.qty,
            "cumQty": order.filled_qty,
            "ordType": order.order_type,
            "price": order.price,
            "ordStatus": order.status,
            "transactTime": self.order_times.get(order.order_id, 0),
        }

    def positions(self, account_ids: set[str] | None) -> list[dict[str, Any]]:
        """Net positions per account and instrument, from the fills the venue really executed."""
        totals: dict[tuple[str, str], dict[str, float]] = {}
        for fill in self.ledger.fills:
            if fill.duplicate_of is not None or (account_ids is not None and fill.account not in account_ids):
                continue
            row = totals.setdefault(
                (fill.account, fill.symbol), {"buy": 0, "sell": 0, "buy_value": 0.0, "sell_value": 0.0}
            )
            key = "buy" if fill.side == "BUY" else "sell"
            row[key] += fill.qty
            row[key + "_value"] += fill.qty * fill.price
        out = []
        for (account, symbol), row in sorted(totals.items()):
            inst = self.instrument_for(symbol)
            out.append(
                {
                    "accountId": int(account) if account.isdigit() else account,
                    "instrumentId": inst.id if inst else None,
                    "symbol": symbol,
                    "netPosition": int(row["buy"] - row["sell"]),
                    "buyFillQty": int(row["buy"]),
                    "sellFillQty": int(row["sell"]),
                    "avgBuy": row["buy_value"] / row["buy"] if row["buy"] else 0.0,
                    "avgSell": row["sell_value"] / row["sell"] if row["sell"] else 0.0,
                }
            )
        return out

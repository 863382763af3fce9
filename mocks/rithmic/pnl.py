"""Positions and P&L per account and instrument, and the 450/451 messages that report them.

Only fills the venue really executed count; a duplicate notification sent by a fault never does.
Quirk kept from R|Protocol: `day_pnl` is a double in 450 but a string in 451, as are most money fields.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from .market import Instrument, Market
from .protocol import Message, build

START_BALANCE = 100_000.0


@dataclass
class Position:
    account_id: str
    instrument: Instrument
    net: int = 0
    avg_open: float = 0.0
    realized: float = 0.0
    buys: int = 0
    sells: int = 0

    def apply(self, side_buy: bool, size: int, price: float) -> None:
        signed = size if side_buy else -size
        if side_buy:
            self.buys += size
        else:
            self.sells += size
        if self.net == 0 or (self.net > 0) == (signed > 0):
            total = abs(self.net) + size
            self.avg_open = (self.avg_open * abs(self.net) + price * size) / total
            self.net += signed
            return
        closing = min(abs(self.net), size)
        direction = 1 if self.net > 0 else -1
        self.realized += (price - self.avg_open) * closing * direction * self.instrument.point_value
        self.net += signed
        if self.net == 0:
            self.avg_open = 0.0
        elif (self.net > 0) != (direction > 0):  # flipped through flat: the rest opens at this price
            self.avg_open = price

    def open_pnl(self, mark: float) -> float:
        return (mark - self.avg_open) * self.net * self.instrument.point_value if self.net else 0.0


class PnlBook:
    def __init__(self, market: Market) -> None:
        self.market = market
        self.positions: dict[tuple[str, str, str], Position] = {}

    def reset(self) -> None:
        self.positions.clear()

    def apply_fill(
        self, account_id: str, symbol: str, exchange: str, buy: bool, size: int, price: float
    ) -> None:
        path = self.market.lookup(symbol, exchange)
        if path is None:
            return
        key = (account_id, symbol, exchange)
        position = self.positions.get(key)
        if position is None:
            position = self.positions[key] = Position(account_id, path.instrument)
        position.apply(buy, size, price)

    def for_account(self, account_id: str) -> list[Position]:
        return [p for (a, _, _), p in sorted(self.positions.items()) if a == account_id]

    def accounts_with_positions(self) -> set[str]:
        return {a for (a, _, _), p in self.positions.items() if p.net}

    def _mark(self, position: Position) -> float:
        inst = position.instrument
        path = self.market.lookup(inst.symbol, inst.exchange)
        return inst.price(path.quote.last_ticks) if path is not None else position.avg_open

    def instrument_update(self, position: Position, fcm_id: str, ib_id: str, snapshot: bool) -> Message:
        inst = position.instrument
        open_pnl = position.open_pnl(self._mark(position))
        ssboe, usecs = _now()
        return build(
            450,
            is_snapshot=snapshot,
            fcm_id=fcm_id,
            ib_id=ib_id,
            account_id=position.account_id,
            symbol=inst.symbol,
            exchange=inst.exchange,
            product_code=inst.root,
            instrument_type="Future",
            fill_buy_qty=position.buys,
            fill_sell_qty=position.sells,
            buy_qty=position.buys,
            sell_qty=position.sells,
            avg_open_fill_price=round(position.avg_open, 6),
            day_open_pnl=round(open_pnl, 2),
            day_closed_pnl=round(position.realized, 2),
            day_pnl=round(open_pnl + position.realized, 2),
            open_position_pnl=f"{open_pnl:.2f}",
            open_position_quantity=abs(position.net),
            closed_position_pnl=f"{position.realized:.2f}",
            net_quantity=position.net,
            ssboe=ssboe,
            usecs=usecs,
        )

    def account_update(self, account_id: str, fcm_id: str, ib_id: str, snapshot: bool) -> Message:
        positions = self.for_account(account_id)
        open_pnl = sum(p.open_pnl(self._mark(p)) for p in positions)
        closed = sum(p.realized for p in positions)
        balance = START_BALANCE + closed
        ssboe, usecs = _now()
        return build(
            451,
            is_snapshot=snapshot,
            fcm_id=fcm_id,
            ib_id=ib_id,
            account_id=account_id,
            fill_buy_qty=sum(p.buys for p in positions),
            fill_sell_qty=sum(p.sells for p in positions),
            net_quantity=sum(p.net for p in positions),
            open_position_quantity=sum(abs(p.net) for p in positions),
            open_position_pnl=f"{open_pnl:.2f}",
            closed_position_pnl=f"{closed:.2f}",
            account_balance=f"{balance:.2f}",
            cash_on_hand=f"{balance:.2f}",
            margin_balance=f"{balance + open_pnl:.2f}",
            available_buying_power=f"{balance + open_pnl:.2f}",
            day_open_pnl=f"{open_pnl:.2f}",
            day_closed_pnl=f"{closed:.2f}",
            day_pnl=f"{open_pnl + closed:.2f}",
            ssboe=ssboe,
            usecs=usecs,
        )


def _now() -> tuple[int, int]:
    t = time.time()
    return int(t), int((t - int(t)) * 1_000_000)

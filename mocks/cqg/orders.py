"""Order state the WebAPI adds on top of the shared matching engine (mocks.rithmic.orders): CQG ids,
cl_order_id chains, fill counts, and the OrderStatus / PositionStatus messages built from them.

Matching itself (market at the touch, limits when the path crosses, stops on the last trade, parts capped
by the size at the touch) is the Rithmic mock's engine, so both venues fill alike on the same prices.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from mocks.rithmic import orders as engine

from . import protocol as p
from .market_data import Contract
from .proto import webapi_pb2 as pb

# CQG order_type -> the engine's price type
ENGINE_TYPE = {p.MKT: engine.MARKET, p.LMT: engine.LIMIT, p.STP: engine.STOP_MARKET, p.STL: engine.STOP_LIMIT}


@dataclass
class CQGOrder:
    """One order chain: the engine's order plus what CQG reports about it."""

    core: engine.Order  # basket_id is the order_id, user_tag the current cl_order_id
    contract: Contract
    order_type: int
    chain_order_id: str
    request_id: int
    when: int
    is_manual: bool
    status: int = p.WORKING
    fill_cnt: int = 0
    reject_message: str = ""
    transactions: list[pb.TransactionStatus] = field(default_factory=list)

    @property
    def order_id(self) -> str:
        return self.core.basket_id

    @property
    def account_id(self) -> int:
        return int(self.core.account_id)

    @property
    def cl_order_id(self) -> str:
        return self.core.user_tag

    def settle_status(self) -> None:
        """The status the engine's state implies, once nothing is in flight."""
        if self.core.is_working:
            self.status = p.WORKING
        elif self.core.completion_reason == "Fill":
            self.status = p.FILLED
        elif self.core.completion_reason == "Cancel":
            self.status = p.CANCELLED

    def wire_order(self) -> pb.Order:
        c, core = self.contract, self.core
        order = pb.Order(
            account_id=self.account_id,
            when_utc_time=self.when,
            contract_id=c.contract_id,
            cl_order_id=core.user_tag,
            order_type=self.order_type,
            side=core.side,
            duration=core.duration,
            qty=p.to_decimal(core.qty),
            is_manual=self.is_manual,
        )
        if self.order_type in (p.LMT, p.STL):
            order.scaled_limit_price = c.scaled(c.instrument.to_ticks(core.price))
        if self.order_type in (p.STP, p.STL):
            order.scaled_stop_price = c.scaled(c.instrument.to_ticks(core.trigger_price))
        return order

    def status_message(
        self,
        when: int,
        subscription_ids: list[int],
        *,
        snapshot: bool = False,
        transactions: list[pb.TransactionStatus] | None = None,
    ) -> pb.OrderStatus:
        core = self.core
        remaining = core.qty - core.filled if core.is_working else 0
        status = pb.OrderStatus(
            subscription_ids=subscription_ids,
            is_snapshot=snapshot,
            status=self.status,
            order_id=self.order_id,
            chain_order_id=self.chain_order_id,
            exec_order_id=f"X{self.order_id}",
            status_utc_time=when,
            fill_qty=p.to_decimal(core.filled),
            fill_cnt=self.fill_cnt,
            avg_fill_price_correct=round(core.avg_fill_price, 9),
            remaining_qty=p.to_decimal(remaining),
            order=self.wire_order(),
            account_id=self.account_id,
            contract_id=self.contract.contract_id,
            cl_order_id=core.user_tag,
            transaction_statuses=transactions or [],
        )
        if self.reject_message:
            status.reject_message = self.reject_message
        return status


@dataclass
class Position:
    account_id: int
    contract: Contract
    net: int = 0
    avg_price: float = 0.0

    def apply(self, side: int, qty: int, price: float) -> None:
        """Net position and average open price after one fill (closing keeps the average)."""
        signed = qty if side == p.BUY else -qty
        if self.net == 0 or (self.net > 0) == (signed > 0):
            total = abs(self.net) + qty
            self.avg_price = (self.avg_price * abs(self.net) + price * qty) / total
        elif abs(signed) > abs(self.net):
            self.avg_price = price  # flipped: what is left opened at this fill's price
        self.net += signed
        if self.net == 0:
            self.avg_price = 0.0

    def status_message(self, subscription_ids: list[int], *, snapshot: bool) -> pb.PositionStatus:
        status = pb.PositionStatus(
            subscription_ids=subscription_ids,
            is_snapshot=snapshot,
            account_id=self.account_id,
            contract_id=self.contract.contract_id,
            is_short_open_position=self.net < 0,
        )
        if self.net:
            status.open_positions.add(
                id=1,
                qty=p.to_decimal(abs(self.net)),
                price_correct=round(self.avg_price, 9),
                is_short=self.net < 0,
            )
        return status


class OrderBook:
    """Every order chain and position, by id; cl_order_id is unique per account."""

    def __init__(self) -> None:
        self.orders: dict[str, CQGOrder] = {}
        self.by_cl: dict[tuple[int, str], CQGOrder] = {}
        self.positions: dict[tuple[int, int], Position] = {}
        self.account_requests: dict[int, list[float]] = {}  # order requests in the last second, by account
        self._trans = itertools.count(1)

    def reset(self) -> None:
        self.account_requests.clear()
        self.orders.clear()
        self.by_cl.clear()
        self.positions.clear()
        self._trans = itertools.count(1)

    def add(self, order: CQGOrder) -> None:
        self.orders[order.order_id] = order
        self.by_cl[(order.account_id, order.cl_order_id)] = order

    def rename(self, order: CQGOrder, cl_order_id: str) -> None:
        order.core.user_tag = cl_order_id
        self.by_cl[(order.account_id, cl_order_id)] = order

    def find(self, account_id: int, order_id: str, orig_cl_order_id: str) -> CQGOrder | None:
        order = self.orders.get(order_id) if order_id else self.by_cl.get((account_id, orig_cl_order_id))
        return order if order is not None and order.account_id == account_id else None

    def next_trans_id(self) -> int:
        return next(self._trans)

    def position(self, account_id: int, contract: Contract) -> Position:
        key = (account_id, contract.contract_id)
        if key not in self.positions:
            self.positions[key] = Position(account_id, contract)
        return self.positions[key]

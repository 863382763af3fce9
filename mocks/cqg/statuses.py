"""Order and position statuses: who is subscribed, transactions, fills into the ledger and positions, and
the status faults (`duplicate_status`, `hold_fills`). Statuses go to every session whose trade subscription
covers the order's account, each naming the subscription ids it answers."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Protocol

from mocks.common import EventLog, FaultBook, Ledger, LedgerFill
from mocks.rithmic import orders as engine

from . import protocol as p
from .config import CQGConfig
from .market_data import Contracts
from .orders import CQGOrder, OrderBook, Position
from .proto import webapi_pb2 as pb
from .session import Session


class TradingContext(Protocol):
    """What order handling needs from the gateway."""

    ledger: Ledger
    events: EventLog
    faults: FaultBook
    config: CQGConfig
    contracts: Contracts
    engine: engine.MatchingEngine
    book: OrderBook
    sessions: set[Session]

    def now_ms(self) -> int: ...

    def later(self, delay: float, fn: Callable[[], None]) -> None: ...


def transaction(
    ctx: TradingContext, order: CQGOrder, status: int, fill: tuple[int, int, str] | None = None
) -> pb.TransactionStatus:
    """One transaction on the order; `fill` is (qty, scaled price, trade id) for an execution."""
    trans = pb.TransactionStatus(
        status=status,
        trans_id=ctx.book.next_trans_id(),
        trans_utc_time=ctx.now_ms(),
        cl_order_id=order.cl_order_id,
    )
    if fill is not None:
        trans.fill_qty.CopyFrom(p.to_decimal(fill[0]))
        trans.scaled_fill_price, trans.trade_id = fill[1], fill[2]
    order.transactions.append(trans)
    return trans


def subscribers(ctx: TradingContext, account_id: int, scope: int) -> list[tuple[Session, list[int]]]:
    out = []
    for session in list(ctx.sessions):
        ids = [s.id for s in session.trade_subs.values() if scope in s.scopes and account_id in s.accounts]
        if ids:
            out.append((session, ids))
    return out


def publish(ctx: TradingContext, order: CQGOrder, transactions: list[pb.TransactionStatus]) -> None:
    """The order's current status to every subscriber."""
    send_statuses(ctx, order, status_batch(ctx, order, transactions))


def status_batch(
    ctx: TradingContext, order: CQGOrder, transactions: list[pb.TransactionStatus]
) -> list[tuple[Session, pb.ServerMsg]]:
    """The order's status as it stands now, one message per subscribed session (sent later or now)."""
    when = ctx.now_ms()
    return [
        (session, p.server(order_statuses=[order.status_message(when, ids, transactions=transactions)]))
        for session, ids in subscribers(ctx, order.account_id, p.SCOPE_ORDERS)
    ]


def send_statuses(ctx: TradingContext, order: CQGOrder, batch: list[tuple[Session, pb.ServerMsg]]) -> None:
    """Send a batch of statuses; `duplicate_status` sends each twice."""
    twice = ctx.faults.take("duplicate_status") is not None
    if twice:
        ctx.events.add("fault_fired", fault="duplicate_status", order_id=order.order_id, status=order.status)
    scaled = ctx.faults.active("scaled_decimals")
    if scaled is not None:
        if not scaled.fired:  # a mode is reported once, when it first takes effect
            scaled.fired = 1
            ctx.events.add("fault_fired", fault="scaled_decimals", order_id=order.order_id)
        for _, msg in batch:
            _rescale(msg, scaled.params["exponent"])
    for session, msg in batch:
        session.send(msg)
        if twice:
            session.send(msg)


def _rescale(msg: pb.ServerMsg, exponent: int) -> None:
    """Every quantity of the message's order statuses written with `exponent` (`scaled_decimals`)."""
    for status in msg.order_statuses:
        for name in ("fill_qty", "remaining_qty"):
            getattr(status, name).CopyFrom(p.rescaled(getattr(status, name), exponent))
        if status.HasField("order"):
            status.order.qty.CopyFrom(p.rescaled(status.order.qty, exponent))
        for trans in status.transaction_statuses:
            if trans.HasField("fill_qty"):
                trans.fill_qty.CopyFrom(p.rescaled(trans.fill_qty, exponent))


def deliver_fills(ctx: TradingContext, fills: list[engine.Execution]) -> None:
    """Each fill's status (and the position it moves), now or `hold_fills` late; the status is built now,
    so a held fill reports the order as it stood when it executed."""
    for ex in fills:
        order = ctx.book.orders.get(ex.order.basket_id)
        if order is None:  # pragma: no cover - every engine order is booked
            continue
        order.fill_cnt += 1
        order.settle_status()
        trans = transaction(
            ctx,
            order,
            p.FILLED if not ex.order.is_working else p.WORKING,
            (ex.size, order.contract.scaled(order.contract.instrument.to_ticks(ex.price)), ex.fill_id),
        )
        statuses = status_batch(ctx, order, [trans])
        held = ctx.faults.take("hold_fills")
        if held is not None:
            ctx.events.add(
                "fault_fired", fault="hold_fills", fill_id=ex.fill_id, delay_ms=held.params["delay_ms"]
            )
            ctx.later(held.params["delay_ms"] / 1000, functools.partial(_send_fill, ctx, ex, order, statuses))
        else:
            _send_fill(ctx, ex, order, statuses)


def _send_fill(
    ctx: TradingContext,
    ex: engine.Execution,
    order: CQGOrder,
    statuses: list[tuple[Session, pb.ServerMsg]],
) -> None:
    """The ledger and positions change as the fill goes out, so they always agree with each other."""
    o = ex.order
    fill = LedgerFill(
        fill_id=ex.fill_id,
        order_id=o.basket_id,
        client_tag=o.user_tag,
        account=o.account_id,
        symbol=o.symbol,
        exchange=o.exchange,
        side=o.side_name,
        qty=ex.size,
        price=ex.price,
    )
    ctx.ledger.add_fill(fill)
    ctx.events.add("fill", fill_id=ex.fill_id, order_id=o.basket_id, qty=ex.size, price=ex.price)
    position = ctx.book.position(order.account_id, order.contract)
    position.apply(o.side, ex.size, ex.price)
    send_statuses(ctx, order, statuses)
    _publish_position(ctx, position)


def _publish_position(ctx: TradingContext, position: Position) -> None:
    for session, ids in subscribers(ctx, position.account_id, p.SCOPE_POSITIONS):
        session.send(p.server(position_statuses=[position.status_message(ids, snapshot=False)]))

"""The order plant: the login sequence (300..337), new/modify/cancel/show orders, and the
RithmicOrderNotification (351) / ExchangeOrderNotification (352) sequences that follow them.

351 and 352 carry no user_msg; clients match them on user_tag (their own order id) or basket_id.
Notifications go to every order-plant session that subscribed (308) to the order's account.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from mocks.common import LedgerFill, LedgerOrder

from .orders import PRICE_TYPE_NAMES, Execution, Order, OrderError
from .protocol import Message, build, reply
from .session import Session

if TYPE_CHECKING:
    from .gateway import RithmicGateway
    from .handlers import Handler


def _now() -> tuple[int, int]:
    t = time.time()
    return int(t), int((t - int(t)) * 1_000_000)


def _common(gw: RithmicGateway, order: Order) -> dict[str, Any]:
    ssboe, usecs = _now()
    return dict(
        user_tag=order.user_tag,
        basket_id=order.basket_id,
        fcm_id=gw.fcm_id,
        ib_id=gw.ib_id,
        user_id=order.user,
        account_id=order.account_id,
        symbol=order.symbol,
        exchange=order.exchange,
        trade_exchange=order.exchange,
        trade_route=order.trade_route,
        exchange_order_id=order.exchange_order_id,
        instrument_type="Future",
        quantity=order.qty,
        price=order.price,
        trigger_price=order.trigger_price,
        transaction_type=order.side,
        duration=order.duration,
        price_type=order.price_type,
        manual_or_auto=order.manual_or_auto,
        avg_fill_price=round(order.avg_fill_price, 6),
        total_fill_size=order.filled,
        total_unfilled_size=order.remaining,
        ssboe=ssboe,
        usecs=usecs,
    )


def rithmic_note(gw: RithmicGateway, order: Order, notify_type: int, status: str, **extra: Any) -> Message:
    return build(351, notify_type=notify_type, status=status, **{**_common(gw, order), **extra})


def exchange_note(gw: RithmicGateway, order: Order, notify_type: int, status: str, **extra: Any) -> Message:
    return build(352, notify_type=notify_type, status=status, **{**_common(gw, order), **extra})


def complete_note(gw: RithmicGateway, order: Order) -> Message:
    return rithmic_note(gw, order, 15, "complete", completion_reason=order.completion_reason)


def fill_note(gw: RithmicGateway, ex: Execution) -> Message:
    return exchange_note(
        gw,
        ex.order,
        5,
        "complete" if not ex.order.is_working else "open",
        report_type="fill",
        fill_price=ex.price,
        fill_size=ex.size,
        fill_id=ex.fill_id,
        fill_time=time.strftime("%H:%M:%S"),
        fill_date=time.strftime("%Y%m%d"),
    )


def _rows(session: Session, template_id: int, m: Message, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        session.send(reply(template_id, m, rq_handler_rp_code=["0"], **row))
    session.send(reply(template_id, m, rp_code=["0"]))


async def login_info(gw: RithmicGateway, session: Session, m: Message) -> None:  # 300 -> 301
    session.send(
        reply(
            301,
            m,
            rp_code=["0"],
            fcm_id=gw.fcm_id,
            ib_id=gw.ib_id,
            user=session.user,
            user_type=3,
            country_code="US",
            tp_max_session_count=gw.max_sessions,
            op_max_session_count=gw.max_sessions,
        )
    )


async def trade_routes(gw: RithmicGateway, session: Session, m: Message) -> None:  # 310 -> 311
    rows = [
        dict(
            fcm_id=gw.fcm_id,
            ib_id=gw.ib_id,
            exchange=ex,
            trade_route="simulator",
            status="UP",
            is_default=True,
        )
        for ex in gw.market.exchanges
    ]
    _rows(session, 311, m, rows)


async def account_list(gw: RithmicGateway, session: Session, m: Message) -> None:  # 302 -> 303
    rows = [
        dict(fcm_id=gw.fcm_id, ib_id=gw.ib_id, account_id=a, account_name=f"UAT {a}", account_currency="USD")
        for a in gw.accounts_of(session.user)
    ]
    _rows(session, 303, m, rows)


async def order_updates(gw: RithmicGateway, session: Session, m: Message) -> None:  # 308/336 -> 309/337
    template = int(m.template_id)
    if m.account_id not in gw.accounts_of(session.user):
        session.send(reply(template + 1, m, rp_code=["13", f"no access to account {m.account_id!r}"]))
        return
    (session.order_accounts if template == 308 else session.bracket_accounts).add(m.account_id)
    session.send(reply(template + 1, m, rp_code=["0"]))


async def new_order(gw: RithmicGateway, session: Session, m: Message) -> None:  # 312 -> 313 x2, 351/352
    order = Order(
        basket_id=gw.engine.next_basket_id(),
        user_tag=m.user_tag,
        user=session.user,
        account_id=m.account_id,
        symbol=m.symbol,
        exchange=m.exchange,
        side=int(m.transaction_type),
        qty=int(m.quantity),
        price_type=int(m.price_type),
        price=float(m.price),
        trigger_price=float(m.trigger_price),
        duration=int(m.duration) or 1,
        trade_route=m.trade_route,
        manual_or_auto=int(m.manual_or_auto),
    )
    gw.ledger.add_order(
        LedgerOrder(
            order_id=order.basket_id,
            client_tag=order.user_tag,
            account=order.account_id,
            symbol=order.symbol,
            exchange=order.exchange,
            side=order.side_name,
            qty=order.qty,
            order_type=PRICE_TYPE_NAMES.get(order.price_type, str(order.price_type)),
            price=order.price if order.price_type in (1, 3) else None,
        )
    )
    forced = gw.faults.take("order_reject")
    try:
        if forced is not None:
            gw.events.add("fault_fired", fault="order_reject", basket_id=order.basket_id, tag=order.user_tag)
            raise OrderError(forced.params["code"], forced.params["text"])
        if order.account_id not in gw.accounts_of(session.user):
            raise OrderError("13", f"no access to account {order.account_id!r}")
        gw.engine.validate(order)
    except OrderError as exc:
        rejected = gw.ledger.orders[order.basket_id]
        rejected.status, rejected.closed_at = "rejected", time.time()
        gw.events.add("order_rejected", basket_id=order.basket_id, tag=order.user_tag, rp_code=exc.rp_code)
        session.send(reply(313, m, user_tag=m.user_tag, rp_code=exc.rp_code, basket_id=order.basket_id))
        return
    ssboe, usecs = _now()
    ids = dict(user_tag=m.user_tag, basket_id=order.basket_id, ssboe=ssboe, usecs=usecs)
    session.send(reply(313, m, rq_handler_rp_code=["0"], **ids))
    session.send(reply(313, m, rp_code=["0"], **ids))
    gw.events.add("order", basket_id=order.basket_id, tag=order.user_tag, account=order.account_id)
    fills = gw.engine.accept(order)
    opening = [
        rithmic_note(gw, order, 1, "Order received from client"),
        rithmic_note(gw, order, 4, "open pending"),
        rithmic_note(gw, order, 10, "Order sent to exch"),
        exchange_note(gw, order, 1, "open", report_type="status", confirmed_size=order.qty),
        rithmic_note(gw, order, 13, "open"),
    ]
    if fills and gw.faults.take("out_of_order") is not None:
        gw.events.add("fault_fired", fault="out_of_order", basket_id=order.basket_id)
        gw.deliver_fills(fills)
        gw.notify(order, opening)
        return
    gw.notify(order, opening)
    gw.deliver_fills(fills)


async def cancel_order(gw: RithmicGateway, session: Session, m: Message) -> None:  # 316 -> 317 x2
    try:
        order = gw.engine.cancel(m.basket_id, m.account_id)
    except OrderError as exc:
        session.send(reply(317, m, rp_code=exc.rp_code, basket_id=m.basket_id))
        return
    ssboe, usecs = _now()
    session.send(reply(317, m, rq_handler_rp_code=["0"], basket_id=m.basket_id, ssboe=ssboe, usecs=usecs))
    session.send(reply(317, m, rp_code=["0"], basket_id=m.basket_id, ssboe=ssboe, usecs=usecs))
    cancelled_order = gw.ledger.orders.get(order.basket_id)
    if cancelled_order is not None:
        cancelled_order.status, cancelled_order.closed_at = "cancelled", time.time()
    gw.events.add("cancel", basket_id=order.basket_id, tag=order.user_tag)
    cancelled = order.qty - order.filled
    gw.notify(
        order,
        [
            rithmic_note(gw, order, 3, "cancel received from client"),
            rithmic_note(gw, order, 6, "cancel pending"),
            exchange_note(gw, order, 3, "cancelled", report_type="cancel", cancelled_size=cancelled),
            complete_note(gw, order),
        ],
    )


async def modify_order(gw: RithmicGateway, session: Session, m: Message) -> None:  # 314 -> 315 x2
    try:
        order, fills = gw.engine.modify(
            m.basket_id,
            m.account_id,
            int(m.quantity),
            float(m.price),
            float(m.trigger_price),
            int(m.price_type),
        )
    except OrderError as exc:
        session.send(reply(315, m, rp_code=exc.rp_code, basket_id=m.basket_id))
        return
    ssboe, usecs = _now()
    session.send(reply(315, m, rq_handler_rp_code=["0"], basket_id=m.basket_id, ssboe=ssboe, usecs=usecs))
    session.send(reply(315, m, rp_code=["0"], basket_id=m.basket_id, ssboe=ssboe, usecs=usecs))
    ledger_order = gw.ledger.orders.get(order.basket_id)
    if ledger_order is not None:
        ledger_order.qty, ledger_order.price = order.qty, order.price
    gw.events.add("modify", basket_id=order.basket_id, tag=order.user_tag, qty=order.qty, price=order.price)
    gw.notify(
        order,
        [
            rithmic_note(gw, order, 2, "modify received from client"),
            rithmic_note(gw, order, 5, "modify pending"),
            exchange_note(gw, order, 2, "open", report_type="modify", modified_size=order.qty),
            rithmic_note(gw, order, 14, "open"),
        ],
    )
    gw.deliver_fills(fills)


async def show_orders(gw: RithmicGateway, session: Session, m: Message) -> None:  # 320 -> 352 snapshot*, 321
    if m.account_id not in gw.accounts_of(session.user):
        session.send(reply(321, m, rp_code=["13", f"no access to account {m.account_id!r}"]))
        return
    for order in gw.engine.orders_of(m.account_id):
        status = "open" if order.is_working else order.completion_reason.lower()
        session.send(exchange_note(gw, order, 1, status, is_snapshot=True, report_type="status"))
    session.send(reply(321, m, rp_code=["0"]))


ORDER_PLANT: dict[int, Handler] = {
    300: login_info,
    302: account_list,
    308: order_updates,
    310: trade_routes,
    312: new_order,
    314: modify_order,
    316: cancel_order,
    320: show_orders,
    336: order_updates,
}


def ledger_fill(ex: Execution, fee_per_contract: float = 0.0, duplicate_of: str | None = None) -> LedgerFill:
    """The ledger row of a fill. A duplicate notification executed nothing, so it carries no fee."""
    o = ex.order
    fee = 0.0 if duplicate_of is not None else round(fee_per_contract * ex.size, 2)
    return LedgerFill(
        fill_id=ex.fill_id,
        order_id=o.basket_id,
        client_tag=o.user_tag,
        account=o.account_id,
        symbol=o.symbol,
        exchange=o.exchange,
        side=o.side_name,
        qty=ex.size,
        price=ex.price,
        duplicate_of=duplicate_of,
        fee=fee,
    )

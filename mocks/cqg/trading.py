"""Order requests: new / modify / cancel, each answered with an ack or an OrderRequestReject whose text
names the offending field, after the documented rate limits; accepted orders go to the ledger and their
statuses to the subscribers (statuses.py)."""

from __future__ import annotations

import time

from mocks.common import LedgerOrder
from mocks.rithmic import orders as engine

from . import protocol as p
from .orders import ENGINE_TYPE, CQGOrder
from .proto import webapi_pb2 as pb
from .session import Session
from .statuses import TradingContext, deliver_fills, publish, send_statuses, status_batch, transaction

# OrderRequestReject.reject_code (ours)
REJECT_INVALID, REJECT_UNKNOWN_ORDER, REJECT_RATE, REJECT_VENUE = 1, 2, 3, 4


class Rejected(Exception):
    def __init__(self, code: int, text: str) -> None:
        super().__init__(text)
        self.code, self.text = code, text


def order_request(ctx: TradingContext, session: Session, req: pb.OrderRequest) -> None:
    """Answer one order request on `session`; statuses go to the subscribers."""
    kinds = [k for k in ("new_order", "modify_order", "cancel_order") if req.HasField(k)]
    try:
        if len(kinds) != 1:
            raise Rejected(
                REJECT_INVALID, "order request: exactly one of new_order, modify_order, cancel_order"
            )
        _rate_limit(ctx, session, kinds[0], req)
        if kinds[0] == "new_order":
            _new(ctx, session, req)
        elif kinds[0] == "modify_order":
            _modify(ctx, session, req)
        else:
            _cancel(ctx, session, req)
    except Rejected as exc:
        ctx.events.add(
            "order_request_rejected",
            session=session.id,
            request_id=req.request_id,
            code=exc.code,
            text=exc.text,
        )
        reject = pb.OrderRequestReject(
            request_id=req.request_id,
            reject_code=exc.code,
            text_message=exc.text,
            reject_utc_timestamp=ctx.now_ms(),
        )
        session.send(p.server(order_request_rejects=[reject]))


def _rate_limit(ctx: TradingContext, session: Session, kind: str, req: pb.OrderRequest) -> None:
    """300 order requests per 10 s per session, 10 per second per account (the documented limits)."""
    cfg, now = ctx.config, time.monotonic()
    window = session.orders_sent
    while window and now - window[0] > cfg.order_window_s:
        window.popleft()
    if len(window) >= cfg.max_orders_per_session:
        raise Rejected(
            REJECT_RATE,
            f"rate limit: more than {cfg.max_orders_per_session} order requests "
            f"in {cfg.order_window_s:g} s on this session",
        )
    account = getattr(req, kind).order.account_id if kind == "new_order" else getattr(req, kind).account_id
    # Only the session's own accounts are counted (a request for another is refused anyway), so the
    # windows stay bounded by the accounts the mock knows.
    recent = ctx.book.account_requests.setdefault(account, []) if account in session.accounts() else []
    recent[:] = [t for t in recent if now - t < 1.0]
    if len(recent) >= cfg.max_orders_per_account_per_s:
        raise Rejected(
            REJECT_RATE,
            f"rate limit: more than {cfg.max_orders_per_account_per_s} order "
            f"requests per second on account {account}",
        )
    window.append(now)
    recent.append(now)


def _need_account(session: Session, account_id: int, field: str) -> None:
    if account_id not in session.accounts():
        raise Rejected(REJECT_INVALID, f"{field}: no access to account {account_id}")


def _cl_id(value: str, field: str) -> str:
    if not value or len(value) > 64:
        raise Rejected(REJECT_INVALID, f"{field}: required, 1..64 characters")
    return value


def _price_range(m: pb.Order | pb.ModifyOrder, where: str) -> None:
    """Scaled prices far outside any contract's range would overflow on the way back out."""
    for name in ("scaled_limit_price", "scaled_stop_price"):
        value = getattr(m, name)
        if m.HasField(name) and not 0 < value <= p.MAX_SCALED_PRICE:
            raise Rejected(REJECT_INVALID, f"{where}.{name}: {value} is outside 1..{p.MAX_SCALED_PRICE}")


def _new(ctx: TradingContext, session: Session, req: pb.OrderRequest) -> None:
    if not req.new_order.HasField("order"):
        raise Rejected(REJECT_INVALID, "new_order.order: missing")
    o = req.new_order.order
    _need_account(session, o.account_id, "new_order.order.account_id")
    cl_order_id = _cl_id(o.cl_order_id, "new_order.order.cl_order_id")
    if (o.account_id, cl_order_id) in ctx.book.by_cl:
        raise Rejected(REJECT_INVALID, f"new_order.order.cl_order_id: {cl_order_id!r} was already used today")
    contract = ctx.contracts.by_id.get(o.contract_id)
    if contract is None:
        raise Rejected(REJECT_INVALID, f"new_order.order.contract_id: {o.contract_id} is unknown")
    if o.order_type not in ENGINE_TYPE:
        raise Rejected(REJECT_INVALID, f"new_order.order.order_type: {o.order_type} is not 1..4")
    if o.side not in (p.BUY, p.SELL):
        raise Rejected(REJECT_INVALID, f"new_order.order.side: {o.side} is not 1 (buy) or 2 (sell)")
    if not o.HasField("qty"):
        raise Rejected(REJECT_INVALID, "new_order.order.qty: missing")
    try:
        qty = p.whole_qty(o.qty, "new_order.order.qty")
    except p.FrameError as exc:
        raise Rejected(REJECT_INVALID, str(exc)) from None
    if o.order_type in (p.LMT, p.STL) and not o.HasField("scaled_limit_price"):
        raise Rejected(REJECT_INVALID, "new_order.order.scaled_limit_price: required for LMT and STL")
    if o.order_type in (p.STP, p.STL) and not o.HasField("scaled_stop_price"):
        raise Rejected(REJECT_INVALID, "new_order.order.scaled_stop_price: required for STP and STL")
    _price_range(o, "new_order.order")
    core = engine.Order(
        basket_id=ctx.engine.next_basket_id(),
        user_tag=cl_order_id,
        user=session.user,
        account_id=str(o.account_id),
        symbol=contract.instrument.symbol,
        exchange=contract.instrument.exchange,
        side=o.side,
        qty=qty,
        price_type=ENGINE_TYPE[o.order_type],
        price=contract.price(o.scaled_limit_price) if o.order_type in (p.LMT, p.STL) else 0.0,
        trigger_price=contract.price(o.scaled_stop_price) if o.order_type in (p.STP, p.STL) else 0.0,
        duration=o.duration or 1,
        trade_route="cqg",
        manual_or_auto=1 if o.is_manual else 2,
    )
    forced = ctx.faults.take("order_reject")
    if forced is not None:
        ctx.events.add("fault_fired", fault="order_reject", cl_order_id=cl_order_id)
        raise Rejected(forced.params["code"], forced.params["text"])
    try:
        ctx.engine.validate(core)
    except engine.OrderError as exc:
        raise Rejected(REJECT_VENUE, f"new_order.order: {exc.rp_code[1]}") from None
    order = CQGOrder(core, contract, o.order_type, core.basket_id, req.request_id, ctx.now_ms(), o.is_manual)
    ctx.book.add(order)
    ctx.ledger.add_order(
        LedgerOrder(
            order_id=order.order_id,
            client_tag=cl_order_id,
            account=str(o.account_id),
            symbol=contract.instrument.symbol,
            exchange=contract.instrument.exchange,
            side="BUY" if o.side == p.BUY else "SELL",
            qty=qty,
            order_type=p.ORDER_TYPE_NAMES[o.order_type],
            price=core.price if o.order_type in (p.LMT, p.STL) else None,
        )
    )
    ctx.events.add("order", order_id=order.order_id, cl_order_id=cl_order_id, account=o.account_id)
    session.send(
        p.server(
            order_request_acks=[pb.OrderRequestAck(request_id=req.request_id, when_utc_time=ctx.now_ms())]
        )
    )
    order.status = p.WORKING
    working = status_batch(ctx, order, [transaction(ctx, order, p.WORKING)])  # as it stands before any fill
    fills = ctx.engine.accept(core)
    if fills and ctx.faults.take("out_of_order") is not None:
        ctx.events.add("fault_fired", fault="out_of_order", order_id=order.order_id)
        deliver_fills(ctx, fills)
        send_statuses(ctx, order, working)
        return
    send_statuses(ctx, order, working)
    deliver_fills(ctx, fills)


def _target(ctx: TradingContext, session: Session, r: pb.ModifyOrder | pb.CancelOrder, kind: str) -> CQGOrder:
    _need_account(session, r.account_id, f"{kind}.account_id")
    if not r.order_id and not r.orig_cl_order_id:
        raise Rejected(REJECT_INVALID, f"{kind}.order_id: order_id or orig_cl_order_id is required")
    order = ctx.book.find(r.account_id, r.order_id, r.orig_cl_order_id)
    if order is None:
        raise Rejected(
            REJECT_UNKNOWN_ORDER, f"{kind}.order_id: no order {r.order_id or r.orig_cl_order_id!r}"
        )
    if not order.core.is_working:
        raise Rejected(REJECT_UNKNOWN_ORDER, f"{kind}.order_id: order {order.order_id} is no longer working")
    cl = _cl_id(r.cl_order_id, f"{kind}.cl_order_id")
    if (r.account_id, cl) in ctx.book.by_cl:
        raise Rejected(REJECT_INVALID, f"{kind}.cl_order_id: {cl!r} was already used today")
    return order


def _modify(ctx: TradingContext, session: Session, req: pb.OrderRequest) -> None:
    r = req.modify_order
    order = _target(ctx, session, r, "modify_order")
    core, c = order.core, order.contract
    try:
        qty = p.whole_qty(r.qty, "modify_order.qty") if r.HasField("qty") else core.qty
    except p.FrameError as exc:
        raise Rejected(REJECT_INVALID, str(exc)) from None
    _price_range(r, "modify_order")
    price = c.price(r.scaled_limit_price) if r.HasField("scaled_limit_price") else core.price
    trigger = c.price(r.scaled_stop_price) if r.HasField("scaled_stop_price") else core.trigger_price
    try:
        _, fills = ctx.engine.modify(core.basket_id, core.account_id, qty, price, trigger, core.price_type)
    except engine.OrderError as exc:
        raise Rejected(REJECT_VENUE, f"modify_order: {exc.rp_code[1]}") from None
    ctx.book.rename(order, r.cl_order_id)
    ledger_order = ctx.ledger.orders.get(order.order_id)
    if ledger_order is not None:
        ledger_order.qty, ledger_order.price = (
            core.qty,
            core.price if order.order_type in (p.LMT, p.STL) else None,
        )
    ctx.events.add(
        "modify", order_id=order.order_id, cl_order_id=r.cl_order_id, qty=core.qty, price=core.price
    )
    session.send(
        p.server(
            order_request_acks=[pb.OrderRequestAck(request_id=req.request_id, when_utc_time=ctx.now_ms())]
        )
    )
    order.status = p.WORKING
    publish(ctx, order, [transaction(ctx, order, p.WORKING)])
    deliver_fills(ctx, fills)


def _cancel(ctx: TradingContext, session: Session, req: pb.OrderRequest) -> None:
    r = req.cancel_order
    order = _target(ctx, session, r, "cancel_order")
    ctx.engine.cancel(order.order_id, order.core.account_id)
    ctx.book.rename(order, r.cl_order_id)
    if order.order_id in ctx.ledger.orders:
        ctx.ledger.orders[order.order_id].status = "cancelled"
    ctx.events.add("cancel", order_id=order.order_id, cl_order_id=r.cl_order_id)
    session.send(
        p.server(
            order_request_acks=[pb.OrderRequestAck(request_id=req.request_id, when_utc_time=ctx.now_ms())]
        )
    )
    order.status = p.CANCELLED
    publish(ctx, order, [transaction(ctx, order, p.CANCELLED)])

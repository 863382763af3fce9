"""Trade subscriptions: a status, then the snapshot of the accounts' orders and positions, then a
TradeSnapshotCompletion. Collateral and account-summary scopes are accepted but carry no data."""

from __future__ import annotations

from . import protocol as p
from .proto import webapi_pb2 as pb
from .session import Session, TradeSub
from .statuses import TradingContext

SCOPES = (p.SCOPE_ORDERS, p.SCOPE_POSITIONS, p.SCOPE_COLLATERAL, p.SCOPE_ACCOUNT_SUMMARY)


def trade_subscription(
    ctx: TradingContext, session: Session, sub: pb.TradeSubscription
) -> list[pb.ServerMsg]:
    status = pb.TradeSubscriptionStatus(id=sub.id)
    if not sub.subscribe:
        session.trade_subs.pop(sub.id, None)
        status.status_code = p.STATUS_OK
        return [p.server(trade_subscription_statuses=[status])]
    problem = _check_subscription(ctx, session, sub)
    if problem is not None:
        status.status_code, status.text_message = problem
        return [p.server(trade_subscription_statuses=[status])]
    accounts = frozenset([sub.account_id] if sub.HasField("account_id") else session.accounts())
    entry = TradeSub(sub.id, frozenset(sub.subscription_scopes), accounts)
    session.trade_subs[sub.id] = entry
    status.status_code = p.STATUS_OK
    out = [p.server(trade_subscription_statuses=[status])]
    when = ctx.now_ms()
    if p.SCOPE_ORDERS in entry.scopes:
        snapshot = [
            o.status_message(when, [sub.id], snapshot=True)
            for o in ctx.book.orders.values()
            if o.account_id in accounts
        ]
        if snapshot:
            out.append(p.server(order_statuses=snapshot))
    if p.SCOPE_POSITIONS in entry.scopes:
        positions = [
            pos.status_message([sub.id], snapshot=True)
            for pos in ctx.book.positions.values()
            if pos.account_id in accounts
        ]
        if positions:
            out.append(p.server(position_statuses=positions))
    completion = pb.TradeSnapshotCompletion(subscription_id=sub.id, subscription_scopes=sorted(entry.scopes))
    out.append(p.server(trade_snapshot_completions=[completion]))
    return out


def _check_subscription(
    ctx: TradingContext, session: Session, sub: pb.TradeSubscription
) -> tuple[int, str] | None:
    if not sub.subscription_scopes:
        return p.STATUS_INVALID, "subscription_scopes: at least one scope is required"
    bad = [s for s in sub.subscription_scopes if s not in SCOPES]
    if bad:
        return p.STATUS_INVALID, f"subscription_scopes: {bad[0]} is not 1..4"
    if sub.HasField("account_id") and sub.account_id not in session.accounts():
        return p.STATUS_FAILURE, f"account_id: no access to account {sub.account_id}"
    if sub.id not in session.trade_subs and len(session.trade_subs) >= ctx.config.max_trade_subscriptions:
        return p.STATUS_LIMIT, f"id: at most {ctx.config.max_trade_subscriptions} trade subscriptions"
    return None

"""CQG statuses to notices, on hand-built statuses: one notice per change, whatever the server repeats
or reorders, and our orders recognised by the cl_order_ids we gave them."""

from __future__ import annotations

from decimal import Decimal

from mocks.cqg.proto import webapi_pb2 as pb
from reference_middleware.venues.cqg import CANCELLED, FILLED, WORKING, to_decimal
from reference_middleware.venues.cqg_statuses import (
    NOTIFY_CANCELLED,
    NOTIFY_FILL,
    NOTIFY_WORKING,
    OrderStatuses,
)


def _price(contract_id: int, scaled: int, fallback: float) -> float:
    return scaled / 100


def _status(
    status: int, filled: int, *, cl: str = "ord-1", trade: str = "", snapshot: bool = False
) -> pb.OrderStatus:
    s = pb.OrderStatus(
        status=status, order_id="O1", cl_order_id=cl, account_id=10001, contract_id=1, is_snapshot=snapshot,
        fill_qty=to_decimal(filled), avg_fill_price_correct=6800.25,
    )  # fmt: skip
    if trade:
        s.transaction_statuses.append(
            pb.TransactionStatus(
                status=status,
                trans_id=filled,
                cl_order_id=cl,
                trade_id=trade,
                fill_qty=to_decimal(1),
                scaled_fill_price=680025,
            )
        )
    return s


def test_repeats_and_a_late_working_give_one_notice_per_change() -> None:
    book = OrderStatuses(_price)
    book.ours.add("ord-1")
    seen = []
    for s in (_status(WORKING, 0), _status(WORKING, 1, trade="T1"), _status(WORKING, 1, trade="T1"),
              _status(FILLED, 2, trade="T2"), _status(WORKING, 0)):  # fmt: skip
        tag, notices = book.read(s)
        assert tag == "ord-1"
        seen += [(n.notify_type, n.fill_id) for n in notices]
    assert seen == [(NOTIFY_WORKING, ""), (NOTIFY_FILL, "T1"), (NOTIFY_FILL, "T2")]


def test_a_cancel_names_our_order_by_its_own_cl_order_id() -> None:
    book = OrderStatuses(_price)
    book.ours.add("ord-1")
    tag, notices = book.read(_status(CANCELLED, 0, cl="ord-1~x1"))
    assert tag == "ord-1" and [n.notify_type for n in notices] == [NOTIFY_CANCELLED]
    assert book.read(_status(WORKING, 0, cl="someone-else"))[0] == "ord-1"  # O1 is known to be ours now


def test_other_sessions_orders_are_ignored_unless_a_snapshot_shows_them() -> None:
    book = OrderStatuses(_price)
    assert book.read(_status(WORKING, 0, cl="theirs")) == (None, [])
    tag, _ = book.read(_status(FILLED, 2, cl="from-before-a-restart", snapshot=True))
    assert tag == "from-before-a-restart"


def test_a_quantity_reader_that_drops_the_exponent_is_what_the_mutant_uses() -> None:
    book = OrderStatuses(_price, quantity=lambda d: Decimal(d.significand))
    book.ours.add("ord-1")
    status = _status(WORKING, 1, trade="T1")
    status.transaction_statuses[0].fill_qty.CopyFrom(pb.Decimal(significand=100, exponent=-2))
    (fill,) = [n for n in book.read(status)[1] if n.notify_type == NOTIFY_FILL]
    assert fill.fill_size == 100  # 100e-2 read as 100: a hundredfold
    healthy = OrderStatuses(_price)
    healthy.ours.add("ord-1")
    (right,) = [n for n in healthy.read(status)[1] if n.notify_type == NOTIFY_FILL]
    assert right.fill_size == 1

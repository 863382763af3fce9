"""The payouts hop: a withdrawal matched to its payout by comment or amount, and a refused payout
that took effect anyway."""

from __future__ import annotations

from decimal import Decimal

from .builders import World, verdict


def test_a_withdrawal_is_matched_by_amount_when_its_comment_names_no_payout() -> None:
    world = World()
    world.trader("alice", payouts=(("po_1", "500.00"), ("po_2", "250.00")))
    for deal in world.find("mt5_deals", login=5001):
        deal["comment"] = "withdrawal"
    assert verdict(world).agrees


def test_a_refused_payout_that_took_effect_is_a_mismatch() -> None:
    world = World()
    world.trader("alice", refused=(("po_9", "300.00"),))
    worker = world.one("workers", work_email="alice@uat.test")
    world.deal(5001, Decimal("-300.00"), "withdrawal")
    world.pay_item(worker["id"], "300.00", "po_9")
    trader = verdict(world)
    assert (trader.broke_at, trader.hop("payouts").status) == ("payouts", "mismatch")
    assert "(payout po_9 was refused)" in trader.hop("payouts").detail
    assert "pay item pi0000000000000000000000 references po_9, no accepted payout (a refused payout)" in (
        trader.hop("payouts").detail
    )


def test_a_payout_id_in_a_comment_is_a_whole_word() -> None:
    world = World()
    world.trader("alice", payouts=(("po_1", "500.00"), ("po_12", "500.00")))
    assert verdict(world).agrees  # `payout po_12` is po_12's withdrawal, not a second one of po_1


def test_a_second_uncommented_withdrawal_of_a_payouts_amount_is_its_duplicate() -> None:
    world = World()
    world.trader("alice", payouts=(("po_1", "500.00"),))
    world.deal(5001, Decimal("-500.00"), "")
    trader = verdict(world)
    assert (trader.broke_at, trader.hop("payouts").status) == ("payouts", "duplicate")
    assert trader.hop("payouts").detail.startswith(
        "payout po_1: two withdrawal deals: deal 101 -500.00 'payout po_1', deal 102 -500.00; "
        "MT5 balance 24000.00, expected 24500.00"
    )

"""The lifecycle checkers on hand-made snapshots in the mocks' ledger shapes: each passes on a healthy
chain, fails on the broken record it exists for, and never passes on nothing."""

from __future__ import annotations

from typing import Any

import pytest

from harness.checks import CHECKERS
from harness.lifecycle import Snapshot
from tests.harness.lifecycle.ledgers import World

from .conftest import MakeCtx

CORE = (
    "lifecycle_provisioned_once",
    "lifecycle_balances",
    "lifecycle_no_double_deal",
    "lifecycle_no_trading_before_signature",
)


def probe(customer: str, phase: str, outcome: str, tag: str, at: float = 50.0) -> dict[str, Any]:
    return {"customer": customer, "phase": phase, "outcome": outcome, "client_order_id": tag, "at": at}


def judge(make_ctx: MakeCtx, world: World, check: str, probes: list[dict[str, Any]] | None = None,
          ledger: dict[str, Any] | None = None) -> Any:  # fmt: skip
    extras = {"lifecycle": world.snapshot, "lifecycle_probes": probes or []}
    return CHECKERS[check](make_ctx(extras=extras, ledger=ledger))


def test_a_healthy_chain_passes_every_check(make_ctx: MakeCtx) -> None:
    world = World()
    a = world.healthy("cus_a", payouts=("1500.00",))
    world.healthy("cus_b")
    probes = [probe(a.customer, "before_signature", "fail", "lc1")]
    for check in CORE:
        verdict = judge(make_ctx, world, check, probes)
        assert verdict.status == "passed", (check, verdict.summary, verdict.evidence)
    assert "2 funded trader(s)" in judge(make_ctx, world, "lifecycle_provisioned_once").summary


@pytest.mark.parametrize("check", [*CORE, "lifecycle_cancelled"])
def test_nothing_to_judge_is_never_a_pass(make_ctx: MakeCtx, check: str) -> None:
    verdict = judge(make_ctx, World(), check)
    assert verdict.status == "no_evidence", verdict.summary


def test_an_unreadable_ledger_is_no_evidence_not_a_pass(make_ctx: MakeCtx) -> None:
    world = World()
    world.healthy("cus_a")
    world.snapshot.missing.append("mt5: ConnectError: refused")
    verdict = judge(make_ctx, world, "lifecycle_provisioned_once")
    assert verdict.status == "no_evidence" and "mt5" in verdict.summary


def test_two_mt5_logins_and_two_workers_fail_provisioning(make_ctx: MakeCtx) -> None:
    world = World()
    t = world.healthy("cus_a")
    world.login(t, "25000.00")
    world.worker(t)
    world.envelope(t)  # a replayed Zap's envelope, signed as well
    verdict = judge(make_ctx, world, "lifecycle_provisioned_once")
    assert verdict.status == "failed" and verdict.category == "lifecycle"
    wrong = verdict.evidence[0]["wrong"]
    assert wrong == {"live contract": 2, "signed contract": 2, "MT5 login": 2, "Rippling worker": 2}


def test_a_signed_trader_left_unprovisioned_fails(make_ctx: MakeCtx) -> None:
    world = World()
    t = world.trader("cus_a")
    world.checkout(t)
    world.run(t)
    world.envelope(t)
    world.accounts(t, False)
    verdict = judge(make_ctx, world, "lifecycle_provisioned_once")
    assert verdict.status == "failed"
    assert verdict.evidence[0]["wrong"] == {"MT5 login": 0, "Rippling worker": 0, "trading enabled": False}


def test_a_declined_trader_must_have_nothing(make_ctx: MakeCtx) -> None:
    world = World()
    t = world.trader("cus_a", signs=False, declined=True)
    world.checkout(t)
    world.run(t)
    world.envelope(t, "declined")
    world.accounts(t, False)
    assert judge(make_ctx, world, "lifecycle_provisioned_once").passed
    world.login(t, "0.00")  # provisioned all the same
    verdict = judge(make_ctx, world, "lifecycle_provisioned_once")
    assert verdict.status == "failed" and verdict.evidence[0]["wrong"] == {"MT5 login": 1}


def test_an_unsigned_trader_keeps_one_live_contract_and_no_trading(make_ctx: MakeCtx) -> None:
    world = World()
    t = world.trader("cus_a", signs=False)
    world.checkout(t)
    world.run(t)
    world.envelope(t, "sent")
    world.accounts(t, True)  # trading enabled before the signature
    verdict = judge(make_ctx, world, "lifecycle_provisioned_once")
    assert verdict.status == "failed" and verdict.evidence[0]["wrong"] == {"trading enabled": True}


def test_a_deposit_booked_twice_fails_balance_and_double_deal(make_ctx: MakeCtx) -> None:
    world = World()
    t = world.healthy("cus_a")
    login = world.snapshot.mt5_users[0]["login"]
    world.deal(login, "25000.00", "funding")
    world.snapshot.mt5_users[0]["balance"] = "50000.00"
    balances = judge(make_ctx, world, "lifecycle_balances")
    assert balances.status == "failed"
    assert (
        balances.evidence[0]["mt5_balance"] == "50000.00"
        and balances.evidence[0]["expected_balance"] == "25000.00"
    )
    double = judge(make_ctx, world, "lifecycle_no_double_deal")
    assert double.status == "failed" and double.evidence[0]["problem"] == "2 deposits for one funding"
    assert t.customer == double.evidence[0]["customer"]


def test_a_withdrawal_twice_and_a_pay_item_twice_are_found(make_ctx: MakeCtx) -> None:
    world = World()
    t = world.healthy("cus_a", payouts=("1500.00",))
    login = world.snapshot.mt5_users[0]["login"]
    world.deal(login, "-1500.00", "retry")
    world.pay_item(world.snapshot.workers[0]["id"], "1500.00", t.payouts[0].payout_id)
    problems = [e["problem"] for e in judge(make_ctx, world, "lifecycle_no_double_deal").evidence]
    assert problems == [
        "withdrawals beyond the payouts asked for",
        "a payout's pay item booked more than once",
    ]


def test_balances_hold_the_deals_to_the_balance(make_ctx: MakeCtx) -> None:
    world = World()
    world.healthy("cus_a", payouts=("1500.00",))
    assert judge(make_ctx, world, "lifecycle_balances").passed
    world.snapshot.mt5_users[0]["balance"] = "25000.00"  # the withdrawal never reached the balance
    verdict = judge(make_ctx, world, "lifecycle_balances")
    assert verdict.status == "failed" and verdict.evidence[0]["deals_total"] == "23500.00"


def test_an_order_taken_before_the_signature_fails(make_ctx: MakeCtx) -> None:
    world = World()
    t = world.healthy("cus_a")
    probes = [
        probe(t.customer, "before_signature", "ok", "lc1"),
        probe(t.customer, "after_forgery", "fail", "lc2"),
    ]
    ledger = {"orders": [{"client_tag": "lc1", "status": "filled"}], "fills": []}
    verdict = judge(make_ctx, world, "lifecycle_no_trading_before_signature", probes, ledger)
    assert verdict.status == "failed"
    assert [e["problem"] for e in verdict.evidence] == [
        "an order was not refused before the contract was signed",
        "the venue holds an order sent before the contract was signed",
    ]


def test_orders_after_provisioning_are_not_judged_as_early(make_ctx: MakeCtx) -> None:
    world = World()
    t = world.healthy("cus_a")
    probes = [
        probe(t.customer, "before_signature", "fail", "lc1"),
        probe(t.customer, "after_provisioning", "ok", "lc2", at=200.0),
    ]
    ledger = {"orders": [{"client_tag": "lc2", "status": "filled"}], "fills": []}
    verdict = judge(make_ctx, world, "lifecycle_no_trading_before_signature", probes, ledger)
    assert verdict.passed and "1 order(s)" in verdict.summary


def test_a_cancelled_trader_must_be_off_everywhere(make_ctx: MakeCtx) -> None:
    world = World()
    world.healthy("cus_a", payouts=("1000.00",), cancelled=True)
    assert judge(make_ctx, world, "lifecycle_cancelled").passed
    world.snapshot.workers[0]["status"] = "ACTIVE"
    world.snapshot.accounts["cus_a"][0]["trading_enabled"] = True
    verdict = judge(make_ctx, world, "lifecycle_cancelled")
    assert verdict.status == "failed"
    assert set(verdict.evidence[0]["wrong"]) == {"trading_enabled", "active_workers"}


def test_a_snapshot_survives_its_json(make_ctx: MakeCtx) -> None:
    world = World()
    world.healthy("cus_a", payouts=("1500.00",))
    again = World()
    again.snapshot = Snapshot.from_json(world.snapshot.to_json())
    for check in CORE[:3]:
        assert judge(make_ctx, again, check).passed, check


def test_the_targets_own_lifecycle_sql_is_held_too(make_ctx: MakeCtx) -> None:
    world = World()
    world.healthy("cus_a")
    clean = {
        "name": "lifecycle.trading_before_signature",
        "what": "no trading before the signature",
        "sql": "SELECT 1",
    }
    world.snapshot.sql.append({**clean, "rows": []})
    verdict = judge(make_ctx, world, "lifecycle_provisioned_once")
    assert verdict.passed and verdict.evidence[0]["passed"] is True
    world.snapshot.sql.append({**clean, "rows": [["ACC-1", "cus_a", "sent", ""]]})
    world.snapshot.sql.append(
        {**clean, "name": "lifecycle.broken", "rows": [], "error": "CalledProcessError: down"}
    )
    verdict = judge(make_ctx, world, "lifecycle_provisioned_once")
    problems = [e for e in verdict.evidence if "problem" in e]
    assert verdict.status == "failed" and [p["problem"].split(":")[0] for p in problems] == [
        "SQL lifecycle.trading_before_signature",
        "SQL lifecycle.broken",
    ]
    assert problems[1]["error"].startswith("CalledProcessError")

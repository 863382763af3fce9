"""`join`: each trader's records found by customer id or email, in one pass per ledger."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from harness.lifecycle.model import Expected, Snapshot, join


def _trader(n: int) -> Expected:
    return Expected(f"cus_{n}", f"t{n}@uat.test", f"T{n}", Decimal("100.00"))


def test_a_bus_run_belongs_to_the_trader_its_trigger_names_as_a_whole_word() -> None:
    runs: list[dict[str, Any]] = [
        {"run_id": "r1", "trigger": {"customer": "cus_1"}},
        {"run_id": "r12", "trigger": {"customer": "cus_12"}},
        {"run_id": "r-mail", "trigger": "paid: T12@uat.test (card)"},
        {"run_id": "r-url", "trigger": {"next": "https://x.test/onboard?customer=cus_1&step=2"}},
    ]
    chains = join(Snapshot(traders=[_trader(1), _trader(12)], zap_runs=runs))
    assert [[r["run_id"] for r in c.zap_runs] for c in chains] == [["r1", "r-url"], ["r12", "r-mail"]]


def test_records_are_found_by_email_whatever_its_case_and_deals_by_login() -> None:
    snapshot = Snapshot(
        traders=[_trader(1)],
        envelopes=[
            {"envelope_id": "e1", "recipients": [{"email": " T1@UAT.test"}, {"email": "t1@uat.test"}]}
        ],
        mt5_users=[{"login": 5001, "email": "t1@uat.test"}, {"login": [1], "email": "t1@uat.test"}],
        mt5_deals=[
            {"deal": 2, "login": 5001, "action": 2, "amount": "5.00", "time_msc": 20},
            {"deal": 1, "login": 5001, "action": 2, "amount": "100.00", "time_msc": 10},
            {"deal": 3, "login": 5001, "action": 3, "amount": "7.00", "time_msc": 5},  # credit: not balance
            {"deal": 4, "login": 5002, "action": 2, "amount": "9.00", "time_msc": 1},
        ],
        workers=[{"id": "w1", "work_email": "T1@uat.test"}],
        pay_items=[{"id": "p1", "worker_id": "w1"}, {"id": "p2", "worker_id": "w2"}],
    )
    (chain,) = join(snapshot)
    assert [e["envelope_id"] for e in chain.envelopes] == ["e1"]  # once, though it names them twice
    assert [d["deal"] for d in chain.deals] == [1, 2]
    assert [p["id"] for p in chain.pay_items] == ["p1"]
    assert chain.mt5_balance() == Decimal("0.00") and chain.deal_total() == Decimal("105.00")

"""`investigate` on hand-built ledgers: a correct middleware's records agree, and each way a buggy one
breaks the chain is found at the right hop, named first, and explained in plain words."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from harness.lifecycle.investigate import JUDGES
from harness.lifecycle.report import HOPS, NOT_EXPECTED, OK, UNREAD

from .builders import ALICE, World, alice, verdict


def test_the_judges_run_in_chain_order() -> None:
    assert tuple(name for name, _ in JUDGES) == HOPS


def test_a_healthy_trader_agrees_on_every_hop() -> None:
    trader = verdict(alice())
    assert [(h.name, h.status) for h in trader.hops] == [(name, OK) for name in HOPS]
    assert trader.agrees and trader.broke_at is None and trader.diagnosis == ""
    assert trader.hop("deposit").detail == "deal 100 +25000.00 'deposit cus_alice'"
    assert trader.hop("payouts").detail == (
        "one payout, each one withdrawal and one pay item; "
        "balance 24500.00 = deposit 25000.00 less 500.00 paid out"
    )
    assert "the lifecycle view names mt5_login 5001" in trader.hop("middleware").detail


def test_a_trader_who_did_not_sign_agrees_with_nothing_provisioned() -> None:
    world = World()
    world.trader("bob", signs=False)
    trader = verdict(world)
    assert trader.agrees
    statuses = {h.name: h.status for h in trader.hops}
    assert statuses["contract"] == OK  # the declined envelope is the one contract they were sent
    assert all(
        statuses[h] == NOT_EXPECTED for h in ("signature", "mt5_login", "deposit", "payouts", "rippling")
    )


def test_a_cancelled_trader_agrees_when_everything_was_wound_down() -> None:
    assert verdict(alice(cancelled=True)).agrees


def _no_checkout(w: World) -> None:
    w.drop("stripe_events", id=f"evt_{ALICE}")


def _no_run(w: World) -> None:
    w.drop("zap_runs", run_id="run_1a")


def _failed_runs(w: World) -> None:
    w.one("zap_runs", run_id="run_1a")["state"] = "errored"


def _no_envelope(w: World) -> None:
    w.drop("envelopes", envelope_id="env-0001")


def _two_live_envelopes(w: World) -> None:
    w.envelope("alice@uat.test", "alice", "env-0002", "sent", 1.0)


def _signed_but_no_login(w: World) -> None:
    w.drop("mt5_users", login=5001)


def _two_logins(w: World) -> None:
    w.user(5002, "alice@uat.test", "alice")


def _two_deposits(w: World) -> None:
    w.deal(5001, Decimal("25000.00"), f"deposit {ALICE}")


def _wrong_deposit(w: World) -> None:
    w.one("mt5_deals", comment=f"deposit {ALICE}")["amount"] = "2500.00"
    w.one("mt5_users", login=5001)["balance"] = "2000.00"


def _payout_without_withdrawal(w: World) -> None:
    w.drop("mt5_deals", comment="payout po_1")
    w.one("mt5_users", login=5001)["balance"] = "25000.00"


def _two_withdrawals(w: World) -> None:
    w.deal(5001, Decimal("-500.00"), "payout po_1")


def _no_pay_item(w: World) -> None:
    w.drop("pay_items", reference="po_1")


def _no_worker(w: World) -> None:
    w.drop("workers", work_email="alice@uat.test")


def _two_workers(w: World) -> None:
    w.worker("f" * 24, "alice@uat.test", "alice", ALICE)


def _trading_disabled(w: World) -> None:
    w.doc["accounts"][ALICE][0]["trading_enabled"] = False


def _view_names_unknown_login(w: World) -> None:
    w.doc["middleware"][ALICE]["mt5_login"] = 7777


def _view_names_unknown_worker(w: World) -> None:
    w.doc["middleware"][ALICE]["rippling_worker_id"] = "0" * 24


BREAKS: list[tuple[Callable[[World], None], str, str, str]] = [
    (_no_checkout, "stripe", "missing", "Stripe holds no paid checkout for the customer"),
    (_no_run, "bus", "missing", "the paid checkout never reached the automation bus"),
    (_failed_runs, "bus", "missing", "every Zap run about the trader ended without success"),
    (_no_envelope, "contract", "missing", "DocuSign holds no envelope for the trader"),
    (_two_live_envelopes, "contract", "duplicate", "two live contracts for one trader"),
    (
        _signed_but_no_login,
        "mt5_login",
        "missing",
        "the contract was signed at DocuSign but no MT5 login exists: provisioning never ran or failed",
    ),
    (_two_logins, "mt5_login", "duplicate", "two MT5 logins for one trader"),
    (
        _two_deposits,
        "deposit",
        "duplicate",
        "two deposit deals for one funding: a trade/balance retried without looking the deal up",
    ),
    (_wrong_deposit, "deposit", "mismatch", "the deposit booked 2500.00 where the checkout funded 25000.00"),
    (_payout_without_withdrawal, "payouts", "missing", "MT5 booked no withdrawal for it"),
    (_two_withdrawals, "payouts", "duplicate", "two withdrawal deals for one payout"),
    (_no_pay_item, "payouts", "missing", "Rippling holds no pay item referencing it"),
    (_no_worker, "rippling", "missing", "Rippling holds no worker for the trader"),
    (_two_workers, "rippling", "duplicate", "two Rippling workers for one trader"),
    (_trading_disabled, "middleware", "mismatch", "the middleware never enabled trading"),
    (
        _view_names_unknown_login,
        "middleware",
        "mismatch",
        "thinks it provisioned MT5 login 7777 but MT5 has 5001",
    ),
    (_view_names_unknown_worker, "middleware", "mismatch", "its database and Rippling disagree"),
]


@pytest.mark.parametrize(
    ("breaking", "hop", "status", "diagnosis"), BREAKS, ids=[b[0].__name__ for b in BREAKS]
)
def test_each_break_is_found_at_its_hop(
    breaking: Callable[[World], None], hop: str, status: str, diagnosis: str
) -> None:
    world = alice()
    breaking(world)
    trader = verdict(world)
    assert not trader.agrees
    assert (trader.broke_at, trader.hop(hop).status) == (hop, status), trader.hop(hop)
    assert diagnosis in trader.diagnosis
    for earlier in HOPS[: HOPS.index(hop)]:
        assert trader.hop(earlier).status == OK, trader.hop(earlier)


def test_the_duplicate_deposit_names_both_deals_and_the_balance_it_left() -> None:
    world = alice()
    _two_deposits(world)
    trader = verdict(world)
    assert trader.hop("deposit").detail == (
        "two deposit deals for one funding of 25000.00: deal 100 +25000.00 'deposit cus_alice', "
        "deal 102 +25000.00 'deposit cus_alice'"
    )
    assert [r["deal"] for r in trader.hop("deposit").records] == [100, 102]
    # the hops after the break are still judged: the balance shows the second deposit too
    assert trader.hop("payouts").status == "mismatch"
    assert "MT5 balance 49500.00, expected 24500.00" in trader.hop("payouts").detail


def test_every_hop_after_a_missing_login_is_still_reported() -> None:
    world = alice()
    world.drop("mt5_users", login=5001)
    world.drop("mt5_deals", login=5001)
    trader = verdict(world)
    assert trader.hop("deposit").detail == "no deposit: no MT5 login to book it on"
    assert trader.hop("rippling").status == OK
    assert "which MT5 does not have" in trader.hop("middleware").detail


def test_a_replayed_run_is_named_in_the_bus_and_blamed_for_the_second_envelope() -> None:
    world = alice()
    world.run(world.doc["stripe_events"][0], "run_1b", replay_of="run_1a")
    world.run(world.doc["stripe_events"][0], "run_1c", state="errored")
    _two_live_envelopes(world)
    trader = verdict(world)
    bus = trader.hop("bus")
    assert bus.status == OK
    assert bus.detail == (
        "2 of 3 runs succeeded; failed: run_1c errored (step middleware: HTTP 500 after 3 attempts); "
        "replays: run_1b of run_1a"
    )
    assert trader.broke_at == "contract"
    assert "created again by a replayed or duplicated Zap run" in trader.diagnosis


def test_a_voided_duplicate_envelope_is_not_a_second_contract() -> None:
    world = alice()
    world.envelope("alice@uat.test", "alice", "env-0002", "voided", 1.0)
    trader = verdict(world)
    assert trader.agrees
    assert trader.hop("contract").detail == "env-0001 completed; also env-0002 voided"


def test_a_trader_whose_only_envelope_was_voided_had_nothing_to_sign() -> None:
    world = World()
    world.trader("bob", signs=False)
    world.one("envelopes", envelope_id="env-0001")["status"] = "voided"
    world.doc["traders"][0]["signs"] = True
    trader = verdict(world)
    assert trader.broke_at == "contract"
    assert "voided or declined and none replaced it" in trader.diagnosis


@pytest.mark.parametrize("what", ["login", "deposit", "worker"])
def test_provisioning_before_the_signature_is_a_mismatch(what: str) -> None:
    world = World()
    world.trader("bob", signs=False)
    if what == "login":
        world.user(6001, "bob@uat.test", "bob")
    elif what == "deposit":
        world.user(6001, "bob@uat.test", "bob")
        world.deal(6001, Decimal("25000.00"), "deposit cus_bob")
    else:
        world.worker("e" * 24, "bob@uat.test", "bob", "cus_bob")
    hop = {"login": "mt5_login", "deposit": "mt5_login", "worker": "rippling"}[what]
    trader = verdict(world)
    assert (trader.broke_at, trader.hop(hop).status) == (hop, "mismatch")
    assert "has not signed" in trader.diagnosis


def test_an_unread_ledger_judges_nothing_and_agrees_with_nothing() -> None:
    world = alice()
    world.doc["missing"] = ["mt5: ConnectError: connection refused"]
    report = world.report()
    trader = report.traders[0]
    assert [h.name for h in trader.hops if h.status == UNREAD] == ["mt5_login", "deposit", "payouts"]
    assert trader.hop("deposit").detail == "could not be read: mt5: ConnectError: connection refused"
    assert not trader.agrees and trader.broke_at is None
    assert trader.diagnosis == (
        "no hop disagrees, but mt5_login, deposit, payouts could not be judged: a ledger was not read"
    )
    assert not report.agrees and report.missing == ("mt5: ConnectError: connection refused",)


def test_sql_queries_that_returned_rows_are_findings_and_failed_ones_are_not_read() -> None:
    world = alice()
    world.doc["sql"] = [
        {
            "name": "lifecycle.orphan_logins",
            "what": "logins with no trader",
            "rows": [["5009", "x@uat.test"]],
        },
        {"name": "lifecycle.double_deposits", "what": "one deposit per funding", "rows": []},
        {"name": "lifecycle.broken", "error": 'relation "payouts" does not exist'},
    ]
    report = world.report()
    assert report.traders[0].agrees
    assert [e["name"] for e in report.sql] == ["lifecycle.orphan_logins"]
    assert report.missing == ('sql lifecycle.broken: relation "payouts" does not exist',)
    assert not report.agrees


def test_an_empty_snapshot_is_not_agreement() -> None:
    report = World().report()
    assert report.traders == () and not report.agrees


def test_the_report_json_counts_where_chains_broke() -> None:
    world = alice()
    world.trader("bob")
    world.trader("carol")
    world.drop("mt5_users", login=5002)
    world.deal(5003, Decimal("25000.00"), "deposit cus_carol")
    document = world.report().to_json()
    assert (document["agrees"], document["traders"], document["disagreeing"]) == (False, 3, 2)
    assert document["broke_at"] == {"mt5_login": 1, "deposit": 1}
    bob = document["results"][1]
    assert bob["broke_at"] == "mt5_login" and bob["hops"][4]["status"] == "missing"

"""The middleware hop: trading enabled exactly while signed and not cancelled, and the records the
middleware's lifecycle view names held against the ledgers."""

from __future__ import annotations

import pytest

from harness.lifecycle.report import NOT_EXPECTED

from .builders import ALICE, World, alice, verdict


def test_trading_enabled_before_the_signature_is_a_mismatch() -> None:
    world = World()
    world.trader("bob", signs=False)
    world.doc["accounts"]["cus_bob"] = [{"account": "A-1", "trading_enabled": True}]
    trader = verdict(world)
    assert (trader.broke_at, trader.hop("middleware").status) == ("middleware", "mismatch")
    assert trader.diagnosis == "the middleware enabled trading before (or without) the signature"


@pytest.mark.parametrize(
    ("left_on", "hop", "diagnosis"),
    [
        ("login", "mt5_login", "the trader was cancelled but the MT5 login is still enabled"),
        ("worker", "rippling", "the trader was cancelled but the Rippling worker is still ACTIVE"),
        ("trading", "middleware", "the trader was cancelled but the middleware still lets them trade"),
    ],
)
def test_a_cancellation_that_did_not_reach_a_system_is_found_there(
    left_on: str, hop: str, diagnosis: str
) -> None:
    world = alice(cancelled=True)
    if left_on == "login":
        world.one("mt5_users", login=5001).update(enabled=True, rights=1)
    elif left_on == "worker":
        world.one("workers", work_email="alice@uat.test").update(status="ACTIVE", termination_date=None)
    else:
        world.doc["accounts"][ALICE][0]["trading_enabled"] = True
    trader = verdict(world)
    assert (trader.broke_at, trader.hop(hop).status) == (hop, "mismatch")
    assert diagnosis in trader.diagnosis


def test_a_view_naming_another_traders_login_says_whose_it_is() -> None:
    world = alice()
    world.trader("bob")
    world.doc["middleware"][ALICE]["mt5_login"] = 5002
    first = world.report().traders[0]
    assert "the view names MT5 login 5002, which belongs to bob@uat.test (MT5 has 5001)" in (
        first.hop("middleware").detail
    )


def test_a_view_tracking_a_voided_envelope_while_another_was_signed_is_a_desync() -> None:
    world = alice()
    world.envelope("alice@uat.test", "alice", "env-0002", "voided", 1.0)
    world.doc["middleware"][ALICE]["contract"]["envelope_id"] = "env-0002"
    trader = verdict(world)
    assert (
        trader.hop("middleware").detail
        == "the view tracks envelope env-0002 (voided), but env-0001 was signed"
    )


def test_a_view_that_lost_the_login_it_provisioned_is_a_desync() -> None:
    world = alice()
    world.doc["middleware"][ALICE]["mt5_login"] = None
    trader = verdict(world)
    assert trader.broke_at == "middleware"
    assert "it lost track of what it provisioned" in trader.diagnosis


def test_without_a_lifecycle_view_the_middleware_hop_judges_trading_only() -> None:
    world = World(view=False)
    world.trader("alice")
    trader = verdict(world)
    hop = trader.hop("middleware")
    assert (hop.status, hop.detail) == (
        NOT_EXPECTED,
        "the target declares no lifecycle view; trading enabled, as expected",
    )
    assert trader.agrees


def test_a_view_that_answered_an_error_is_missing() -> None:
    world = alice()
    world.doc["middleware"][ALICE] = {"error": "HTTP 500: boom"}
    trader = verdict(world)
    assert (trader.broke_at, trader.hop("middleware").status) == ("middleware", "missing")

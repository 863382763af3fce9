"""The healthy build under protocol faults beyond the acceptance list: what must still hold."""

from __future__ import annotations

import time
import uuid

import pytest

from .conftest import Env, wait_for


@pytest.fixture
def fresh(env: Env) -> Env:
    env.restart()
    return env


def test_a_late_fill_after_reconciliation_counts_once(fresh: Env) -> None:
    fresh.arm(fresh.rithmic_ctl, "hold_fills", {"delay_ms": 2500}, count=1)
    assert fresh.order("late-1", qty=2).status_code == 202
    fresh.arm(fresh.rithmic_ctl, "forced_logout", {"plant": "order"}, count=1)
    health = wait_for(fresh.health, lambda h: h["venues"]["rithmic"]["reconciles"] >= 1, 10)
    assert health["venues"]["rithmic"]["reconciles"] >= 1, "the order plant never reconciled"
    wait_for(lambda: [f for f in fresh.ledger()["fills"] if f["client_tag"] == "late-1"], bool, 5)
    time.sleep(1.5)  # the held notification reaches the new session after reconciliation booked it
    assert fresh.positions() == fresh.venue_positions() == {"ESZ6": 2}
    assert fresh.get_order("late-1")["filled_qty"] == 2


def test_fill_before_open_and_duplicate_fills_settle_to_the_venue_position(fresh: Env) -> None:
    fresh.arm(fresh.rithmic_ctl, "out_of_order", count=1)
    fresh.arm(fresh.rithmic_ctl, "duplicate_fill", count=2)
    for n in range(3):
        assert fresh.order(f"ooo-{n}", qty=n + 1).status_code == 202
    wait_for(fresh.positions, lambda p: p == {"ESZ6": 6}, 5)
    time.sleep(0.5)
    assert fresh.positions() == fresh.venue_positions() == {"ESZ6": 6}
    assert {fresh.get_order(f"ooo-{n}")["status"] for n in range(3)} == {"filled"}


def test_garbage_frames_and_rejects_do_not_break_the_session(fresh: Env) -> None:
    for fault in ("garbage_frame", "truncated_frame", "unknown_template", "reject"):
        fresh.arm(fresh.rithmic_ctl, fault, {"plant": "all"}, count=2)
    time.sleep(1.0)
    assert fresh.order("junk-1").status_code == 202
    assert (
        wait_for(lambda: fresh.get_order("junk-1"), lambda o: o["status"] == "filled", 5)["status"]
        == "filled"
    )


def test_a_venue_reject_is_422_and_books_nothing(fresh: Env) -> None:
    fresh.arm(fresh.rithmic_ctl, "order_reject", count=1)
    rejected = fresh.order("vrej-1")
    assert rejected.status_code == 422 and rejected.json()["status"] == "rejected"
    assert fresh.positions() == {}


def test_a_silent_order_plant_is_detected_and_recovers_when_it_speaks_again(fresh: Env) -> None:
    fresh.arm(fresh.rithmic_ctl, "silent", {"plant": "order"})
    down = wait_for(fresh.health, lambda h: h["venues"]["rithmic"]["status"] == "down", 10)
    assert down["venues"]["rithmic"]["plants"]["order"]["watchdog_trips"] >= 1
    fresh.http.delete(f"{fresh.rithmic_ctl}/faults").raise_for_status()
    back = wait_for(fresh.health, lambda h: h["venues"]["rithmic"]["status"] == "up", fresh.slo.recovery_s)
    assert back["venues"]["rithmic"]["status"] == "up"
    assert fresh.order("silent-1").status_code == 202


def test_starting_while_rithmic_is_down_serves_degraded_then_recovers(env: Env) -> None:
    proxy = env.proxy("rithmic")
    started = time.monotonic()
    env.restart(before_start=proxy.disable, expect_healthy=False)
    assert time.monotonic() - started < 15, "start-up must not wait for the venue"
    try:
        health = env.health()
        assert health["status"] == "degraded" and health["venues"]["rithmic"]["status"] == "down"
        assert health["venues"]["tt"]["status"] == "up"
        assert env.order("boot-1").status_code in (404, 503)  # the house account is known once connected
        _, account_id = env.onboard()
        assert env.order("boot-2", account=account_id).status_code == 503
    finally:
        proxy.enable()
    back = wait_for(env.health, lambda h: h["status"] == "ok", env.slo.recovery_s)
    assert back["status"] == "ok", back
    assert env.account_info(env.account).status_code == 200, "the venue's account is seeded on connect"
    assert env.order("boot-2", account=account_id).status_code == 202


@pytest.mark.parametrize(
    ("fault", "accepted"),
    [
        ("bad_signature", False),
        ("tampered_body", False),
        ("stale_timestamp", False),
        ("rotated_secret", True),
    ],
)
def test_webhook_signatures(env: Env, fault: str, accepted: bool) -> None:
    customer = f"cus_{uuid.uuid4().hex[:14]}"
    sent = env.stripe_send(
        ["checkout.session.completed"], customer, faults=[fault], retry={"max_attempts": 1}
    )
    assert sent["deliveries"][0]["status"] == (200 if accepted else 400)
    assert bool(env.accounts_of(customer)) is accepted


def test_reordered_and_duplicated_lifecycle_lands_in_the_same_state(env: Env) -> None:
    customer = f"cus_{uuid.uuid4().hex[:14]}"
    types = ["checkout.session.completed", "customer.subscription.created", "invoice.paid", "invoice.paid"]
    sent = env.stripe_send(types, customer, faults=["reorder", "duplicate"])
    assert {d["status"] for d in sent["deliveries"]} == {200}
    account = env.account_info(env.accounts_of(customer)[0]).json()
    assert account["trading_enabled"] is True and account["subscription"]["status"] == "active"
    assert [p["status"] for p in account["payments"]] == ["paid", "paid"], "two invoices, each once"

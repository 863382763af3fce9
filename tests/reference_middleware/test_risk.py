"""The reference middleware's risk checks, against the real mocks: working orders count against the
position limit, concurrent orders serialise on their account, fees count towards the daily loss
limit, and market orders wait for a fresh quote."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from .conftest import Env, wait_for

FAR_BELOW = 5000.0  # a limit buy this far under the ES path (6800) rests, unfilled


@pytest.fixture
def fresh(env: Env) -> Env:
    env.restart()
    return env


def test_resting_orders_count_against_the_position_limit(fresh: Env) -> None:
    fresh.set_limits(max_position=3)
    first = fresh.order("wk-1", type="LIMIT", limit_price=FAR_BELOW, qty=2)
    assert first.status_code == 202 and first.json()["status"] == "working", first.text
    second = fresh.order("wk-2", type="LIMIT", limit_price=FAR_BELOW, qty=2)
    assert second.status_code == 422, second.text
    assert "2 working to buy" in second.json()["reason"], second.json()
    assert fresh.venue_orders("wk-2") == []
    # the other side is not held back by resting buys: net 0, no working sells, -2 fits in 3
    assert fresh.order("wk-3", side="SELL", qty=2).status_code == 202
    # once the resting buy is cancelled, its exposure is gone
    assert fresh.http.delete(f"{fresh.base}/v1/orders/wk-1").status_code == 202
    wait_for(lambda: fresh.get_order("wk-1"), lambda o: o["status"] == "cancelled", 10)
    assert fresh.order("wk-4", type="LIMIT", limit_price=FAR_BELOW, qty=3).status_code == 202


def test_concurrent_orders_of_one_account_cannot_pass_its_limit_together(fresh: Env) -> None:
    fresh.set_limits(max_position=3)

    def send(i: int) -> int:
        return fresh.order(f"race-{i}", type="LIMIT", limit_price=FAR_BELOW, qty=2).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        codes = sorted(pool.map(send, range(6)))
    assert codes == [202, 422, 422, 422, 422, 422], codes
    resting = [o for o in fresh.ledger()["orders"] if o["client_tag"].startswith("race-")]
    assert len(resting) == 1 and resting[0]["qty"] == 2, resting


def test_the_venues_fees_count_towards_the_daily_loss_limit(fresh: Env) -> None:
    fresh.book_round_trip()  # no price P&L, $4.50 of fees
    fresh.set_limits(daily_loss_limit=5)
    assert fresh.order("fee-1").status_code == 202, "a $4.50 loss is inside a $5 limit"
    wait_for(lambda: fresh.get_order("fee-1"), lambda o: o["status"] == "filled", 10)
    fresh.set_limits(daily_loss_limit=4.5)
    refused = fresh.order("fee-2", type="LIMIT", limit_price=FAR_BELOW)
    assert refused.status_code == 422, refused.text
    assert "daily loss" in refused.json()["reason"] and "fees included" in refused.json()["reason"]


def test_market_orders_are_refused_on_a_stale_feed_and_limit_orders_are_not(env: Env) -> None:
    env.restart(extra_env={"REFMW_STALE_QUOTE_S": "1"})
    assert env.order("st-0").status_code == 202, "a fresh feed: market orders go"
    env.arm(env.rithmic_ctl, "silent", {"plant": "ticker"}, duration_ms=10_000)
    time.sleep(1.5)
    stale = env.order("st-1")
    assert stale.status_code == 422, stale.text
    assert "quote" in stale.json()["reason"] and "old" in stale.json()["reason"], stale.json()
    assert env.venue_orders("st-1") == []
    limit = env.order("st-2", type="LIMIT", limit_price=FAR_BELOW)
    assert limit.status_code == 202, "a limit order names its own price: it may go"
    env.http.delete(f"{env.rithmic_ctl}/faults").raise_for_status()
    fresh_again = wait_for(
        lambda: env.order(f"st-3-{time.monotonic_ns()}"), lambda r: r.status_code == 202, 10
    )
    assert fresh_again.status_code == 202, fresh_again.text

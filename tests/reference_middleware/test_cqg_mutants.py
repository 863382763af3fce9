"""The CQG mutants, each against the real CQG mock on an account the back office routed there: the
healthy build comes out right, the mutant does not, each with its evidence."""

from __future__ import annotations

import time

from .conftest import Env, wait_for
from .mutant_cases import Outcome, Scenario, case_tests

CQG_PONG_DEADLINE_S = 4.0  # the reference's pong deadline; its pings go every 2 s


def _routed(env: Env) -> int:
    """Routes a new trader's account to CQG; the CQG account it trades in there."""
    _, account = env.onboard()
    answer = env.http.patch(f"{env.base}/v1/accounts/{account}", json={"venue": "cqg"})
    assert answer.status_code == 200, answer.text
    env.account = account
    return int(answer.json()["cqg_account"])


def _venue_positions(env: Env, account: int) -> dict[str, int]:
    rows = env.ledger(env.cqg_ctl)["positions"]
    return {r["symbol"]: r["net_qty"] for r in rows if str(r["account"]) == str(account) and r["net_qty"]}


def cqg_decimal_exponent_ignored(env: Env) -> Outcome:
    at_cqg = _routed(env)
    env.arm(env.cqg_ctl, "scaled_decimals", {"exponent": -2})
    assert env.order("cqg-dec-1", qty=2).status_code == 202
    ours = wait_for(lambda: env.positions(venue="cqg"), bool, 8)
    theirs = _venue_positions(env, at_cqg)
    return ours == theirs == {"ESZ6": 2}, f"ours {ours} vs CQG's {theirs}"


def cqg_snapshot_not_reconciled(env: Env) -> Outcome:
    _routed(env)
    env.arm(env.cqg_ctl, "hold_fills", {"delay_ms": 1500}, count=1)
    assert env.order("cqg-held-1", qty=2).status_code == 202
    with env.proxy("cqg").down():
        fills = lambda: [f for f in env.ledger(env.cqg_ctl)["fills"] if f["client_tag"] == "cqg-held-1"]  # noqa: E731
        wait_for(fills, bool, 10)
        time.sleep(0.3)
    wait_for(env.health, lambda h: h["venues"]["cqg"]["status"] == "up", 10)
    ours = wait_for(lambda: env.positions(venue="cqg"), lambda p: p == {"ESZ6": 2}, 8)
    return ours == {"ESZ6": 2}, f"ours {ours} after fills made while the session was down"


def cqg_no_ping_watchdog(env: Env) -> Outcome:
    _routed(env)
    env.arm(env.cqg_ctl, "silent")
    time.sleep(2.0 + CQG_PONG_DEADLINE_S + 1.5)  # a ping, its deadline, and a margin
    started = time.monotonic()
    answer = env.order(timeout=15)
    elapsed = time.monotonic() - started
    return (
        answer.status_code == 503 and elapsed < 1.0,
        f"an order {elapsed:.1f} s into a mute CQG: {answer.status_code} after {elapsed:.2f} s",
    )


def cqg_restore_never(env: Env) -> Outcome:
    _routed(env)
    env.arm(env.cqg_ctl, "logon_result", {"code": 104, "text": "logon service unavailable"})
    with env.proxy("cqg").down():
        wait_for(env.health, lambda h: h["venues"]["cqg"]["status"] == "down", 5)
    health = wait_for(env.health, lambda h: h["venues"]["cqg"]["status"] == "up", 6)
    answer = env.order()
    return (
        answer.status_code == 202,
        f"while logons are refused: cqg {health['venues']['cqg']}, order {answer.status_code}",
    )


SCENARIOS: dict[str, Scenario] = {
    "cqg_decimal_exponent_ignored": Scenario(cqg_decimal_exponent_ignored),
    "cqg_snapshot_not_reconciled": Scenario(cqg_snapshot_not_reconciled),
    "cqg_no_ping_watchdog": Scenario(cqg_no_ping_watchdog),
    "cqg_restore_never": Scenario(cqg_restore_never),
}
# the mutant side waits out a whole bound (a pong deadline, a reconnect that never comes)
SLOW = frozenset({"cqg_no_ping_watchdog", "cqg_snapshot_not_reconciled", "cqg_restore_never"})

test_healthy_build_passes_the_scenario, test_mutant_misbehaves_in_its_documented_way = case_tests(
    SCENARIOS, SLOW
)

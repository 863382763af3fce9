"""Access control on builds of their own: each security mutant flips its case (healthy passes, the
mutant fails), authentication switched off, and a debug log that still names no credential."""

from __future__ import annotations

import time

import pytest

from reference_middleware.config import ADMIN_KEY_MIN_CHARS

from .authtools import OTHER, OUTSIDE, add_account, client, credentials, leaked, raw_log, resting_order
from .conftest import Env
from .mutant_cases import Outcome, Scenario, case_tests


# ---------------------------------------------------------------------- the mutants' cases
def idor_order_status(env: Env) -> Outcome:
    add_account(env)
    resting_order(env, "idor-1")
    with client(env, env.issue_key(OTHER)["key"]) as other:
        answer = other.get("/v1/orders/idor-1")
    return answer.status_code == 404, f"trader B reading A's order: {answer.status_code} {answer.text[:80]}"


def cancel_any_order(env: Env) -> Outcome:
    add_account(env)
    resting_order(env, "cxl-any-1")
    with client(env, env.issue_key(OTHER)["key"]) as other:
        answer = other.delete("/v1/orders/cxl-any-1")
    time.sleep(0.5)
    status = env.get_order("cxl-any-1")["status"]
    return (
        answer.status_code == 404 and status == "working",
        f"trader B cancelling A's order: {answer.status_code}; the order is {status}",
    )


def allowlist_trusts_forwarded_for(env: Env) -> Outcome:
    with client(env, env.admin_key, source=OUTSIDE) as outside:
        answer = outside.get(f"/v1/accounts/{env.account}", headers={"X-Forwarded-For": "127.0.0.1"})
    return (
        answer.status_code == 403,
        f"admin key from {OUTSIDE}, X-Forwarded-For 127.0.0.1: {answer.status_code}",
    )


def no_rate_limit(env: Env) -> Outcome:
    with client(env, env.issue_key()["key"]) as trader:
        statuses = [trader.get("/v1/quotes/ESZ6").status_code for _ in range(200)]
    limited = statuses.count(429)
    return limited > 0, f"{limited} of 200 back-to-back requests on one key were 429"


def secret_in_log(env: Env) -> Outcome:
    key = env.issue_key()["key"]
    with client(env, key) as trader:
        assert trader.get(f"/v1/accounts/{env.account}").status_code == 200
    env.http.get(f"{env.base}/v1/accounts/{env.account}")
    time.sleep(0.3)  # the log is written by the process; let it flush
    log = raw_log(env)
    found = leaked(log, {**credentials(env), "trader key": key})
    return bool(log) and not found, f"credentials in the log: {found or 'none'}"


def stack_trace_in_errors(env: Env) -> Outcome:
    answer = env.http.post(
        f"{env.base}/v1/orders", content=b'{"account": ', headers={"Content-Type": "application/json"}
    )
    shown = "Traceback" in answer.text or 'File "' in answer.text
    return (
        answer.status_code == 400 and not shown,
        f"malformed JSON: {answer.status_code} {answer.text[:120]}",
    )


def revoked_keys_accepted(env: Env) -> Outcome:
    issued = env.issue_key()
    with client(env, issued["key"]) as trader:
        before = trader.get(f"/v1/accounts/{env.account}").status_code
        revoked = env.http.delete(f"{env.base}/v1/admin/api-keys/{issued['key_id']}").status_code
        after = trader.get(f"/v1/accounts/{env.account}").status_code
    return (before, revoked, after) == (200, 204, 401), f"before {before}, revoke {revoked}, after {after}"


SCENARIOS: dict[str, Scenario] = {
    "idor_order_status": Scenario(idor_order_status),
    "cancel_any_order": Scenario(cancel_any_order),
    "allowlist_trusts_forwarded_for": Scenario(allowlist_trusts_forwarded_for),
    "no_rate_limit": Scenario(no_rate_limit),
    "secret_in_log": Scenario(secret_in_log),
    "stack_trace_in_errors": Scenario(stack_trace_in_errors),
    "revoked_keys_accepted": Scenario(revoked_keys_accepted),
}
test_healthy_build_passes_the_scenario, test_mutant_misbehaves_in_its_documented_way = case_tests(SCENARIOS)


# ---------------------------------------------------------------------- other builds
def test_a_burst_past_the_limit_is_429_with_retry_after_before_any_work(env: Env) -> None:
    # a token every 5 s: on a busy machine the requests are slow, and at the default 50/s the bucket
    # would refill between the first 429 and the order that must also be refused
    env.restart(extra_env={"REFMW_RATE_LIMIT_RPS": "0.2"})
    try:
        key = env.issue_key()["key"]
        statuses: list[int] = []
        with client(env, key) as trader:
            started = time.monotonic()
            while time.monotonic() - started < 5 and 429 not in statuses:
                statuses.append(trader.get("/v1/quotes/ESZ6").status_code)
            limited = trader.get("/v1/quotes/ESZ6")
            order = trader.post(
                "/v1/orders",
                json={
                    "account": env.account,
                    "symbol": "ESZ6",
                    "side": "BUY",
                    "qty": 1,
                    "type": "MARKET",
                    "client_order_id": "over-the-limit",
                },
            )
        print(f"{len(statuses)} requests until the first 429")
        assert 429 in statuses and statuses.index(429) >= 100, statuses.count(429)  # the burst is 100
        assert limited.status_code == 429 and limited.json() == {"error": "rate limit exceeded"}
        assert int(limited.headers["Retry-After"]) >= 1
        assert order.status_code == 429 and env.venue_orders("over-the-limit") == []
        assert env.get_order("over-the-limit") == {"error": "no such order"}
        # other keys have their own buckets, even on the same account
        with client(env, env.issue_key()["key"]) as other:
            assert other.get(f"/v1/accounts/{env.account}").status_code == 200
        assert env.http.get(f"{env.base}/v1/accounts/{env.account}").status_code == 200
    finally:
        env.restart()


def test_without_an_admin_key_authentication_is_off_and_says_so(env: Env) -> None:
    env.restart(extra_env={"REFMW_ADMIN_KEY": ""})
    try:
        with client(env) as anonymous:
            assert anonymous.get("/health").json()["auth"] == "off"
            assert anonymous.get("/v1/accounts").status_code == 200  # everyone is admin
        assert "authentication is off: REFMW_ADMIN_KEY is unset" in raw_log(env)
    finally:
        env.restart()
    with client(env) as anonymous:
        assert anonymous.get("/health").json()["auth"] == "on"
        assert anonymous.get("/v1/accounts").status_code == 401


def test_a_short_admin_key_is_a_configuration_error(env: Env) -> None:
    short = "k" * (ADMIN_KEY_MIN_CHARS - 1)
    env.restart(extra_env={"REFMW_ADMIN_KEY": short}, wait_ready=False)
    process = env.topo.process
    assert process is not None
    try:
        deadline = time.monotonic() + 20
        while process.alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        log = raw_log(env)
        assert not process.alive() and "REFMW_ADMIN_KEY must be at least 16 characters" in log, log
        assert short not in log
    finally:
        env.restart()


@pytest.mark.slow
def test_a_debug_log_still_names_no_credential(env: Env) -> None:
    """At DEBUG, async_rithmic logs its login request, password included: the handler scrubs it."""
    env.restart(extra_env={"REFMW_LOG_LEVEL": "DEBUG"})
    try:
        key = env.issue_key()["key"]
        with client(env, key) as trader:
            assert trader.get(f"/v1/accounts/{env.account}").status_code == 200
        assert env.order("debug-log-1").status_code == 202
        time.sleep(0.5)
        log = raw_log(env)
        assert "DEBUG" in log, "not a debug log"
        assert leaked(log, {**credentials(env), "trader key": key}) == []
    finally:
        env.restart()

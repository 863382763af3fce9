"""Deployments of the middleware: a graceful restart (SIGTERM) with an order in flight, a crash
(SIGKILL) right after orders were acknowledged, and a bad release that must fail readiness.

As in test_mutants, each scenario runs on the healthy build (must be correct) and with its mutant
switched on (must not be)."""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from .conftest import Env, wait_for
from .dbtools import account_lock, wait_until_waiting_on_a_lock
from .mutant_cases import Outcome, Scenario, case_tests

DRAIN_BOUND_S = 12.0  # the default grace (10 s) and the service's own stop


def _signal(env: Env, sig: signal.Signals) -> None:
    pid = env.topo.process.pid if env.topo.process is not None else None
    assert pid is not None, "no middleware process"
    os.killpg(pid, sig)


def _exited(env: Env, timeout: float) -> bool:
    process = env.topo.process
    assert process is not None
    return not wait_for(process.alive, lambda alive: not alive, timeout)


def _post_order(env: Env, coid: str) -> int | None:
    """The order's HTTP status, or None when the connection was cut with no answer."""
    body = {"account": env.account, "symbol": "ESZ6", "side": "BUY", "qty": 1, "type": "MARKET"}
    with httpx.Client(timeout=15, trust_env=False, headers=env.auth_headers()) as http:
        try:
            return http.post(f"{env.base}/v1/orders", json={**body, "client_order_id": coid}).status_code
        except httpx.TransportError:
            return None


def sigterm_mid_order(env: Env) -> Outcome:
    """SIGTERM while an order waits on its account's row lock: the order still gets its answer,
    new connections are refused meanwhile, and the log says the drain began and ended."""
    with account_lock(env) as lock, ThreadPoolExecutor(1) as pool:
        answer = pool.submit(_post_order, env, "drain-1")
        wait_until_waiting_on_a_lock(env)
        _signal(env, signal.SIGTERM)
        time.sleep(0.5)
        try:
            env.http.get(f"{env.base}/health", timeout=1)
            accepting = True
        except httpx.TransportError:
            accepting = False
        lock.release()
        status = answer.result(timeout=20)
    exited = _exited(env, DRAIN_BOUND_S)
    log = env.log()
    said = [line for line in ("shutdown: draining 1 in-flight request(s)", "shutdown: done") if line in log]
    correct = status is not None and 200 <= status < 300 and exited and not accepting and len(said) == 2
    new = "accepted" if accepting else "refused"
    return (
        correct,
        f"order in flight at SIGTERM answered {status}; new connections {new}; exited {exited}; {said}",
    )


def sigkill_after_ack(env: Env) -> Outcome:
    """SIGKILL just after orders were acknowledged: after a restart, every one is known."""
    coids = [f"crash-{n}" for n in range(3)]
    answers = [env.order(coid).status_code for coid in coids]
    _signal(env, signal.SIGKILL)
    assert _exited(env, 5), "the middleware survived SIGKILL"
    assert answers == [202, 202, 202], answers
    env.restart(env.mutants, clean=False)
    after = {coid: env.http.get(f"{env.base}/v1/orders/{coid}") for coid in coids}
    statuses = {
        coid: r.json().get("status") if r.status_code == 200 else r.status_code for coid, r in after.items()
    }
    return all(r.status_code == 200 for r in after.values()), f"after the crash and a restart: {statuses}"


SCENARIOS: dict[str, Scenario] = {
    # a long lock timeout keeps the order in flight as long as the test holds the lock
    "no_graceful_drain": Scenario(sigterm_mid_order, {"REFMW_DB_LOCK_TIMEOUT_MS": "8000"}),
    "ack_before_durable": Scenario(sigkill_after_ack),
}


test_healthy_build_passes_the_scenario, test_mutant_misbehaves_in_its_documented_way = case_tests(SCENARIOS)


def test_a_bad_release_starts_but_never_passes_readiness(env: Env) -> None:
    env.restart(extra_env={"REFMW_BAD_RELEASE": "1"}, expect_healthy=False, wait_ready=False)

    def health() -> httpx.Response | None:
        try:
            return env.http.get(f"{env.base}/health", timeout=1)
        except httpx.TransportError:
            return None

    first = wait_for(health, lambda r: r is not None, 15)
    assert first is not None, f"the bad release never answered\n{env.log()}"
    later = []
    for _ in range(3):  # and it stays failing
        time.sleep(0.3)
        later.append(health())
    assert {r.status_code for r in [first, *later] if r is not None} == {503}
    body = first.json()
    assert body["status"] == "failing" and body["reason"].startswith("bad release: "), body
    assert env.order("bad-release-1").status_code == 503
    assert env.venue_orders("bad-release-1") == []
    env.restart(clean=False)  # the rollback comes up healthy over the same database


def test_orders_a_crash_left_pending_are_settled_after_the_restart(env: Env) -> None:
    """Rows left pending_new by a crash between the insert and the send, which the venue never
    saw: start-up reconciliation fails an old one at once, and a young one once it is twice the
    order timeout old (the venue has had every chance to show it) - not at the next reconnect."""
    env.restart()
    assert env.order("sent-before-crash").status_code == 202
    env.topo.postgres.psql(
        "INSERT INTO orders (client_order_id, account_id, venue, symbol, exchange, side, qty, order_type, "
        f"status, created_at) SELECT coid, '{env.account}', 'rithmic', 'ESZ6', 'CME', 'BUY', 1, 'MARKET', "
        "'pending_new', now() - age FROM (VALUES ('orphan-old', interval '1 minute'), "
        "('orphan-young', interval '0 s')) AS o(coid, age)"
    )
    _signal(env, signal.SIGKILL)
    assert _exited(env, 5)
    env.restart(clean=False, extra_env={"REFMW_ORDER_TIMEOUT_S": "1"})
    assert env.get_order("orphan-old")["status"] == "failed", "start-up reconciliation left it pending"
    assert env.get_order("sent-before-crash")["status"] == "filled"
    young = wait_for(lambda: env.get_order("orphan-young"), lambda o: o["status"] == "failed", 5, 0.2)
    assert young["status"] == "failed" and young["reason"] == "never reached the venue", young

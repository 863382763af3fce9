"""Database faults on the real Postgres: a held row lock, Postgres stopped, Postgres restarted.

Like test_mutants, each scenario returns whether the middleware behaved correctly, with evidence,
and runs on the healthy build (must be correct) and with its mutant switched on (must not be).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from harness.topology import POSTGRES_PROXY

from .conftest import Env, wait_for
from .dbtools import LockHolder, account_lock, postgres_restart, postgres_stopped
from .mutant_cases import Outcome, Scenario, case_tests

FAST_S = 1.5  # a refusal on a database fault comes within this
RECOVERY_S = 4.0  # after Postgres is back, requests succeed again within this


def _timed(call: Callable[[], httpx.Response]) -> tuple[httpx.Response | None, float]:
    started = time.monotonic()
    try:
        response: httpx.Response | None = call()
    except httpx.TransportError:
        response = None
    return response, time.monotonic() - started


def _order_body(env: Env, coid: str) -> dict[str, object]:
    return {
        "account": env.account,
        "symbol": "ESZ6",
        "side": "BUY",
        "qty": 1,
        "type": "MARKET",
        "client_order_id": coid,
    }


def _database_503(response: httpx.Response | None, env: Env) -> str | None:
    """What is wrong with a database refusal, or None: 503, says the dependency, asks for a retry
    in a second, and shows neither a traceback nor where the database is."""
    if response is None:
        return "no answer"
    if response.status_code != 503:
        return f"status {response.status_code}"
    body = response.json()
    if body.get("dependency") != "database":
        return f"body {body}"
    if response.headers.get("retry-after") != "1":
        return f"Retry-After {response.headers.get('retry-after')!r}"
    pg = env.topo.postgres
    leaks = [s for s in ("Traceback", 'File "', pg.dsn, f":{getattr(pg, 'port', '')}/") if s in response.text]
    return f"the body shows {leaks}: {response.text}" if leaks else None


# ---------------------------------------------------------------------- a held lock
def held_account_lock(env: Env) -> Outcome:
    """An order for an account whose row another session holds FOR UPDATE is refused fast and
    never reaches the venue; a repeat of a known order still answers from its row."""
    assert env.order("known-1").status_code == 202
    with account_lock(env) as lock:
        lock.release_after(3.0)
        repeat, _ = _timed(lambda: env.order("known-1", timeout=10))
        answer, elapsed = _timed(lambda: env.order("locked-1", timeout=10))
    problem = _database_503(answer, env)
    at_venue = len(env.venue_orders("locked-1"))
    again = env.order("locked-1").status_code  # the refused order was not taken: it can be sent again
    correct = (
        repeat is not None and repeat.status_code == 202 and problem is None and elapsed < FAST_S
    ) and at_venue == 0
    evidence = (
        f"repeat {repeat.status_code if repeat else None}; locked order: {problem or 'a database 503'} after "
        f"{elapsed:.2f}s, {at_venue} at the venue, then {again} once the lock was gone"
    )
    return correct and again == 202, evidence


# ---------------------------------------------------------------------- Postgres down
def health_while_postgres_is_down(env: Env) -> Outcome:
    with postgres_stopped(env):
        down, elapsed = _timed(lambda: env.http.get(f"{env.base}/health", timeout=5))
        said = down.json() if down is not None else {}
    back = wait_for(env.health, lambda h: h["database"] == "up", RECOVERY_S)
    correct = said.get("database") == "down" and said.get("status") == "degraded" and elapsed < FAST_S
    return correct and back["database"] == "up", (
        f"health with Postgres stopped: {said.get('status')}/{said.get('database')} after {elapsed:.2f}s; "
        f"then {back['database']}"
    )


def requests_while_postgres_is_down(env: Env) -> Outcome:
    """Admin reads and orders are refused at once (503), and nothing reaches the venue."""
    with postgres_stopped(env):
        read, read_s = _timed(lambda: env.http.get(f"{env.base}/v1/accounts/{env.account}", timeout=2))
        order, order_s = _timed(lambda: env.order("pgdown-1", timeout=2))
    problems = [p for p in (_database_503(read, env), _database_503(order, env)) if p]
    at_venue = len(env.venue_orders("pgdown-1"))
    correct = not problems and max(read_s, order_s) < FAST_S and at_venue == 0
    return correct, f"read {read_s:.2f}s, order {order_s:.2f}s, problems {problems}, {at_venue} at the venue"


def webhook_while_postgres_is_down(env: Env) -> Outcome:
    """A delivery answered 200 has its effect; one the database could not take is refused, so
    Stripe sends it again."""
    customer = f"cus_{uuid.uuid4().hex[:14]}"
    with postgres_stopped(env):
        sent = env.stripe_send(["checkout.session.completed"], customer, retry={"max_attempts": 1})
        time.sleep(0.3)  # a build that applies it later has had its chance to try
    status = sent["deliveries"][0]["status"]
    time.sleep(0.5)
    accounts = env.accounts_of(customer)
    return (status == 200) == bool(accounts), f"delivery answered {status}; accounts afterwards {accounts}"


# ---------------------------------------------------------------------- Postgres restarted
def postgres_restarted(env: Env) -> Outcome:
    """After `pg_ctl restart -m fast` cut every session, reads and orders succeed again soon."""
    postgres_restart(env)
    restarted = time.monotonic()
    read = wait_for(lambda: env.account_info(env.account), lambda r: r.status_code == 200, RECOVERY_S)
    took = time.monotonic() - restarted
    order = env.order("after-restart-1").status_code
    health = env.health()["database"]
    correct = read.status_code == 200 and order == 202 and health == "up"
    return (
        correct,
        f"read {read.status_code} {took:.2f}s after the restart, then order {order}, database {health}",
    )


SCENARIOS: dict[str, Scenario] = {
    "no_lock_timeout": Scenario(held_account_lock),
    "health_always_ok": Scenario(health_while_postgres_is_down),
    "unbounded_db_retry": Scenario(requests_while_postgres_is_down),
    "webhook_ack_before_commit": Scenario(webhook_while_postgres_is_down),
    "pool_never_recovers": Scenario(postgres_restarted),
}
SLOW_MUTANTS = frozenset({"pool_never_recovers", "unbounded_db_retry"})  # each waits out a whole bound
test_healthy_build_passes_the_scenario, test_mutant_misbehaves_in_its_documented_way = case_tests(
    SCENARIOS, SLOW_MUTANTS
)


def test_a_locked_table_is_a_fast_503_and_health_stays_up(env: Env) -> None:
    """LOCK TABLE orders by another session: order reads and writes are refused within the lock
    timeout, while /health (which needs no table) still says the database is up."""
    env.restart()
    with LockHolder(env.topo.postgres.dsn, "LOCK TABLE orders IN ACCESS EXCLUSIVE MODE"):
        read, read_s = _timed(lambda: env.http.get(f"{env.base}/v1/orders/any-1", timeout=5))
        order, order_s = _timed(lambda: env.order("table-locked-1", timeout=5))
        health = env.health()
    assert _database_503(read, env) is None and _database_503(order, env) is None, (read, order)
    assert max(read_s, order_s) < FAST_S, (read_s, order_s)
    assert health["database"] == "up"
    assert env.venue_orders("table-locked-1") == []


@pytest.mark.slow
def test_a_black_holed_database_link_still_gets_answers_within_the_bound(env: Env) -> None:
    """The link to Postgres carries nothing back (the fault plane's timeout toxic): health says the
    database is down within a second, reads and orders are refused within the request budget (2.5 s,
    under the harness's 3 s answer bound), and all recover once the link does."""
    env.restart()
    bound_s = 3.0
    black_hole = env.proxy(POSTGRES_PROXY).toxic("timeout", timeout=0)
    admin = env.auth_headers()
    with (
        black_hole,
        ThreadPoolExecutor(3) as pool,
        httpx.Client(timeout=10, trust_env=False, headers=admin) as http,
    ):
        health = pool.submit(_timed, lambda: http.get(f"{env.base}/health"))
        scraped = pool.submit(_timed, lambda: http.get(f"{env.base}/metrics"))
        read = pool.submit(_timed, lambda: http.get(f"{env.base}/v1/accounts/{env.account}"))
        order = pool.submit(
            _timed, lambda: http.post(f"{env.base}/v1/orders", json=_order_body(env, "blackhole-1"))
        )
        (said, health_s), (read_answer, read_s), (order_answer, order_s) = (
            f.result() for f in (health, read, order)
        )
    assert said is not None and said.json()["database"] == "down" and health_s < FAST_S, (said, health_s)
    metrics, metrics_s = scraped.result()  # the on-call's other view says the same, as fast
    assert metrics is not None and "refmw_database_up 0\n" in metrics.text and metrics_s < FAST_S, metrics_s
    assert _database_503(read_answer, env) is None and read_s < bound_s, (read_answer, read_s)
    assert _database_503(order_answer, env) is None and order_s < bound_s, (order_answer, order_s)
    assert env.venue_orders("blackhole-1") == []
    back = wait_for(lambda: env.account_info(env.account), lambda r: r.status_code == 200, 10)
    assert back.status_code == 200, env.log()
    assert env.order("blackhole-2").status_code == 202
    assert "refmw_database_up 1\n" in httpx.get(f"{env.base}/metrics", trust_env=False).text


@pytest.mark.slow
def test_an_order_whose_venue_answer_cannot_be_recorded_is_504_then_reconciled(env: Env) -> None:
    """The venue has the order, but writing its answer fails (another session holds the order's
    row): the answer is 504 (unknown), never a refusal, and reconciliation books what the venue did."""
    # reconciliation comes twice the order timeout later; the venue's notifications (status, then
    # fill) each give up on the row after the lock timeout, while the row is still held
    env.restart(extra_env={"REFMW_ORDER_TIMEOUT_S": "1.5", "REFMW_DB_LOCK_TIMEOUT_MS": "300"})
    coid = "unrecorded-1"
    lock_the_row_once_it_exists = (
        "DO $$ BEGIN LOOP PERFORM 1 FROM orders WHERE client_order_id = '" + coid + "' FOR UPDATE; "
        "EXIT WHEN FOUND; PERFORM pg_sleep(0.005); END LOOP; END $$"
    )
    with (
        env.proxy("rithmic").toxic("latency", stream="downstream", latency=600),
        ThreadPoolExecutor(1) as pool,
    ):
        time.sleep(0.2)
        answer = pool.submit(env.order, coid, timeout=10)
        with LockHolder(env.topo.postgres.dsn, lock_the_row_once_it_exists):
            response = answer.result(timeout=10)
            time.sleep(1.5)  # until the notifications waiting behind us have given up
    assert response.status_code == 504 and response.json()["status"] == "unknown", response.text
    assert len(env.venue_orders(coid)) == 1
    settled = wait_for(lambda: env.get_order(coid), lambda o: o["status"] == "filled", 15, 0.25)
    assert settled["status"] == "filled" and settled["filled_qty"] == 1, settled
    assert env.positions() == env.venue_positions() == {"ESZ6": 1}
    sources = env.topo.postgres.psql(f"SELECT source FROM fills WHERE client_order_id = '{coid}'").split()
    assert sources == ["reconcile"], f"the fill was booked by {sources}, not by reconciliation\n{env.log()}"

"""Database faults against a real throwaway cluster: each one blocks what it should while applied,
and nothing of it is left once cleared (or once the faults are closed)."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import asyncpg
import pytest

from harness.dbfaults import KINDS, DatabaseFaultError, DatabaseFaults, validate
from harness.loopthread import LoopThread
from harness.postgres import ThrowawayPostgres
from harness.testing import postgres_missing

NO_POSTGRES = postgres_missing()

LOCK_ACCOUNTS = "SELECT 1 FROM accounts WHERE id = ANY($1::text[]) FOR UPDATE"
CUT = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError)  # how a session cut by a restart fails


@pytest.fixture(scope="module")
def pg() -> Iterator[ThrowawayPostgres]:
    if NO_POSTGRES:
        pytest.skip(NO_POSTGRES)
    with ThrowawayPostgres() as cluster:
        cluster.psql("CREATE TABLE accounts (id text PRIMARY KEY, balance int NOT NULL)")
        cluster.psql("INSERT INTO accounts VALUES ('A1', 10), ('A2', 20), ('A3', 30)")
        cluster.psql("CREATE TABLE orders (id text PRIMARY KEY, account text NOT NULL)")
        cluster.psql("INSERT INTO orders VALUES ('O1', 'A1')")
        yield cluster


@pytest.fixture(scope="module")
def db() -> Iterator[LoopThread]:
    """The test's own asyncpg sessions run here (the faults have their own loop)."""
    loops = LoopThread("test-db").start()
    yield loops
    loops.stop()


@pytest.fixture
def faults(pg: ThrowawayPostgres) -> Iterator[DatabaseFaults]:
    with DatabaseFaults(pg.dsn, restart=pg.restart) as started:
        yield started
    assert _fault_sessions(pg) == [], "a fault session outlived close()"


def _fault_sessions(pg: ThrowawayPostgres) -> list[str]:
    out = pg.psql("SELECT application_name FROM pg_stat_activity WHERE application_name LIKE 'uat-fault:%'")
    return out.split()


@contextlib.contextmanager
def session(db: LoopThread, pg: ThrowawayPostgres, **settings: str) -> Iterator[Any]:
    conn = db.run(asyncpg.connect(pg.dsn, server_settings={"application_name": "test", **settings}))
    try:
        yield conn
    finally:
        with contextlib.suppress(*CUT):
            db.run(conn.close(timeout=5))
        conn.terminate()


def _activity(db: LoopThread, conn: Any, pid: int) -> tuple[str, str]:
    row = db.run(conn.fetchrow("SELECT state, application_name FROM pg_stat_activity WHERE pid = $1", pid))
    return row["state"], row["application_name"]


def _lock_a1(db: LoopThread, conn: Any) -> None:
    db.run(conn.execute("BEGIN"))
    try:
        db.run(conn.execute("SELECT 1 FROM accounts WHERE id = 'A1' FOR UPDATE"))
    finally:
        db.run(conn.execute("ROLLBACK"))


def test_row_lock_blocks_the_rows_until_cleared_while_its_holder_is_active(
    pg: ThrowawayPostgres, db: LoopThread, faults: DatabaseFaults
) -> None:
    handle = faults.apply("row_lock", {"sql": LOCK_ACCOUNTS, "args": [["A1", "A2"]]})
    assert handle.rows_locked == 2 and len(handle.pids) == 1
    with session(db, pg, lock_timeout="200ms") as other:
        with pytest.raises(asyncpg.LockNotAvailableError):
            _lock_a1(db, other)
        db.run(
            other.execute("UPDATE accounts SET balance = balance WHERE id = 'A3'")
        )  # a row it did not lock
        deadline = time.monotonic() + 2
        while _activity(db, other, handle.pids[0])[0] != "active" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _activity(db, other, handle.pids[0]) == ("active", "uat-fault:row_lock")
        result = faults.clear(handle)
        assert result["ended"] == "rolled back" and result["rows_locked"] == 2 and result["held_s"] > 0
        _lock_a1(db, other)


def test_idle_in_transaction_holds_the_rows_with_no_statement_running(
    pg: ThrowawayPostgres, db: LoopThread, faults: DatabaseFaults
) -> None:
    handle = faults.apply("idle_in_transaction", {"sql": LOCK_ACCOUNTS, "args": [["A1"]]})
    assert handle.rows_locked == 1
    with session(db, pg, lock_timeout="200ms") as other:
        assert _activity(db, other, handle.pids[0]) == (
            "idle in transaction",
            "uat-fault:idle_in_transaction",
        )
        with pytest.raises(asyncpg.LockNotAvailableError):
            _lock_a1(db, other)
        assert faults.clear(handle)["ended"] == "rolled back"
        _lock_a1(db, other)
        assert faults.clear(handle)["ended"] == "already cleared"


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1 FROM accounts WHERE id = ANY($1::text[]) FOR UPDATE",  # no such row
        "SELECT 1 FROM accounts WHERE id <> ALL($1::text[])",  # rows, but no FOR UPDATE: nothing locked
    ],
)
def test_a_lock_on_no_rows_is_refused(pg: ThrowawayPostgres, faults: DatabaseFaults, sql: str) -> None:
    with pytest.raises(DatabaseFaultError, match=r"row_lock: param 'sql' locked no rows"):
        faults.apply("row_lock", {"sql": sql, "args": [["nope"]]})
    assert _fault_sessions(pg) == []


def test_table_lock_blocks_what_its_mode_conflicts_with_until_cleared(
    pg: ThrowawayPostgres, db: LoopThread, faults: DatabaseFaults
) -> None:
    with session(db, pg, lock_timeout="200ms") as other:
        exclusive = faults.apply("table_lock", {"table": "public.orders"})
        assert exclusive.params["mode"] == "ACCESS EXCLUSIVE"
        with pytest.raises(asyncpg.LockNotAvailableError):
            db.run(other.fetchval("SELECT count(*) FROM orders"))
        faults.clear(exclusive)
        assert db.run(other.fetchval("SELECT count(*) FROM orders")) == 1

        share = faults.apply("table_lock", {"table": "orders", "mode": "share"})  # reads pass, writes wait
        assert db.run(other.fetchval("SELECT count(*) FROM orders")) == 1
        with pytest.raises(asyncpg.LockNotAvailableError):
            db.run(other.execute("UPDATE orders SET account = account"))
        faults.clear(share)
        db.run(other.execute("UPDATE orders SET account = account"))
    with pytest.raises(
        DatabaseFaultError, match=r'table_lock: the database refused it.*"nosuch" does not exist'
    ):
        faults.apply("table_lock", {"table": "nosuch"})


def test_exhaust_connections_leaves_exactly_leave_slots_until_cleared(
    pg: ThrowawayPostgres, db: LoopThread, faults: DatabaseFaults
) -> None:
    with session(db, pg) as observer:  # open before: counted among the slots already used
        handle = faults.apply("exhaust_connections", {"leave": 2})
        assert handle.max_connections == 100 and handle.refused is None
        assert handle.already_used is not None and handle.taken is not None
        assert handle.already_used >= 1 and handle.already_used + handle.taken + 2 == 100
        fault_sessions = (
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'uat-fault:exhaust_connections'"
        )
        assert db.run(observer.fetchval(fault_sessions)) == handle.taken
        with (
            session(db, pg),  # the two left free
            session(db, pg),
            pytest.raises(asyncpg.TooManyConnectionsError, match="too many clients"),
        ):
            db.run(asyncpg.connect(pg.dsn))
        result = faults.clear(handle)
        assert result["ended"] == f"released {handle.taken} connections"
        assert db.run(observer.fetchval(fault_sessions)) == 0
        with session(db, pg) as again:
            assert db.run(again.fetchval("SELECT 1")) == 1


def test_exhaust_connections_stops_at_the_servers_refusal(
    pg: ThrowawayPostgres, faults: DatabaseFaults, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A backend not the harness's may come between the count and the last connection: the server's
    refusal ends the opening, and the handle says so."""
    opener = DatabaseFaults._open

    async def miscounted(
        self: DatabaseFaults, kind: str, count: int, conns: list[Any], refused: list[str]
    ) -> None:
        await opener(self, kind, count + 5, conns, refused)

    monkeypatch.setattr(DatabaseFaults, "_open", miscounted)
    handle = faults.apply("exhaust_connections", {"leave": 0})
    assert handle.refused is not None and "too many clients" in handle.refused
    assert handle.already_used is not None and handle.already_used + handle.taken == 100  # type: ignore[operator]
    faults.clear(handle)


def test_statement_timeout_cancels_slow_statements_of_existing_sessions_until_cleared(
    pg: ThrowawayPostgres, db: LoopThread, faults: DatabaseFaults
) -> None:
    with session(db, pg) as existing:
        handle = faults.apply("statement_timeout", {"ms": 300})
        with pytest.raises(DatabaseFaultError, match="statement_timeout: one is already applied"):
            faults.apply("statement_timeout", {"ms": 500})
        with pytest.raises(asyncpg.QueryCanceledError, match="statement timeout"):
            db.run(existing.execute("SELECT pg_sleep(1)"))
        # The harness's own sessions are immune: a row_lock's sleeping statement outlives the timeout.
        lock = faults.apply("row_lock", {"sql": LOCK_ACCOUNTS, "args": [["A1"]]})
        time.sleep(0.5)
        with session(db, pg, lock_timeout="200ms") as other, pytest.raises(asyncpg.LockNotAvailableError):
            _lock_a1(db, other)
        assert faults.clear(lock)["ended"] == "rolled back"
        assert faults.clear(handle)["ended"] == "reset (0ms)"
        db.run(existing.execute("SELECT pg_sleep(0.5)"))
    assert pg.psql("SHOW statement_timeout").strip() == "0"


def test_restart_cuts_every_session_and_the_server_comes_back_on_the_same_port(
    pg: ThrowawayPostgres, db: LoopThread, faults: DatabaseFaults
) -> None:
    port, postmaster = pg.port, pg.pid()
    held = faults.apply("idle_in_transaction", {"sql": LOCK_ACCOUNTS, "args": [["A1"]]})
    with session(db, pg) as existing:
        handle = faults.apply("restart", {})
        assert handle.down_s is not None and handle.down_s > 0
        with pytest.raises(CUT):
            db.run(existing.fetchval("SELECT 1"))
    assert pg.port == port and pg.pid() not in (None, postmaster)
    with session(db, pg) as fresh:
        assert db.run(fresh.fetchval("SELECT count(*) FROM accounts")) == 3  # same data
    assert faults.clear(handle) == {"kind": "restart", "down_s": handle.down_s, "ended": "nothing to clear"}
    assert faults.clear(held)["ended"].startswith(
        "session lost"
    )  # killed by the restart: reported, not raised


def test_restart_of_a_database_the_harness_does_not_own_is_refused(pg: ThrowawayPostgres) -> None:
    with DatabaseFaults(pg.dsn) as external, pytest.raises(DatabaseFaultError, match="does not own"):
        external.apply("restart", {})


@pytest.mark.parametrize(
    ("kind", "params", "message"),
    [
        ("row_locks", {}, "unknown database fault 'row_locks'"),
        ("row_lock", {}, "row_lock: param 'sql' must be a statement"),
        ("row_lock", {"sql": LOCK_ACCOUNTS, "args": "A1"}, "row_lock: param 'args' must be a list"),
        ("idle_in_transaction", {"sql": "x", "rows": 1}, "unknown param 'rows'"),
        (
            "table_lock",
            {"table": "orders; DROP TABLE accounts"},
            "table_lock: param 'table' must be a table name",
        ),
        ("table_lock", {"table": 'a"b'}, "param 'table'"),
        ("table_lock", {"table": "orders", "mode": "EXCLUSIVE; --"}, "param 'mode'.*ACCESS EXCLUSIVE"),
        ("exhaust_connections", {"leave": -1}, "param 'leave' must be an integer >= 0"),
        ("exhaust_connections", {"leave": True}, "param 'leave'"),
        ("statement_timeout", {}, "param 'ms' must be an integer >= 1, got None"),
        ("statement_timeout", {"ms": "100"}, "param 'ms'"),
        ("restart", {"mode": "fast"}, "restart: unknown param 'mode'"),
    ],
)
def test_bad_params_are_refused_naming_the_param_before_any_database(
    kind: str, params: dict[str, Any], message: str
) -> None:
    with pytest.raises(DatabaseFaultError, match=message):
        validate(kind, params)
    unstarted = DatabaseFaults("postgresql://nobody@127.0.0.1:1/none")
    with pytest.raises(DatabaseFaultError, match=message):
        unstarted.apply(kind, params)


def test_kinds_are_described_and_defaults_filled() -> None:
    assert (
        set(KINDS)
        == set(DatabaseFaults.kinds())
        == {
            "row_lock",
            "idle_in_transaction",
            "table_lock",
            "exhaust_connections",
            "statement_timeout",
            "restart",
        }
    )
    assert validate("exhaust_connections", {}) == {"leave": 2}
    assert (
        validate("table_lock", {"table": "orders", "mode": "row exclusive mode"})["mode"] == "ROW EXCLUSIVE"
    )


def test_close_ends_every_fault_and_leaves_no_thread_or_session(
    pg: ThrowawayPostgres, db: LoopThread
) -> None:
    before = set(threading.enumerate())
    faults = DatabaseFaults(pg.dsn, restart=pg.restart).start()
    assert any(t.name == "uat-dbfaults" for t in threading.enumerate())
    faults.apply("row_lock", {"sql": LOCK_ACCOUNTS, "args": [["A1"]]})
    faults.apply("idle_in_transaction", {"sql": LOCK_ACCOUNTS, "args": [["A2"]]})
    table = faults.apply("table_lock", {"table": "orders"})
    faults.apply("exhaust_connections", {"leave": 30})
    faults.apply("statement_timeout", {"ms": 250})
    assert len(_fault_sessions(pg)) > 5
    faults.close()
    assert set(threading.enumerate()) == before
    assert _fault_sessions(pg) == []
    assert pg.psql("SHOW statement_timeout").strip() == "0"
    with session(db, pg, lock_timeout="200ms") as other:
        _lock_a1(db, other)
        assert db.run(other.fetchval("SELECT count(*) FROM orders")) == 1
    faults.close()  # idempotent
    assert faults.clear(table)["ended"] == "already cleared (closed)"

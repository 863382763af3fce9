"""Database faults for the middleware's tests, on the topology's real Postgres: a lock held by
another session, the server stopped or restarted in place (pg_ctl), and who is waiting on a lock."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator

import asyncpg

from harness.postgres import ThrowawayPostgres

from .conftest import Env, wait_for

APP = "reference_middleware"  # the middleware's application_name on every session


class LockHolder:
    """Another session that runs `sql` (SELECT ... FOR UPDATE, LOCK TABLE) in a transaction and
    keeps it open until `release()`: the lock a stuck batch job or an idle-in-transaction session holds."""

    def __init__(self, dsn: str, sql: str) -> None:
        self.dsn = dsn
        self.sql = sql
        self.held = threading.Event()
        self._release = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._hold()), daemon=True)

    async def _hold(self) -> None:
        try:
            conn = await asyncpg.connect(self.dsn, server_settings={"application_name": "test-lock-holder"})
        except BaseException as exc:
            self._error = exc
            self.held.set()
            return
        try:
            tx = conn.transaction()
            await tx.start()
            await conn.execute(self.sql)
            self.held.set()
            while not self._release.is_set():
                await asyncio.sleep(0.02)
            await tx.rollback()
        except BaseException as exc:
            self._error = exc
            self.held.set()
        finally:
            await conn.close()

    def __enter__(self) -> LockHolder:
        self._thread.start()
        assert self.held.wait(10), "the lock holder never took its lock"
        if self._error is not None:
            raise self._error
        return self

    def release(self) -> None:
        self._release.set()
        self._thread.join(10)

    def release_after(self, seconds: float) -> None:
        timer = threading.Timer(seconds, self._release.set)
        timer.daemon = True
        timer.start()

    def __exit__(self, *exc: object) -> None:
        self.release()


def account_lock(env: Env, account: str | None = None) -> LockHolder:
    return LockHolder(
        env.topo.postgres.dsn, f"SELECT 1 FROM accounts WHERE id = '{account or env.account}' FOR UPDATE"
    )


def _postgres(env: Env) -> ThrowawayPostgres:
    pg = env.topo.postgres
    assert isinstance(pg, ThrowawayPostgres), "these tests stop and restart the topology's own Postgres"
    return pg


def pg_ctl(env: Env, *args: str) -> None:
    pg = _postgres(env)
    pg._pg("pg_ctl", "-D", str(pg.datadir), "-l", str(pg.logfile), "-w", "-t", "60", *args)


@contextlib.contextmanager
def postgres_stopped(env: Env) -> Iterator[None]:
    """Postgres down (a fast shutdown: every session is cut), started again on the way out."""
    pg_ctl(env, "-m", "fast", "stop")
    try:
        yield
    finally:
        pg_ctl(env, "start")


def postgres_restart(env: Env) -> None:
    pg_ctl(env, "-m", "fast", "restart")


def waiting_on_locks(env: Env) -> int:
    """How many of the middleware's sessions are waiting on a lock right now."""
    out = env.topo.postgres.psql(
        f"SELECT count(*) FROM pg_stat_activity WHERE application_name = '{APP}' AND wait_event_type = 'Lock'"
    )
    return int(out.strip() or 0)


def wait_until_waiting_on_a_lock(env: Env, timeout: float = 5.0) -> None:
    waiting = wait_for(lambda: waiting_on_locks(env), lambda n: n >= 1, timeout, 0.02)
    assert waiting >= 1, "the request never reached the locked row"

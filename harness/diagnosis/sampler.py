"""Evidence sampled while the run goes on: who holds which lock in the middleware's database,
whether the database answers at all, what the middleware's health endpoint says, and the process
events the runner reports. A failed check is diagnosed from these afterwards (diagnose.py).

The database is read over a DIRECT DSN, never through the fault plane: a fault on the database
link must not blind the witness. Every connect and query is bounded, so a database that is down
costs one refused connect per tick, and `stop()` returns even then."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import asyncpg

from ..loopthread import LoopThread
from .samples import QUERY_CHARS, DbSample, DbSession, HealthSample, ProcessEvent, WaitingLock

APPLICATION_NAME = "uat-diagnosis"
MAX_SAMPLES = 2400  # per kind: 20 minutes at the default interval; the oldest go first
MAX_SESSIONS = 64  # per sample: the blocked and their holders first, then the oldest transactions

# One round trip per tick. Client backends of this database other than the sampler's own;
# pg_blocking_pids (which briefly takes the lock manager) only for sessions waiting on a lock;
# idle sessions only when they hold a lock someone waits for (e.g. a session advisory lock).
SAMPLE_SQL = f"""
WITH s AS MATERIALIZED (
  SELECT a.pid, a.application_name, a.state, a.wait_event_type, a.wait_event,
         left(a.query, {QUERY_CHARS}) AS query,
         extract(epoch FROM clock_timestamp() - a.xact_start)::float8 AS xact_age_s,
         CASE WHEN a.wait_event_type = 'Lock' THEN pg_blocking_pids(a.pid) ELSE '{{}}'::int[] END
           AS blocked_by
  FROM pg_stat_activity a
  WHERE a.datname = current_database() AND a.backend_type = 'client backend'
    AND a.pid <> pg_backend_pid()
), holders AS (SELECT DISTINCT unnest(blocked_by) AS pid FROM s),
kept AS (
  SELECT * FROM s
  WHERE s.state IS DISTINCT FROM 'idle' OR s.pid IN (SELECT pid FROM holders)
  ORDER BY s.pid IN (SELECT pid FROM holders) DESC, cardinality(s.blocked_by) > 0 DESC,
           s.xact_age_s DESC NULLS LAST
  LIMIT $1
)
SELECT
  (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int AS connections,
  current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int
    - coalesce(current_setting('reserved_connections', true)::int, 0) AS connection_limit,
  (SELECT coalesce(json_agg(kept), '[]') FROM kept)::text AS sessions,
  (SELECT coalesce(json_agg(json_build_array(l.pid, l.locktype, l.relation::regclass::text, l.mode)), '[]')
     FROM pg_locks l WHERE NOT l.granted AND l.pid IN (SELECT pid FROM s))::text AS waiting_locks
"""

# The database is not there for us: refused, reset, timed out, shutting down, out of slots.
UNREACHABLE: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}"[:300] if text else type(exc).__name__


def parse_sample(t: float, connections: int, limit: int, sessions: str, locks: str) -> DbSample:
    """One row of SAMPLE_SQL as a DbSample."""
    return DbSample(
        t=t,
        reachable=True,
        sessions=tuple(DbSession.from_json(s) for s in json.loads(sessions)),
        waiting_locks=tuple(WaitingLock(int(p), str(k), r, str(m)) for p, k, r, m in json.loads(locks)),
        connections=connections,
        connection_limit=limit,
    )


class Sampler:
    """Samples the database and the health endpoint every `interval_s` on two private threads.

    `health` is called on its own thread, so a hanging endpoint never delays the database samples;
    it must bound its own calls (an adapter's timeout does). Example usage::

        sampler = Sampler(pg.dsn, health=probe, clock=timeline.now).start()
        ...  # the run, with sampler.record(ProcessEvent(...)) on each restart
        sampler.stop()
        diagnose(span, faults=timeline.windows, db=sampler.db_samples, ...)
    """

    def __init__(
        self,
        dsn: str,
        *,
        health: Callable[[], HealthSample] | None = None,
        clock: Callable[[], float] | None = None,
        interval_s: float = 0.5,
        timeout_s: float = 1.0,
        max_samples: int = MAX_SAMPLES,
        max_sessions: int = MAX_SESSIONS,
    ) -> None:
        self.dsn = dsn
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self.max_sessions = max_sessions
        self._health = health
        # Its own timeouts, so a server-wide statement_timeout fault neither cancels its query
        # nor, set tiny, goes unnoticed; and a lock it should never meet cannot hold it up.
        timeout_ms = str(int(timeout_s * 1000))
        self._settings = {
            "application_name": APPLICATION_NAME,
            "statement_timeout": timeout_ms,
            "lock_timeout": timeout_ms,
        }
        started = time.monotonic()
        self._clock = clock or (lambda: time.monotonic() - started)
        self._lock = threading.Lock()
        self._db: deque[DbSample] = deque(maxlen=max_samples)
        self._health_samples: deque[HealthSample] = deque(maxlen=max_samples)
        self._events: deque[ProcessEvent] = deque(maxlen=max_samples)
        self._loops = LoopThread("uat-diagnosis-db")
        self._db_task: asyncio.Task[None] | None = None
        self._conn: Any = None  # asyncpg.Connection, owned by the loop's thread
        self._stopping = threading.Event()
        self._health_thread: threading.Thread | None = None

    # The evidence so far: copies, safe to read while sampling goes on.
    @property
    def db_samples(self) -> list[DbSample]:
        with self._lock:
            return list(self._db)

    @property
    def health_samples(self) -> list[HealthSample]:
        with self._lock:
            return list(self._health_samples)

    @property
    def process_events(self) -> list[ProcessEvent]:
        with self._lock:
            return list(self._events)

    def record(self, event: ProcessEvent) -> None:
        """A process event the runner saw (a stop signal, an exit, readiness gained or lost)."""
        with self._lock:
            self._events.append(event)

    def start(self) -> Sampler:
        if self._db_task is not None:
            return self
        self._stopping.clear()
        self._loops.start()

        async def begin() -> asyncio.Task[None]:
            return asyncio.get_running_loop().create_task(self._sample_db_forever())

        self._db_task = self._loops.run(begin())
        if self._health is not None:
            self._health_thread = threading.Thread(
                target=self._sample_health_forever, name="uat-diagnosis-health", daemon=True
            )
            self._health_thread.start()
        return self

    def stop(self) -> None:
        """Stop both threads and close the connection; safe to call twice, or with Postgres down
        (a tick in flight ends within its timeouts)."""
        self._stopping.set()
        task, self._db_task = self._db_task, None
        if task is not None:

            async def finish() -> None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(task), 2 * self.timeout_s + self.interval_s)
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
                await self._close()

            self._loops.stop(finish, timeout=4 * self.timeout_s + self.interval_s + 5)
        thread, self._health_thread = self._health_thread, None
        if thread is not None:
            thread.join(self.interval_s + 10)

    def __enter__(self) -> Sampler:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # The database side, on the loop's thread.
    async def _sample_db_forever(self) -> None:
        while not self._stopping.is_set():
            began = time.monotonic()
            try:
                sample = await self._sample_db()
            except Exception as exc:  # a surprise must not end the sampling: keep it as the sample
                sample = DbSample(self._clock(), reachable=True, error=f"sampling failed: {_describe(exc)}")
            with self._lock:
                self._db.append(sample)
            await asyncio.sleep(max(0.0, self.interval_s - (time.monotonic() - began)))

    async def _sample_db(self) -> DbSample:
        t = self._clock()
        if self._conn is not None and self._conn.is_closed():
            # The server closed it since the last tick (a restart, a crash, a terminated backend):
            # say so even if it is back already, or a restart shorter than a tick goes unseen.
            self._drop()
            return DbSample(t, reachable=False, error="the connection was closed by the server")
        try:
            async with asyncio.timeout(3 * self.timeout_s):  # a guard above asyncpg's own timeouts
                if self._conn is None:
                    self._conn = await asyncpg.connect(
                        self.dsn,
                        timeout=self.timeout_s,
                        command_timeout=self.timeout_s,
                        server_settings=self._settings,
                    )
                row = await self._conn.fetchrow(SAMPLE_SQL, self.max_sessions, timeout=self.timeout_s)
        except UNREACHABLE as exc:
            self._drop()
            return DbSample(t, reachable=False, error=_describe(exc))
        except asyncpg.PostgresError as exc:  # it answered, but not our query (e.g. a privilege)
            return DbSample(t, reachable=True, error=_describe(exc))
        return parse_sample(
            t, row["connections"], row["connection_limit"], row["sessions"], row["waiting_locks"]
        )

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.terminate()

    async def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            await asyncio.wait_for(conn.close(timeout=self.timeout_s), 2 * self.timeout_s)
        except Exception:
            conn.terminate()

    # The health side, on its own thread.
    def _sample_health_forever(self) -> None:
        assert self._health is not None
        while not self._stopping.is_set():
            began = time.monotonic()
            t = self._clock()
            try:
                sample = self._health()
            except Exception as exc:
                sample = HealthSample(error=_describe(exc))
            with self._lock:
                self._health_samples.append(replace(sample, t=t))
            self._stopping.wait(max(0.0, self.interval_s - (time.monotonic() - began)))

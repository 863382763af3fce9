"""The Sampler against a real throwaway Postgres: a held row lock is seen with its holder, a
restart and a stop are seen as unreachable samples and sampling resumes, and stop() leaves no
thread or socket behind, even with the database down."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import asyncpg
import pytest

from harness.diagnosis import APPLICATION_NAME, DbSample, HealthSample, ProcessEvent, Sampler, diagnose
from harness.loopthread import LoopThread
from harness.ports import free_port
from harness.postgres import ThrowawayPostgres
from harness.testing import postgres_missing
from harness.timeline import Timeline

NO_POSTGRES = postgres_missing()
needs_postgres = pytest.mark.skipif(bool(NO_POSTGRES), reason=NO_POSTGRES or "n/a")

LOCK_SQL = "SELECT 1 FROM accounts WHERE id = 'a1' FOR UPDATE"
INTERVAL = 0.1


def eventually(what: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        assert time.monotonic() < deadline, "not within the timeout"
        time.sleep(0.02)


def our_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("uat-diagnosis")]


def open_sockets() -> int:
    fds = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            fds.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            continue
    return sum(1 for target in fds if target.startswith("socket:"))


@pytest.fixture(scope="module")
def pg() -> Iterator[ThrowawayPostgres]:
    if NO_POSTGRES:
        pytest.skip(NO_POSTGRES)
    with ThrowawayPostgres() as cluster:
        cluster.psql(
            "CREATE TABLE accounts (id text PRIMARY KEY, balance int); INSERT INTO accounts VALUES ('a1', 1)"
        )
        yield cluster


@pytest.fixture
def loops() -> Iterator[LoopThread]:
    """The test's own clients (the lock holder, its victim) on a loop of their own."""
    thread = LoopThread("test-clients").start()
    yield thread
    thread.stop()


@needs_postgres
def test_a_held_row_lock_is_sampled_with_its_holder_and_diagnosed(
    pg: ThrowawayPostgres, loops: LoopThread
) -> None:
    async def hold_and_block() -> tuple[Any, Any, asyncio.Task[Any]]:
        holder = await asyncpg.connect(pg.dsn, server_settings={"application_name": "uat-fault:row_lock"})
        await holder.execute("BEGIN")
        await holder.execute(LOCK_SQL)
        victim = await asyncpg.connect(pg.dsn, server_settings={"application_name": "reference_middleware"})
        blocked = asyncio.get_running_loop().create_task(
            victim.execute("UPDATE accounts SET balance = 2 WHERE id = 'a1'")
        )
        return holder, victim, blocked

    timeline = Timeline()
    sampler = Sampler(pg.dsn, clock=timeline.now, interval_s=INTERVAL).start()
    holder, victim, blocked = loops.run(hold_and_block())
    try:
        holder_pid = holder.get_server_pid()
        victim_pid = victim.get_server_pid()

        def seen_blocked() -> list[DbSample]:
            return [s for s in sampler.db_samples if any(b.pid == victim_pid for b in s.blocked())]

        eventually(lambda: len(seen_blocked()) >= 3)
        blocked_sample = seen_blocked()[-1]
        (session,) = blocked_sample.blocked()
        assert session.blocked_by == (holder_pid,)
        assert session.application_name == "reference_middleware" and session.wait_event_type == "Lock"
        held = blocked_sample.session(holder_pid)
        assert held is not None and held.state == "idle in transaction" and held.query == LOCK_SQL
        assert any(lock.pid == victim_pid for lock in blocked_sample.waiting_locks)
        assert all(s.application_name != APPLICATION_NAME for x in sampler.db_samples for s in x.sessions)
        sampler.stop()
        found = diagnose(None, faults=[], db=sampler.db_samples, health=[], process=[])
        assert found.cause == "database lock", found.summary
        assert f"pid {holder_pid} (uat-fault:row_lock, idle in transaction for" in found.summary
        assert f'held "{LOCK_SQL}", blocking 1 session(s) of reference_middleware' in found.summary
        assert found.evidence["holder_query"] == LOCK_SQL
    finally:
        sampler.stop()
        loops.run(holder.close())
        loops.run(asyncio.wait_for(blocked, 5))  # the update goes through once the lock is let go
        loops.run(victim.close())
    assert our_threads() == []


@needs_postgres
def test_a_restart_and_a_stop_are_seen_as_unreachable_and_sampling_resumes(pg: ThrowawayPostgres) -> None:
    assert pg.tmpdir is not None
    sockets = open_sockets()
    with Sampler(pg.dsn, interval_s=INTERVAL) as sampler:
        eventually(lambda: any(s.reachable for s in sampler.db_samples))
        pg._pg("pg_ctl", "-D", str(pg.datadir), "-l", str(pg.logfile), "-m", "fast", "-w", "restart")
        restarted = len(sampler.db_samples)
        eventually(lambda: any(s.reachable for s in sampler.db_samples[restarted:]))
        lost = [s for s in sampler.db_samples if not s.reachable]
        assert lost, "the restart closed the sampler's connection: at least one unreachable sample"

        pg._pg("pg_ctl", "-D", str(pg.datadir), "-m", "fast", "-w", "stop")
        stopped = len(sampler.db_samples)
        eventually(lambda: sum(not s.reachable for s in sampler.db_samples[stopped:]) >= 3)
        assert "refused" in sampler.db_samples[-1].error.lower()
        pg._pg("pg_ctl", "-D", str(pg.datadir), "-l", str(pg.logfile), "-w", "start")
        started = len(sampler.db_samples)
        eventually(lambda: any(s.reachable and not s.error for s in sampler.db_samples[started:]))
    assert our_threads() == []
    assert open_sockets() <= sockets
    found = diagnose(None, faults=[], db=sampler.db_samples, health=[], process=[])
    assert found.cause == "database unavailable" and "Postgres unreachable for" in found.summary
    assert len(found.evidence["outages"]) >= 2


def test_stop_returns_promptly_with_the_database_down_and_keeps_every_health_answer() -> None:
    calls = iter(range(1_000))

    def health() -> HealthSample:
        n = next(calls)
        if n % 2:
            raise ConnectionError("middleware gone")
        return HealthSample(ok=True, database_ok=False, status=200, raw={"db": "down"})

    sockets = open_sockets()
    clock = iter(float(n) for n in range(1_000_000))
    sampler = Sampler(
        f"postgresql://postgres@127.0.0.1:{free_port()}/uat",
        health=health,
        clock=lambda: next(clock),
        interval_s=INTERVAL,
        max_samples=6,
    )
    sampler.start()
    for n in range(8):
        sampler.record(ProcessEvent(float(n), "not_ready", f"probe {n}"))
    assert [e.detail for e in sampler.process_events] == [f"probe {n}" for n in range(2, 8)]  # bounded
    eventually(lambda: len(sampler.db_samples) >= 3 and len(sampler.health_samples) >= 4)
    began = time.monotonic()
    sampler.stop()
    sampler.stop()  # twice: nothing more to do
    assert time.monotonic() - began < 3.0
    assert our_threads() == []
    assert open_sockets() <= sockets
    assert all(not s.reachable and "refused" in s.error.lower() for s in sampler.db_samples)
    probes = sampler.health_samples
    assert len(probes) <= 6 and len(sampler.db_samples) <= 6
    answered, raised = [p for p in probes if not p.error], [p for p in probes if p.error]
    assert answered and all(p.database_ok is False and p.raw == {"db": "down"} for p in answered)
    assert raised and all(p.error == "ConnectionError: middleware gone" and p.ok is None for p in raised)
    stamps = [p.t for p in probes] + [s.t for s in sampler.db_samples]
    assert len(set(stamps)) == len(stamps)  # each stamped by the injected clock

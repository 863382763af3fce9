"""The service's connection pool: asyncpg's, with every wait on it bounded.

asyncpg's own `pool.fetch(...)` helpers take a connection with no acquire timeout, and a connection
released after a timed-out query waits for the cancellation for as long as the acquire's timeout
allows (forever, without one). `BoundedPool` passes the acquire timeout everywhere, and turns an
acquire that runs out into DatabaseUnavailable with a plain message. asyncpg replaces a connection
that Postgres closed (a restart, a reset link) on its next acquire, so the pool recovers by itself.

`FixedPool` is the `pool_never_recovers` mutant: the hand-rolled pool an agency writes to "keep it
simple", with the same surface.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Protocol

import asyncpg

from .config import Config
from .dbguard import DatabaseUnavailable

log = logging.getLogger("refmw.db")
CLOSE_TIMEOUT_S = 5.0


class Pool(Protocol):
    """What the service uses of a pool: asyncpg.Pool's subset."""

    def acquire(self) -> contextlib.AbstractAsyncContextManager[Any]: ...
    async def fetch(self, query: str, *args: Any) -> list[Any]: ...
    async def fetchrow(self, query: str, *args: Any) -> Any: ...
    async def fetchval(self, query: str, *args: Any) -> Any: ...
    async def execute(self, query: str, *args: Any) -> str: ...
    async def close(self) -> None: ...


def server_settings(cfg: Config) -> dict[str, str]:
    """Session settings of every connection: a lock held elsewhere, a runaway statement or a
    transaction of ours left open all end in an error instead of a wait."""
    settings = {
        "application_name": "reference_middleware",
        "idle_in_transaction_session_timeout": str(cfg.db_idle_in_tx_timeout_ms),
    }
    if not cfg.mutant("no_lock_timeout"):
        settings["lock_timeout"] = str(cfg.db_lock_timeout_ms)
        settings["statement_timeout"] = str(cfg.db_statement_timeout_ms)
    return settings


def command_timeout(cfg: Config) -> float | None:
    """asyncpg's client-side bound on a query: a second past the server's, which covers a link
    that carries nothing back (the server's statement_timeout cannot reach us then)."""
    if cfg.mutant("no_lock_timeout"):
        return None
    return cfg.db_statement_timeout_ms / 1000 + 1.0 if cfg.db_statement_timeout_ms else 30.0


def acquire_timeout(cfg: Config) -> float | None:
    return None if cfg.mutant("no_lock_timeout") else cfg.db_acquire_timeout_s


class _Acquired:
    """`async with pool.acquire() as conn`, with a bounded wait for the connection."""

    __slots__ = ("conn", "pool", "timeout")

    def __init__(self, pool: asyncpg.Pool, timeout: float | None) -> None:
        self.pool = pool
        self.timeout = timeout
        self.conn: Any = None

    async def __aenter__(self) -> Any:
        try:
            self.conn = await self.pool.acquire(timeout=self.timeout)
        except TimeoutError:
            raise DatabaseUnavailable(f"no database connection free within {self.timeout:g}s") from None
        return self.conn

    async def __aexit__(self, *exc: object) -> None:
        await self.pool.release(self.conn)


class BoundedPool:
    def __init__(self, pool: asyncpg.Pool, acquire_timeout: float | None) -> None:
        self._pool = pool
        self.acquire_timeout = acquire_timeout

    @classmethod
    async def open(cls, cfg: Config) -> BoundedPool:
        pool = await asyncpg.create_pool(
            cfg.database_url,
            min_size=2,
            max_size=cfg.db_pool,
            command_timeout=command_timeout(cfg),
            timeout=cfg.db_connect_timeout_s,
            server_settings=server_settings(cfg),
            reset=_keep_session,
        )
        return cls(pool, acquire_timeout(cfg))

    def acquire(self) -> _Acquired:
        return _Acquired(self._pool, self.acquire_timeout)

    async def fetch(self, query: str, *args: Any) -> list[Any]:
        async with self.acquire() as conn:
            rows: list[Any] = await conn.fetch(query, *args)
            return rows

    async def fetchrow(self, query: str, *args: Any) -> Any:
        async with self.acquire() as conn:
            return await conn.fetchrow(query, *args)

    async def fetchval(self, query: str, *args: Any) -> Any:
        async with self.acquire() as conn:
            return await conn.fetchval(query, *args)

    async def execute(self, query: str, *args: Any) -> str:
        async with self.acquire() as conn:
            status: str = await conn.execute(query, *args)
            return status

    async def close(self) -> None:
        """Gracefully, within a bound; then the hard way (a dead link cannot say goodbye)."""
        try:
            await asyncio.wait_for(self._pool.close(), CLOSE_TIMEOUT_S)
        except (TimeoutError, OSError, asyncpg.InterfaceError):
            self._pool.terminate()


async def _keep_session(conn: asyncpg.Connection) -> None:
    """A released connection keeps its session: the service sets no session state (no LISTEN,
    SET or session advisory lock), and asyncpg still rolls back an open transaction first. The
    default reset costs a round trip on every release, about a tenth of the service's CPU under
    load."""


class FixedPool:
    """pool_never_recovers: the connections opened at start, handed out in turn, forever. One that
    Postgres closed (a restart) stays in the rotation, so every query on it fails from then on."""

    def __init__(self, conns: list[Any], acquire_timeout: float | None) -> None:
        self._free: asyncio.Queue[Any] = asyncio.Queue()
        self._all = conns
        for conn in conns:
            self._free.put_nowait(conn)
        self.acquire_timeout = acquire_timeout

    @classmethod
    async def open(cls, cfg: Config) -> FixedPool:
        conns = []
        try:
            for _ in range(cfg.db_pool):
                conns.append(
                    await asyncpg.connect(
                        cfg.database_url,
                        timeout=cfg.db_connect_timeout_s,
                        command_timeout=command_timeout(cfg),
                        server_settings=server_settings(cfg),
                    )
                )
        except BaseException:
            for conn in conns:
                conn.terminate()
            raise
        return cls(conns, acquire_timeout(cfg))

    @contextlib.asynccontextmanager
    async def _lease(self) -> Any:
        try:
            conn = await asyncio.wait_for(self._free.get(), self.acquire_timeout)
        except TimeoutError:
            raise DatabaseUnavailable("no database connection free") from None
        try:
            yield conn
        finally:
            self._free.put_nowait(conn)

    def acquire(self) -> contextlib.AbstractAsyncContextManager[Any]:
        return self._lease()

    async def fetch(self, query: str, *args: Any) -> list[Any]:
        async with self._lease() as conn:
            rows: list[Any] = await conn.fetch(query, *args)
            return rows

    async def fetchrow(self, query: str, *args: Any) -> Any:
        async with self._lease() as conn:
            return await conn.fetchrow(query, *args)

    async def fetchval(self, query: str, *args: Any) -> Any:
        async with self._lease() as conn:
            return await conn.fetchval(query, *args)

    async def execute(self, query: str, *args: Any) -> str:
        async with self._lease() as conn:
            status: str = await conn.execute(query, *args)
            return status

    async def close(self) -> None:
        for conn in self._all:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), 1.0)
            conn.terminate()


async def open_pool(cfg: Config) -> Pool:
    if cfg.mutant("pool_never_recovers"):
        return await FixedPool.open(cfg)
    return await BoundedPool.open(cfg)

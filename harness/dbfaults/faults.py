"""The SQL of the database faults: each on its own harness sessions (`uat-fault:<kind>`), asyncpg on
a private LoopThread so the synchronous fault player can call in from any thread."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from ..loopthread import LoopThread
from .kinds import APP_PREFIX, KINDS, DatabaseFaultError, FaultHandle, quote_table, validate

CONNECT_TIMEOUT_S = 10.0
LOCK_WAIT_S = 10  # apply gives up on a lock the middleware holds after this (lock_timeout)
APPLY_TIMEOUT_S = 60.0
SETTLE_S = 5.0  # how long a reload may take to reach new sessions
OPEN_AT_ONCE = 10  # exhaust_connections: connection attempts in flight at once
# row_lock's sleeping statement, re-issued until cleared. Should the harness die, the server drops
# the lock when it notices the lost client: within client_connection_check_interval (Postgres 14+),
# else at the end of the slice.
HOLD_SLICE_S = 30
# Harness sessions are immune to the very faults they inject (a statement_timeout fault must not
# cancel a row_lock's sleep) and to the server's idle-in-transaction reaper.
_OWN_SETTINGS = {
    "statement_timeout": "0",
    "idle_in_transaction_session_timeout": "0",
    "lock_timeout": f"{LOCK_WAIT_S}s",
}


@dataclass
class _Held:
    handle: FaultHandle
    conns: list[Any] = field(default_factory=list)  # asyncpg connections
    holder: asyncio.Task[None] | None = None  # row_lock's sleeping statement
    restore: str = ""  # statement_timeout: the value fresh sessions had before


class DatabaseFaults:
    """Applies and clears database faults; `close()` ends every fault still applied.

    Example usage::

        with DatabaseFaults(pg.dsn, restart=pg.restart) as faults:
            handle = faults.apply("table_lock", {"table": "orders"})
            faults.clear(handle)
    """

    def __init__(self, dsn: str, *, restart: Callable[[], float] | None = None) -> None:
        self.dsn = dsn  # DIRECT: through the fault plane, the harness's own SQL would suffer its toxics
        self._restart = restart  # None: a database the harness does not own
        self._loops = LoopThread("uat-dbfaults")
        self._held: dict[int, _Held] = {}  # touched only on the loop's thread
        self._ids = itertools.count(1)
        self._timeout_pending = False

    @staticmethod
    def kinds() -> Mapping[str, str]:
        return KINDS

    def start(self) -> DatabaseFaults:
        if self._loops.loop is None:
            self._loops.start()
        return self

    def apply(self, kind: str, params: Mapping[str, Any]) -> FaultHandle:
        """Put the fault in force, then return its handle. A restart runs in the caller's thread."""
        checked = validate(kind, params)
        if self._loops.loop is None:
            raise RuntimeError("DatabaseFaults is not started (or already closed)")
        if kind == "restart":
            if self._restart is None:
                raise DatabaseFaultError(
                    "restart: the harness does not restart a database it does not own (an external DSN)"
                )
            began = time.time()
            down_s = self._restart()
            return FaultHandle(next(self._ids), kind, checked, began, down_s=round(down_s, 3))
        return self._loops.run(self._apply(kind, checked), APPLY_TIMEOUT_S)

    def clear(self, handle: FaultHandle) -> dict[str, Any]:
        """End the fault; what happened, for the timeline. Never raises: a session already killed
        (a restart meanwhile) is reported, not raised."""
        result: dict[str, Any] = {"kind": handle.kind, **handle.facts()}
        if handle.kind == "restart":
            return {**result, "ended": "nothing to clear"}
        if self._loops.loop is None:
            return {**result, "ended": "already cleared (closed)"}
        try:
            ended = self._loops.run(self._clear(handle.id), APPLY_TIMEOUT_S)
        except Exception as exc:
            ended = f"clear failed: {type(exc).__name__}: {exc}"
        return {**result, "held_s": round(time.time() - handle.applied_at, 3), "ended": ended}

    def close(self) -> None:
        """Clear every fault still applied (statement_timeout reset too), then stop the loop."""
        self._loops.stop(self._clear_all, timeout=APPLY_TIMEOUT_S)

    def __enter__(self) -> DatabaseFaults:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- on the loop's thread -------------------------------------------------------------------

    async def _connect(self, kind: str, *, immune: bool = True) -> Any:
        settings = {"application_name": APP_PREFIX + kind, **(_OWN_SETTINGS if immune else {})}
        return await asyncpg.connect(self.dsn, timeout=CONNECT_TIMEOUT_S, server_settings=settings)

    async def _apply(self, kind: str, params: dict[str, Any]) -> FaultHandle:
        try:
            if kind == "exhaust_connections":
                held = await self._exhaust(params)
            elif kind == "statement_timeout":
                held = await self._set_timeout(params)
            else:
                held = await self._lock(kind, params)
        except asyncpg.PostgresError as exc:
            raise DatabaseFaultError(f"{kind}: the database refused it: {type(exc).__name__}: {exc}") from exc
        self._held[held.handle.id] = held
        return held.handle

    def _handle(self, kind: str, params: dict[str, Any], conns: list[Any], **facts: Any) -> FaultHandle:
        pids = tuple(int(c.get_server_pid()) for c in conns)
        return FaultHandle(next(self._ids), kind, params, time.time(), pids, **facts)

    async def _lock(self, kind: str, params: dict[str, Any]) -> _Held:
        """A transaction holding row locks (row_lock, idle_in_transaction) or a table lock."""
        conn = await self._connect(kind)
        try:
            if kind == "row_lock" and conn.get_server_version() >= (14,):
                with contextlib.suppress(asyncpg.PostgresError):  # not on every platform
                    await conn.execute("SET client_connection_check_interval = '1s'")
            await conn.execute("BEGIN")
            if kind == "table_lock":
                await conn.execute(f"LOCK TABLE {quote_table(params['table'])} IN {params['mode']} MODE")
                return _Held(self._handle(kind, params, [conn]), [conn])
            status = str(await conn.execute(params["sql"], *params["args"]))
            # The status counts rows ("SELECT 2", "UPDATE 2"), but a SELECT without FOR UPDATE counts
            # them too: only a statement that locked a row has taken a transaction id.
            wrote = await conn.fetchval("SELECT pg_current_xact_id_if_assigned() IS NOT NULL")
            count = status.rsplit(" ", 1)[-1]
            if not wrote or not count.isdigit() or int(count) == 0:
                raise DatabaseFaultError(
                    f"{kind}: param 'sql' locked no rows (its status: {status!r}): a lock on nothing tests "
                    "nothing. It must lock existing rows: SELECT ... FOR UPDATE, UPDATE or DELETE."
                )
            handle = self._handle(kind, params, [conn], rows_locked=int(count))
            holder = None
            if kind == "row_lock":
                holder = asyncio.create_task(_keep_active(conn))
                await asyncio.sleep(0)  # its statement is on the wire before apply returns
            return _Held(handle, [conn], holder)
        except BaseException:
            conn.terminate()
            raise

    async def _exhaust(self, params: dict[str, Any]) -> _Held:
        """Take every slot but `leave`: the counting session is the first one held. Superusers may use
        the reserved slots, so only another role leaves them out."""
        kind, leave = "exhaust_connections", params["leave"]
        first = await self._connect(kind)
        try:
            row = await first.fetchrow(
                "SELECT current_setting('max_connections')::int AS max,"
                " (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser,"
                " current_setting('superuser_reserved_connections')::int"
                "  + coalesce(current_setting('reserved_connections', true)::int, 0) AS reserved,"
                " (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int AS used"
            )
        except BaseException:
            first.terminate()
            raise
        max_connections, already_used = int(row["max"]), int(row["used"]) - 1  # not counting `first`
        usable = max_connections - (0 if row["superuser"] else int(row["reserved"]))
        conns, need = [first], usable - already_used - leave
        refused: list[str] = []
        if need <= 0:
            await first.close()
            conns = []
        else:
            await self._open(kind, need - 1, conns, refused)
        facts = {"max_connections": max_connections, "already_used": already_used, "taken": len(conns)}
        handle = self._handle(kind, params, conns, refused=refused[0] if refused else None, **facts)
        return _Held(handle, conns)

    async def _open(self, kind: str, count: int, conns: list[Any], refused: list[str]) -> None:
        """Open `count` more sessions, OPEN_AT_ONCE at a time; stop at the server's first refusal (a
        backend not ours came and went meanwhile). Any other error: release them all, raise it."""
        remaining = count

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0 and not refused:
                remaining -= 1
                try:
                    conns.append(await self._connect(kind))
                except asyncpg.TooManyConnectionsError as exc:
                    refused.append(str(exc))

        outcomes = await asyncio.gather(
            *(worker() for _ in range(min(OPEN_AT_ONCE, count))), return_exceptions=True
        )
        failed = [o for o in outcomes if isinstance(o, BaseException)]
        if failed:
            await _close_all(conns)
            raise failed[0]

    async def _set_timeout(self, params: dict[str, Any]) -> _Held:
        """ALTER SYSTEM (never in a transaction block) and a reload; in force once a fresh session
        shows it: the postmaster has reloaded and signalled every backend, and an idle one applies it
        before its next statement. One at a time: clearing either would reset both."""
        if self._timeout_pending or any(h.handle.kind == "statement_timeout" for h in self._held.values()):
            raise DatabaseFaultError("statement_timeout: one is already applied; clear it first")
        self._timeout_pending = True
        try:
            restore = await self._fresh_timeout()
            conn = await self._connect("statement_timeout")
            try:
                await conn.execute(f"ALTER SYSTEM SET statement_timeout = '{int(params['ms'])}ms'")
                await conn.execute("SELECT pg_reload_conf()")
            finally:
                await conn.close()
            if not await self._until_timeout(str(params["ms"])):
                await self._reset_timeout(restore)
                raise DatabaseFaultError(
                    f"statement_timeout: a new session still shows no {params['ms']}ms after {SETTLE_S}s "
                    "(is it set per role or per database?)"
                )
            return _Held(self._handle("statement_timeout", params, []), restore=restore)
        finally:
            self._timeout_pending = False

    async def _fresh_timeout(self) -> str:
        """statement_timeout (in ms) as a new session without its own setting gets it."""
        probe = await self._connect("statement_timeout", immune=False)
        try:
            return str(
                await probe.fetchval("SELECT setting FROM pg_settings WHERE name = 'statement_timeout'")
            )
        finally:
            await probe.close()

    async def _until_timeout(self, expected: str) -> bool:
        deadline = time.monotonic() + SETTLE_S
        while await self._fresh_timeout() != expected:
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.02)
        return True

    async def _reset_timeout(self, restore: str) -> str:
        conn = await self._connect("statement_timeout")
        try:
            await conn.execute("ALTER SYSTEM RESET statement_timeout")
            await conn.execute("SELECT pg_reload_conf()")
        finally:
            await conn.close()
        if await self._until_timeout(restore):
            return f"reset ({restore}ms)"
        return f"reset, but new sessions do not show {restore}ms yet"

    async def _clear(self, handle_id: int) -> str:
        held = self._held.pop(handle_id, None)
        if held is None:
            return "already cleared"
        if held.handle.kind == "statement_timeout":
            try:
                return await self._reset_timeout(held.restore)
            except Exception as exc:
                return f"reset failed: {type(exc).__name__}: {exc}"
        if held.handle.kind == "exhaust_connections":
            await _close_all(held.conns)
            return f"released {len(held.conns)} connections"
        lost = ""
        if held.holder is not None:
            held.holder.cancel()  # asyncpg sends the server a cancel request for the running sleep
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await held.holder
            if not held.holder.cancelled() and held.holder.exception() is not None:
                lost = f"{type(held.holder.exception()).__name__}: {held.holder.exception()}"
        return await self._end_session(held, lost)

    async def _end_session(self, held: _Held, lost: str) -> str:
        """ROLLBACK and close; a session the server already ended is reported as lost. One that does
        not answer is terminated server-side, only if it is still ours (a pid may be reused)."""
        conn, pid, name = held.conns[0], held.handle.pids[0], APP_PREFIX + held.handle.kind
        try:
            await conn.execute("ROLLBACK", timeout=5)
            await conn.close(timeout=5)
            return "rolled back"
        except Exception as exc:
            conn.terminate()
            if isinstance(exc, TimeoutError):
                with contextlib.suppress(Exception):
                    killer = await self._connect("terminate")
                    try:
                        await killer.execute(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                            " WHERE pid = $1 AND application_name = $2",
                            pid,
                            name,
                        )
                    finally:
                        await killer.close()
            return f"session lost ({lost or f'{type(exc).__name__}: {exc}'})"

    async def _clear_all(self) -> None:
        await asyncio.gather(*(self._clear(i) for i in list(self._held)), return_exceptions=True)


async def _keep_active(conn: Any) -> None:
    """row_lock's transaction stays *active*, as a slow statement of the middleware's own would."""
    while True:
        await conn.execute(f"SELECT pg_sleep({HOLD_SLICE_S})")


async def _close_all(conns: list[Any]) -> None:
    async def close(conn: Any) -> None:
        try:
            await conn.close(timeout=5)
        except Exception:
            conn.terminate()

    await asyncio.gather(*(close(c) for c in conns))

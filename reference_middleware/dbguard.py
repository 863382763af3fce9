"""Database trouble as a definite, fast HTTP answer: never a hang, never a 500 with a traceback.

Every route that reads or writes Postgres runs under `guarded`: a database error (asyncpg's, a
socket error, a timeout) becomes `503 {"error", "dependency": "database"}` with `Retry-After: 1`,
and the route's database time is bounded by a budget, so a slow or black-holed link still gets an
answer within it. The body names only the error's class or SQLSTATE, never its text (which can
carry a host, a query or a DSN). A route that talks to a venue between its queries (placing an
order) bounds its database phases itself with a `Budget`, since cutting the venue call short
would turn an order that reached the venue into a refusal.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

log = logging.getLogger("refmw.db")
T = TypeVar("T")
RETRY_DELAY_S = 0.1  # unbounded_db_retry: how often a failing request tries again


class DatabaseUnavailable(Exception):
    """A database bound ran out (no pool connection, no answer within the request's budget); the
    message is ours and safe to show."""


# Every other dependency of a route handles its own errors where it is called (the venue's in
# orders and cancels, TT's in accounts), so a socket error or a timeout escaping a route is the
# database's: asyncpg raises the builtin ConnectionError and TimeoutError for a lost link.
DB_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    DatabaseUnavailable,
    OSError,  # ConnectionError, TimeoutError
)


def describe(exc: BaseException) -> str:
    """What the 503 says: the kind of failure, from our own words only."""
    if isinstance(exc, DatabaseUnavailable):
        return str(exc)
    if isinstance(exc, asyncpg.PostgresError):
        return f"database error {getattr(exc, 'sqlstate', None) or ''} ({type(exc).__name__})".replace(
            "  ", " "
        )
    if isinstance(exc, TimeoutError):
        return "the database did not answer in time"
    return f"the database is unreachable ({type(exc).__name__})"


def unavailable(exc: BaseException) -> JSONResponse:
    return JSONResponse(
        {"error": describe(exc), "dependency": "database"}, status_code=503, headers={"Retry-After": "1"}
    )


class _Throttled:
    """One log line a second at most: a database outage under load fails thousands of requests."""

    def __init__(self) -> None:
        self.last = 0.0
        self.quiet = 0

    def warn(self, what: str, exc: BaseException) -> None:
        now = time.monotonic()
        if now - self.last < 1.0:
            self.quiet += 1
            return
        more = f" (and {self.quiet} more since)" if self.quiet else ""
        log.warning("database unavailable for %s: %s: %s%s", what, type(exc).__name__, exc, more)
        self.last, self.quiet = now, 0


throttled = _Throttled()


def _retrieve(task: asyncio.Future[Any]) -> None:
    """A task given up on still finishes in the background; its error is expected, not news."""
    if not task.cancelled():
        task.exception()


async def within(seconds: float | None, awaitable: Awaitable[T]) -> T:
    """`awaitable`'s result, or DatabaseUnavailable once `seconds` pass. The work is cancelled but
    not waited for: asyncpg's clean-up of a cancelled query can itself wait on a dead link."""
    if seconds is None:
        return await awaitable
    task = asyncio.ensure_future(awaitable)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if not done:
        task.cancel()
        task.add_done_callback(_retrieve)
        raise DatabaseUnavailable(f"no answer from the database within {seconds:g}s")
    return task.result()


class Budget:
    """The database time one request may spend across its phases (None: unbounded). A late phase
    still gets `floor` seconds: a healthy database answers in milliseconds."""

    def __init__(self, seconds: float | None, floor: float = 0.5) -> None:
        self.until = None if seconds is None else time.monotonic() + seconds
        self.floor = floor

    async def __call__(self, awaitable: Awaitable[T]) -> T:
        if self.until is None:
            return await awaitable
        return await within(max(self.until - time.monotonic(), self.floor), awaitable)


Endpoint = Callable[[Request], Awaitable[Response]]


def guarded(endpoint: Endpoint, *, bounded: bool = True) -> Endpoint:
    """The endpoint with database errors answered 503; `bounded` also caps its database time at
    the service's request budget (off for a route that bounds its own phases)."""

    @functools.wraps(endpoint)
    async def run(request: Request) -> Response:
        svc = request.app.state.service
        budget = svc.db_budget_s if bounded else None
        while True:
            try:
                return await within(budget, endpoint(request))
            except DB_ERRORS as exc:
                throttled.warn(f"{request.method} {request.url.path}", exc)
                if not svc.cfg.mutant("unbounded_db_retry"):
                    return unavailable(exc)
            await asyncio.sleep(RETRY_DELAY_S)  # unbounded_db_retry: again, for as long as it takes

    return run

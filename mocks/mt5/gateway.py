"""What the mock does around every request: errors as retcodes, the session check, and the faults.

Order, each step answering on its own:
1. an unknown path is HTTP 404 `13 Not found`, a method other than GET/POST (HEAD included) 405
   `3 Invalid parameters`;
2. `/api/auth/*` goes straight to the handshake (after `slow_answer`, if armed); the handshake
   fires `handshake_failure` itself;
3. no authenticated session on this connection: HTTP 403 `8 Not authenticated`;
4. `slow_answer` waits (a client that gives up meanwhile does not stop the request);
5. `no_rights` (HTTP 403 `8 Not enough permissions`) and `retcode_error` answer instead of the endpoint;
6. the endpoint (unless `answer_lost` with `execute: false` drops the connection first); then
   `answer_lost` drops the connection unanswered, or `session_lost` answers with
   `Connection: close` and forgets the session.

A body that is not JSON is HTTP 400, one over `max_body_bytes` 413, both `3 Invalid parameters`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .faults import fire
from .retcodes import (
    INVALID_PARAMETERS,
    NO_PERMISSIONS,
    NOT_AUTHENTICATED,
    NOT_FOUND,
    MT5Error,
    failure,
)
from .session import Session

if TYPE_CHECKING:
    from .venue import MT5Mock

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SESSION = web.RequestKey("mt5_session", Session)  # the request's authenticated session, for the endpoints


def _http_error(exc: web.HTTPException) -> MT5Error:
    code = NOT_FOUND if exc.status == 404 else INVALID_PARAMETERS
    return MT5Error(code, status=exc.status)


def make_gateway(venue: MT5Mock) -> Any:
    @web.middleware
    async def gateway(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await _serve(venue, request, handler)
        except MT5Error as exc:
            return failure(exc)
        except web.HTTPException as exc:  # 404, 405, 413 from aiohttp itself
            return failure(_http_error(exc))

    return gateway


async def _serve(venue: MT5Mock, request: web.Request, handler: Handler) -> web.StreamResponse:
    path = request.path
    routing_error = request.match_info.http_exception
    if routing_error is not None:
        raise routing_error
    if request.method == "HEAD":  # aiohttp would run the GET handler: a HEAD must change nothing
        raise MT5Error(INVALID_PARAMETERS, status=405)
    if path.startswith("/api/auth/"):
        await _slow(venue, path)
        return await handler(request)
    session = venue.sessions.get(request.transport)
    if session is None or not session.authenticated:
        raise MT5Error(NO_PERMISSIONS, status=403, text=NOT_AUTHENTICATED)
    session.requests += 1
    request[SESSION] = session  # the request stays authenticated if its connection dies while it waits
    await _slow(venue, path)
    lost = fire(venue, "answer_lost", path)
    if lost is not None and not lost.params["execute"]:
        _drop(venue, request)
        return failure(MT5Error(INVALID_PARAMETERS))  # never reaches the client
    try:
        if fire(venue, "no_rights", path) is not None:
            raise MT5Error(NO_PERMISSIONS, status=403)
        forced = fire(venue, "retcode_error", path)
        if forced is not None:
            raise MT5Error(forced.params["code"])
        response = await handler(request)
    except MT5Error as exc:
        response = failure(exc)
    except web.HTTPException as exc:  # 413 while reading a body
        response = failure(_http_error(exc))
    if lost is not None:
        _drop(venue, request)
        return response  # never reaches the client: its connection is gone
    if fire(venue, "session_lost", path, lambda f: session.requests >= f.params["after"]) is not None:
        venue.sessions.forget(request.transport)
        venue.events.add("session_closed", manager=session.manager, peer=session.peer)
        response.force_close()
    return response


async def _slow(venue: MT5Mock, path: str) -> None:
    slow = fire(venue, "slow_answer", path)
    if slow is not None:
        await asyncio.sleep(slow.params["delay_ms"] / 1000)


def _drop(venue: MT5Mock, request: web.Request) -> None:
    transport = request.transport
    venue.sessions.forget(transport)
    if transport is not None:
        transport.abort()

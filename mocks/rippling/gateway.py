"""What happens to a REST request before a handler sees it, and to every answer after.

In order, each answering on its own:
1. armed `status` fault: that HTTP status with the error body (429 with `Retry-After`);
2. armed `slow` fault: the request waits `delay_ms`, then goes on, even when the client has given up
   meanwhile (a request, once received, always executes);
3. no `Authorization` header: 401 `unauthorized`; anything but `Bearer <a configured token>`:
   401 `invalid_token`.
aiohttp's own errors (no such path, wrong method, a body over the size limit) are rewritten into the
same `{error, message, status}` shape. HEAD is answered only where GET is, so it never creates anything.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiohttp import web

from mocks.common import EventLog, FaultBook
from mocks.common.body import read_whole
from mocks.common.faults import take_matching

from .errors import RipplingError, default_code, error_response

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MAX_BODY = 256 * 1024


class GatewayContext(Protocol):
    @property
    def faults(self) -> FaultBook: ...
    @property
    def events(self) -> EventLog: ...
    @property
    def tokens(self) -> list[str]: ...


def _http_error(exc: web.HTTPException, request: web.Request) -> web.Response:
    if exc.status == 404:
        return error_response(404, "not_found", f"no such path: {request.path[:200]}")
    if exc.status == 405:
        allowed = ", ".join(sorted(getattr(exc, "allowed_methods", ()) or ()))
        return error_response(
            405,
            "method_not_allowed",
            f"{request.method[:20]} is not allowed here; allowed: {allowed}",
            headers={"Allow": allowed},
        )
    if exc.status == 413:
        return error_response(413, "payload_too_large", f"the body is over this mock's {MAX_BODY} bytes")
    return error_response(exc.status, "request_error", exc.reason)


async def _admit(context: GatewayContext, request: web.Request) -> None:
    """Faults, then authentication: a RipplingError for the first that fails."""
    failing = take_matching(context, "status", path=request.path, method=request.method)
    if failing is not None:
        status = failing.params["status"]
        code, message = default_code(status)
        raised = RipplingError(status, code, message)
        if status == 429:
            raised.headers["Retry-After"] = str(failing.params["retry_after_s"])
        raise raised
    slow = take_matching(context, "slow", path=request.path, method=request.method)
    if slow is not None:
        await read_whole(request)  # received in full before the wait, so it survives its client leaving
        await asyncio.sleep(slow.params["delay_ms"] / 1000)
    header = request.headers.get("Authorization", "").strip()
    if not header:
        raise RipplingError(401, "unauthorized", "an Authorization: Bearer <token> header is required")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or token.strip() not in context.tokens:
        raise RipplingError(401, "invalid_token", "the access token is invalid, expired or revoked")


def make_gateway(context: GatewayContext) -> Any:
    @web.middleware
    async def gateway(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            await _admit(context, request)
            return await handler(request)
        except RipplingError as exc:
            return exc.response()
        except web.HTTPException as exc:
            return _http_error(exc, request)

    return gateway

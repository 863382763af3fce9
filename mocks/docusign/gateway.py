"""What happens to a REST request before an envelope handler sees it, and to every answer after.

In order, each answering on its own:
1. armed `status` fault: that HTTP status with a DocuSign error body;
2. armed `slow` fault: the request waits `delay_ms`, then goes on;
3. no `Authorization` header: 401 USER_AUTHENTICATION_FAILED; anything but `Bearer <a configured
   token>`: 401 AUTHORIZATION_INVALID_TOKEN;
4. an account id other than the mock's: 400 USER_LACKS_MEMBERSHIP.
Every answer, errors included, is `{errorCode, message}` on failure and carries an
`X-DocuSign-TraceToken`, as DocuSign's do. aiohttp's own errors (no such path, wrong method, a body
over the size limit) are rewritten into the same shape.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiohttp import web

from mocks.common import EventLog, FaultBook
from mocks.common.faults import take_matching

from .envelopes import Account
from .errors import DocuSignError, default_code, error_response

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MAX_BODY = 1024 * 1024


class GatewayContext(Protocol):
    @property
    def faults(self) -> FaultBook: ...
    @property
    def events(self) -> EventLog: ...
    @property
    def account(self) -> Account: ...
    @property
    def tokens(self) -> list[str]: ...

    def trace_token(self) -> str: ...


def _http_error(exc: web.HTTPException, request: web.Request) -> web.Response:
    if exc.status == 404:
        return error_response(404, "RESOURCE_NOT_FOUND", "The URL provided does not resolve to a resource.")
    if exc.status == 405:
        return error_response(
            405, "METHOD_NOT_ALLOWED", f"The method {request.method} is not supported on this resource."
        )
    if exc.status == 413:
        return error_response(
            413, "REQUEST_ENTITY_TOO_LARGE", f"The request body is larger than this mock's {MAX_BODY} bytes."
        )
    return error_response(exc.status, "UNSPECIFIED_ERROR", exc.reason)


async def _admit(context: GatewayContext, request: web.Request) -> None:
    """Faults, then authentication, then the account: a DocuSignError for the first that fails."""
    failing = take_matching(context, "status", path=request.path)
    if failing is not None:
        status = failing.params["status"]
        code, message = default_code(status)
        raise DocuSignError(status, failing.params["error_code"] or code, message)
    slow = take_matching(context, "slow", path=request.path)
    if slow is not None:
        await asyncio.sleep(slow.params["delay_ms"] / 1000)
    header = request.headers.get("Authorization", "").strip()
    if not header:
        raise DocuSignError(
            401, "USER_AUTHENTICATION_FAILED", "One or both of Username and Password are invalid."
        )
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or token.strip() not in context.tokens:
        raise DocuSignError(
            401, "AUTHORIZATION_INVALID_TOKEN", "The access token provided is expired, revoked or malformed."
        )
    account_id = request.match_info.get("account_id")
    if account_id is not None and account_id.lower() != context.account.account_id:
        raise DocuSignError(
            400, "USER_LACKS_MEMBERSHIP", "The UserID does not have a valid membership in this Account."
        )


def make_gateway(context: GatewayContext) -> Any:
    @web.middleware
    async def gateway(request: web.Request, handler: Handler) -> web.StreamResponse:
        trace = context.trace_token()
        response: web.StreamResponse
        try:
            await _admit(context, request)
            response = await handler(request)
        except DocuSignError as exc:
            response = exc.response()
        except web.HTTPException as exc:
            response = _http_error(exc, request)
        response.headers["X-DocuSign-TraceToken"] = trace
        return response

    return gateway

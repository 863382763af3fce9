"""What TT's API gateway does before a service sees a request, and the faults it can produce.

Order of checks, each answering on its own:
1. an uppercase service name (`/TTUser/...`) is 403; paths are case-sensitive;
2. an unknown environment is 404;
3. a missing or wrong `x-api-key` is 403;
4. the usage plan's per-second and per-day limits: `rate_limit_status` (429) with the configured body;
5. armed faults `rate_limit_storm` (429 + Retry-After) and `server_error` (5xx);
6. outside `ttid`: a missing, unknown or expired bearer token is 401 (and `early_token_expiry`
   expires every live token before the check); a missing or malformed `requestId` is 400;
7. with the redirect switch on, a GET is answered 303 to the same URL once (a `redirected` event);
8. after the service answered 200: armed faults `malformed_json` and `slow_body`.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from mocks.common import ArmedFault, FaultKind

from .config import SERVICES

if TYPE_CHECKING:
    from .venue import TTMock

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

REDIRECT_MARK = "ttRedirected"
# Characters TT forbids in a requestId (gs-token.html), besides spaces.
REQUEST_ID_FORBIDDEN = frozenset('$&+,/:;=?@"<>#%{}|\\^~[]`')

PATH_PARAM = ("path", (str, None))

FAULTS = [
    FaultKind(
        "rate_limit_storm",
        "answer 429 with Retry-After to every request (or to paths starting with `path`)",
        dict([("retry_after", (int, 1)), PATH_PARAM]),
        bounds={"retry_after": (0, 3600)},
    ),
    FaultKind(
        "server_error",
        "answer a 5xx instead of serving the request",
        dict([("status", (int, 503)), PATH_PARAM]),
        bounds={"status": (500, 599)},
    ),
    FaultKind(
        "early_token_expiry",
        "expire every live token before its seconds_until_expiry; the request gets 401",
        dict([PATH_PARAM]),
    ),
    FaultKind(
        "malformed_json",
        "answer 200 with a body that is not valid JSON",
        dict([("mode", (str, "truncated")), PATH_PARAM]),
        choices={"mode": ("truncated", "garbage", "html")},
    ),
    FaultKind(
        "slow_body",
        "send the 200 body in `chunks` pieces spread over `duration_ms`",
        dict([("duration_ms", (int, 2000)), ("chunks", (int, 10)), PATH_PARAM]),
        bounds={"duration_ms": (0, 600_000), "chunks": (1, 1000)},
    ),
]


def valid_request_id(value: str) -> bool:
    """`<app_name>-<company_name>--<guid>`, no spaces and none of TT's special characters."""
    if not value or len(value) > 256:
        return False
    if any(c.isspace() or c in REQUEST_ID_FORBIDDEN or not (c.isascii() and c.isprintable()) for c in value):
        return False
    prefix, sep, guid = value.rpartition("--")
    app, dash, company = prefix.partition("-")
    return bool(sep and guid.strip("-") and app and dash and company)


def gateway_error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"message": message}, status=status, headers=headers)


class RateLimiter:
    """Per app key: a one-second sliding window and a per-day count."""

    def __init__(self) -> None:
        self._recent: dict[str, deque[float]] = {}
        self._daily: dict[str, tuple[str, int]] = {}
        self.last_post: dict[str, float] = {}

    def allow(self, key: str, per_s: int, per_day: int) -> bool:
        now = time.monotonic()
        window = self._recent.setdefault(key, deque())
        while window and now - window[0] >= 1.0:
            window.popleft()
        day = time.strftime("%Y-%m-%d", time.gmtime())
        seen_day, count = self._daily.get(key, (day, 0))
        if seen_day != day:
            count = 0
        if len(window) >= per_s or count >= per_day:
            return False
        window.append(now)
        self._daily[key] = (day, count + 1)
        return True

    def clear(self) -> None:
        self._recent.clear()
        self._daily.clear()
        self.last_post.clear()


def _matching(venue: TTMock, name: str, path: str) -> ArmedFault | None:
    """Use up one firing of fault `name` if it is armed for this path."""
    fault = venue.faults.active(name)
    if fault is None:
        return None
    prefix = fault.params.get("path")
    if prefix and not path.startswith(prefix):
        return None
    taken = venue.faults.take(name)
    venue.events.add("fault_fired", fault=name, id=fault.id, path=path)
    return taken


def make_gateway(venue: TTMock) -> Any:
    @web.middleware
    async def gateway(request: web.Request, handler: Handler) -> web.StreamResponse:
        config = venue.config
        path = request.path
        parts = path.strip("/").split("/")
        service = parts[0]
        if service != service.lower() and service.lower() in SERVICES:
            return gateway_error(403, "Forbidden")
        if service not in SERVICES:
            return gateway_error(404, "Not Found")
        if len(parts) < 2 or parts[1] != config.env:
            return gateway_error(404, f"unknown environment; this gateway serves {config.env}")
        api_key = request.headers.get("x-api-key")
        if api_key is None:
            return gateway_error(403, "Forbidden: missing x-api-key")
        if api_key != config.app_key:
            return gateway_error(403, "Forbidden: invalid x-api-key")
        per_s, per_day = config.limits
        if not venue.limiter.allow(api_key, per_s, per_day):
            venue.events.add("rate_limited", path=path)
            headers = {}
            if config.rate_limit_retry_after is not None:
                headers["Retry-After"] = str(config.rate_limit_retry_after)
            return web.json_response(config.rate_limit_body, status=config.rate_limit_status, headers=headers)
        storm = _matching(venue, "rate_limit_storm", path)
        if storm is not None:
            return web.json_response(
                config.rate_limit_body, status=429, headers={"Retry-After": str(storm.params["retry_after"])}
            )
        failure = _matching(venue, "server_error", path)
        if failure is not None:
            status = failure.params["status"]
            return gateway_error(status, "Internal server error" if status == 500 else "Service Unavailable")
        if service != "ttid":
            if _matching(venue, "early_token_expiry", path) is not None:
                venue.tokens.expire_all()
            auth = request.headers.get("Authorization", "")
            scheme, _, value = auth.partition(" ")
            if scheme.lower() != "bearer" or not value.strip():
                return gateway_error(401, "Unauthorized")
            token = venue.tokens.lookup(value.strip())
            if token is None:
                return gateway_error(401, "Unauthorized: unknown token")
            if not token.live():
                return gateway_error(401, "Unauthorized: token expired")
            request_id = request.query.get("requestId")
            if request_id is None:
                return web.json_response({"status": "Failed", "message": "requestId is required"}, status=400)
            if not valid_request_id(request_id):
                return web.json_response(
                    {
                        "status": "Failed",
                        "message": "requestId must be <app_name>-<company_name>--<guid>, "
                        "with no spaces or special characters",
                    },
                    status=400,
                )
            if request.method == "POST" and config.post_min_interval_s > 0:
                last = venue.limiter.last_post.get(api_key)
                if last is not None and time.monotonic() - last < config.post_min_interval_s:
                    return gateway_error(429, "POST requests too close together")
        if config.redirect and request.method == "GET" and REDIRECT_MARK not in request.query:
            location = request.rel_url.update_query({REDIRECT_MARK: "1"})
            venue.events.add("redirected", path=path)
            return web.Response(status=303, headers={"Location": str(location)})
        response = await handler(request)
        if request.method == "POST" and response.status < 300 and service != "ttid":
            venue.limiter.last_post[api_key] = time.monotonic()
        if (
            response.status != 200
            or not isinstance(response, web.Response)
            or request.method not in ("GET", "POST")
        ):
            return response
        broken = _matching(venue, "malformed_json", path)
        if broken is not None:
            return _malformed(response, broken.params["mode"])
        slow = _matching(venue, "slow_body", path)
        if slow is not None:
            return await _slow(request, response, slow.params["duration_ms"], slow.params["chunks"])
        return response

    return gateway


def _malformed(response: web.Response, mode: str) -> web.Response:
    body = response.body if isinstance(response.body, bytes) else b"{}"
    if mode == "truncated":
        broken = body[: max(1, len(body) // 2)]
    elif mode == "garbage":
        broken = b'{"status": "Ok", "fills": [{"recordId": \x00\xff, ]'
    else:
        broken = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
    return web.Response(status=200, body=broken, content_type="application/json")


async def _slow(
    request: web.Request, response: web.Response, duration_ms: int, chunks: int
) -> web.StreamResponse:
    body = response.body if isinstance(response.body, bytes) else b""
    stream = web.StreamResponse(status=200)
    stream.content_type = "application/json"
    stream.content_length = len(body)
    await stream.prepare(request)
    size = max(1, -(-len(body) // chunks))
    pause = duration_ms / 1000 / chunks
    try:
        for start in range(0, max(len(body), 1), size):
            await asyncio.sleep(pause)
            await stream.write(body[start : start + size])
        await stream.write_eof()
    except ConnectionResetError:
        pass  # the client gave up waiting: that is what this fault is for
    return stream

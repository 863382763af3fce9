"""The gate every request passes before any route runs (an ASGI middleware), and its safe errors.

In order: the body size (413), the credential (401), the key's rate limit (429), the admin key's
source address (403), the route's role (403); object-level scoping is the routes' own. Every refusal
comes before any database or venue work but the key lookup itself. An exception no route handled is
answered 500 with a request id only (never its text, a traceback, SQL or a DSN), and its traceback
is logged server-side under that id. The source address is the TCP peer: X-Forwarded-For and
Forwarded are client-controlled text and never trusted (uvicorn's proxy_headers is off too).
"""

from __future__ import annotations

import ipaddress
import logging
import math
import secrets
import time
import traceback
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.datastructures import Headers
from starlette.responses import JSONResponse, Response

from .auth import ADMIN_KEY_ID, ADMIN_PRINCIPAL, SCOPE_KEY, Principal, bearer_token, is_admin_key
from .config import Config
from .dbguard import DB_ERRORS, unavailable, within

log = logging.getLogger("refmw.guard")
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

ADMIN_RATE_FACTOR = 20  # the back office reads in bulk
_OPERATOR = ("/health", "/metrics", "/openapi.json")  # HEAD too: a load balancer's probe may use it
# webhooks carry their own proof (a Stripe signature, DocuSign Connect's HMAC), checked by their route
PUBLIC = {(m, p) for m in ("GET", "HEAD") for p in _OPERATOR} | {
    ("POST", "/v1/webhooks/stripe"),
    ("POST", "/v1/webhooks/docusign"),
}
WS_POLICY_VIOLATION = 1008
WS_TRY_AGAIN_LATER = 1013
UNAUTHENTICATED = "invalid or missing credentials"
ADMIN_ONLY = "admin only"
ADMIN_ADDRESS = "admin access is not allowed from this address"


class _Gone(Exception):
    """The client disconnected while its body was read: nobody is left to answer."""


class MalformedBody(Exception):
    """stack_trace_in_errors only: a body that is not JSON, answered 400 with its traceback."""

    def __init__(self, detail: str) -> None:
        super().__init__("malformed JSON body")
        self.detail = detail


def _refusal(status: int, error: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"error": error}, status_code=status, headers=headers)


def admin_only(method: str, path: str) -> bool:
    """The back office's routes: key management, the account list, changing an account, and the
    funded-trader lifecycle (the Zap's contract callback, payouts, the lifecycle view)."""
    path = path.rstrip("/") or "/"
    if path == "/v1/admin" or path.startswith("/v1/admin/") or path == "/v1/accounts":
        return True
    if path == "/v1/lifecycle" or path.startswith("/v1/lifecycle/"):
        return True
    parts = path.split("/")
    return method == "PATCH" and len(parts) == 4 and parts[:3] == ["", "v1", "accounts"]


class TokenBuckets:
    """One token bucket per key id: `rate` tokens a second, holding at most `burst`."""

    def __init__(self) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}  # key id -> (tokens, when)

    def take(self, key: str, rate: float, burst: float, now: float | None = None) -> float:
        """0 when a token was taken; otherwise the seconds until the next one."""
        now = time.monotonic() if now is None else now
        tokens, at = self._buckets.get(key, (burst, now))
        tokens = min(burst, tokens + (now - at) * rate)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1 - tokens) / rate


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None once it grows past `limit` (a chunked body declares no length)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise _Gone
        body = message.get("body", b"")
        size += len(body)
        if size > limit:
            return None
        chunks.append(body)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


class Guard:
    def __init__(self, app: ASGIApp, cfg: Config) -> None:
        self.app = app
        self.cfg = cfg
        self.buckets = TokenBuckets()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    # ------------------------------------------------------------------ HTTP
    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = secrets.token_hex(8)
        headers = Headers(scope=scope)
        if self.cfg.mutant("secret_in_log"):
            log.info("request %s %s %s headers %s", request_id, scope["method"], scope["path"], dict(headers))
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            refused, receive = await self._admit_http(scope, receive, headers)
            if refused is not None:
                await refused(scope, receive, tracked)
                return
            await self.app(scope, receive, tracked)
        except _Gone:
            return
        except Exception as exc:
            answer: Response
            if isinstance(exc, MalformedBody):
                answer = JSONResponse({"error": str(exc), "detail": exc.detail}, status_code=400)
            else:
                log.error(
                    "request %s: %s %s failed", request_id, scope["method"], scope["path"], exc_info=True
                )
                answer = self._internal_error(request_id)
            if not started:
                await answer(scope, receive, send)

    def _internal_error(self, request_id: str) -> Response:
        body = {"error": "internal error", "request_id": request_id}
        if self.cfg.mutant("stack_trace_in_errors"):
            body["detail"] = traceback.format_exc()
        return JSONResponse(body, status_code=500)

    async def _admit_http(
        self, scope: Scope, receive: Receive, headers: Headers
    ) -> tuple[Response | None, Receive]:
        limit = self.cfg.max_body_bytes
        try:
            declared = int(headers.get("content-length") or 0)
        except ValueError:
            declared = 0
        if declared > limit:
            return _refusal(413, "request body too large"), receive
        body = await _read_body(receive, limit)
        if body is None:
            return _refusal(413, "request body too large"), receive
        receive = _replay(body, receive)
        method, path = scope["method"], scope["path"]
        if (method, path) in PUBLIC:
            return None, receive
        found = await self._authenticate(scope, headers)
        if isinstance(found, Response):
            return found, receive
        if found.admin and self.cfg.auth_on and not self._admin_address_ok(scope, headers):
            return _refusal(403, ADMIN_ADDRESS), receive
        if not found.admin and admin_only(method, path):
            return _refusal(403, ADMIN_ONLY), receive
        scope[SCOPE_KEY] = found
        return None, receive

    # ------------------------------------------------------------------ checks
    async def _authenticate(self, scope: Scope, headers: Headers) -> Principal | Response:
        """The caller, rate limit taken; or the refusal (401, 429, or 503 when keys cannot be read)."""
        if not self.cfg.auth_on:
            found: Principal | None = ADMIN_PRINCIPAL
        else:
            token = bearer_token(headers)
            if token is None:
                found = None
            elif is_admin_key(self.cfg, token):
                found = ADMIN_PRINCIPAL
            else:
                svc = scope["app"].state.service
                try:
                    found = await within(svc.db_budget_s, svc.keys.lookup(token))
                except DB_ERRORS as exc:
                    return unavailable(exc)
        if found is None:
            return _refusal(401, UNAUTHENTICATED, {"WWW-Authenticate": "Bearer"})
        wait = self._rate_wait(found)
        if wait > 0:
            return _refusal(429, "rate limit exceeded", {"Retry-After": str(max(1, math.ceil(wait)))})
        return found

    def _rate_wait(self, who: Principal) -> float:
        if self.cfg.mutant("no_rate_limit"):
            return 0.0
        factor = ADMIN_RATE_FACTOR if who.key_id == ADMIN_KEY_ID else 1
        return self.buckets.take(
            who.key_id, self.cfg.rate_limit_rps * factor, self.cfg.rate_limit_burst * factor
        )

    def _admin_address_ok(self, scope: Scope, headers: Headers) -> bool:
        client = scope.get("client")
        source = client[0] if client else ""
        forwarded = headers.get("x-forwarded-for")
        if self.cfg.mutant("allowlist_trusts_forwarded_for") and forwarded:
            source = forwarded.split(",")[0].strip()
        try:
            address = ipaddress.ip_address(source)
        except ValueError:
            return False
        return any(address in network for network in self.cfg.admin_allow)

    # ------------------------------------------------------------------ WebSocket
    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The handshake carries the credential; a refusal accepts and closes at once with 1008
        (1013 while keys cannot be read), so the client sees why rather than a bare HTTP 403."""
        headers = Headers(scope=scope)
        found = await self._authenticate(scope, headers)
        refused: tuple[int, str] | None = None
        if isinstance(found, Response):
            code = WS_TRY_AGAIN_LATER if found.status_code == 503 else WS_POLICY_VIOLATION
            refused = (code, UNAUTHENTICATED if found.status_code == 401 else "refused")
            if found.status_code == 429:
                refused = (WS_POLICY_VIOLATION, "rate limit exceeded")
        elif found.admin and self.cfg.auth_on and not self._admin_address_ok(scope, headers):
            refused = (WS_POLICY_VIOLATION, ADMIN_ADDRESS)
        if refused is not None:
            message = await receive()
            if message["type"] == "websocket.connect":
                await send({"type": "websocket.accept"})
                await send({"type": "websocket.close", "code": refused[0], "reason": refused[1]})
            return
        assert isinstance(found, Principal)
        scope[SCOPE_KEY] = found
        await self.app(scope, receive, send)

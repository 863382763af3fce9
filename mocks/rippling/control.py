"""The Rippling mock's control-API extras: tokens, webhook listeners, the retry schedule, the outbox.

| Path | What it does |
|---|---|
| GET /rippling | company, token, listeners, workers' ids and the retry schedule |
| PUT /rippling/tokens | `{"tokens": [...]}`: the bearer tokens the REST surface accepts |
| POST /rippling/listeners | `{"url", "token"?}`: a listener (loopback or `--allow-host`); 201, its id |
| DELETE /rippling/listeners[?id=ID] | remove one listener, or all |
| PUT /rippling/retry | `{"max_attempts", "base_delay_ms", "max_delay_ms", "timeout_ms", "deadline_ms"}` |
| GET /rippling/outbox | deliveries still under way (sending, waiting to retry, delayed) |
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from mocks.common import FaultError, RetryPolicy, Route, read_json
from mocks.common.urls import check_delivery_url

if TYPE_CHECKING:
    from .venue import RipplingMock

MAX_TOKENS = 20
MAX_LISTENERS = 20


def retry_json(policy: RetryPolicy) -> dict[str, Any]:
    return {
        "max_attempts": policy.max_attempts,
        "base_delay_ms": policy.base_delay_s * 1000,
        "max_delay_ms": policy.max_delay_s * 1000,
        "timeout_ms": policy.timeout_s * 1000,
        "deadline_ms": policy.deadline_s * 1000,
        "gaps_ms": [policy.delay(n) * 1000 for n in range(1, policy.max_attempts)],
    }


def _object(body: Any, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise FaultError("body", "must be a JSON object")
    unknown = sorted(set(body) - allowed)
    if unknown:
        name = unknown[0][:100]
        raise FaultError(name if name.strip() else "body", f"unknown field {name!r}")
    return body


def check_token(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value or len(value) > 4096 or value != value.strip():
        raise FaultError(name, "must be a non-empty string of at most 4096 characters, no outer spaces")
    if not (value.isascii() and value.isprintable()) or " " in value:
        raise FaultError(name, "must be printable ASCII with no spaces (it travels in a header)")
    return value


class RipplingControl:
    def __init__(self, venue: RipplingMock) -> None:
        self.venue = venue

    def routes(self) -> list[Route]:
        return [
            ("GET", "/rippling", self._info),
            ("PUT", "/rippling/tokens", self._tokens),
            ("POST", "/rippling/listeners", self._add_listener),
            ("DELETE", "/rippling/listeners", self._remove_listeners),
            ("PUT", "/rippling/retry", self._retry),
            ("GET", "/rippling/outbox", self._outbox),
        ]

    def check_url(self, url: Any) -> str:
        """An http(s) listener URL on loopback, or on a host allowlisted with --allow-host."""
        return check_delivery_url(url, self.venue.allowed_hosts, what="Rippling webhook URL")

    async def _info(self, request: web.Request) -> web.Response:
        venue = self.venue
        return web.json_response(
            {**venue.describe(), "tokens": venue.tokens, "retry": retry_json(venue.retry)}
        )

    async def _tokens(self, request: web.Request) -> web.Response:
        body = _object(await read_json(request), {"tokens"})
        tokens = body.get("tokens")
        if not isinstance(tokens, list) or not 1 <= len(tokens) <= MAX_TOKENS:
            raise FaultError("tokens", f"must be a list of 1 to {MAX_TOKENS} strings")
        self.venue.tokens = [check_token(t, f"tokens[{n}]") for n, t in enumerate(tokens)]
        self.venue.events.add("tokens_set", count=len(self.venue.tokens))
        return web.json_response({"tokens": self.venue.tokens})

    async def _add_listener(self, request: web.Request) -> web.Response:
        body = _object(await read_json(request), {"url", "token"})
        url = self.check_url(body.get("url"))
        token = body.get("token")
        if token is not None:
            token = check_token(token, "token")
        if len(self.venue.listeners) >= MAX_LISTENERS:
            raise FaultError("url", f"at most {MAX_LISTENERS} listeners")
        listener = self.venue.add_listener(url, token)
        self.venue.events.add("listener_added", **listener.to_json())
        return web.json_response(listener.to_json(), status=201)

    async def _remove_listeners(self, request: web.Request) -> web.Response:
        raw = request.query.get("id")
        before = len(self.venue.listeners)
        if raw is None:
            self.venue.listeners = []
        else:
            self.venue.listeners = [x for x in self.venue.listeners if x.listener_id != raw.lower()]
        removed = before - len(self.venue.listeners)
        self.venue.events.add("listeners_removed", count=removed)
        return web.json_response({"removed": removed})

    async def _retry(self, request: web.Request) -> web.Response:
        self.venue.retry = RetryPolicy.from_json(await read_json(request), self.venue.retry)
        return web.json_response(retry_json(self.venue.retry))

    async def _outbox(self, request: web.Request) -> web.Response:
        return web.json_response(self.venue.outbox.pending())

"""Catch hooks: `POST /hooks/catch/{account_id}/{hook_id}/`, answered at once, run later.

In order, each answering on its own:
1. another account, or a hook no Zap has: 404;
2. the Zap is turned off: 410 (Zapier's "no subscription": a sender should stop);
3. an armed `status` fault: that status (429 with Retry-After);
4. the hook's token bucket is empty: 429 with Retry-After (Zapier's rate limit);
5. a body that is not JSON (an object, or an array of objects: one run each) or a form: 400 `body`;
6. the run queue is full: 429 with Retry-After, and nothing is accepted (a trigger is never lost);
7. an armed `slow` fault delays the answer; then 200 `{"attempt", "id", "request_id", "status"}`.
Query parameters join the payload, as Zapier's do; the body's own fields win.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from aiohttp import web

from mocks.common import FaultError

from ..common.body import read_whole
from .faults import take

if TYPE_CHECKING:
    from .venue import ZapierMock

MAX_BODY = 1024 * 1024
MAX_DEPTH = 64
MAX_BATCH = 100
MAX_FIELDS = 1000


class TokenBucket:
    """`size` tokens, refilled at `rate` per second; a trigger takes one."""

    def __init__(self, size: int, rate: float) -> None:
        self.size, self.rate = size, rate
        self.tokens = float(size)
        self.last = time.monotonic()

    def take(self) -> float:
        """0 when a token was taken; otherwise the seconds until one will be there."""
        now = time.monotonic()
        self.tokens = min(self.size, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return math.inf if self.rate <= 0 else (1 - self.tokens) / self.rate


def answer(status: int, message: str, field: str | None = None, **headers: str) -> web.Response:
    body: dict[str, Any] = {"status": "error", "message": message}
    if field is not None:
        body["field"] = field
    return web.json_response(body, status=status, headers=headers)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _depth_ok(value: Any) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return False
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return True


def parse_payloads(raw: bytes, content_type: str, query: dict[str, Any]) -> list[dict[str, Any]]:
    """The trigger payloads a catch hook body carries; FaultError naming `body` when it carries none."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise FaultError("body", "must be UTF-8") from None
    if content_type == "application/x-www-form-urlencoded":
        try:
            pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS)
        except ValueError:
            raise FaultError("body", f"a form of at most {MAX_FIELDS} fields") from None
        seen: dict[str, list[str]] = {}
        for key, value in pairs:
            seen.setdefault(key, []).append(value)
        form = {key: values[0] if len(values) == 1 else values for key, values in seen.items()}
        return [{**query, **form}]
    if not text.strip():
        return [dict(query)]
    try:
        doc = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise FaultError("body", f"invalid JSON: {type(exc).__name__}: {exc}"[:300]) from None
    if not _depth_ok(doc):
        raise FaultError("body", f"nested deeper than {MAX_DEPTH} levels")
    if isinstance(doc, dict):
        return [{**query, **doc}]
    if isinstance(doc, list) and 1 <= len(doc) <= MAX_BATCH:
        for n, item in enumerate(doc):
            if not isinstance(item, dict):
                raise FaultError(f"body[{n}]", "an array body must hold objects: one trigger each")
        return [{**query, **item} for item in doc]
    raise FaultError("body", f"must be a JSON object, or an array of 1 to {MAX_BATCH} objects")


class CatchHooks:
    def __init__(self, venue: ZapierMock) -> None:
        self.venue = venue
        self.buckets: dict[str, TokenBucket] = {}

    def routes(self) -> list[web.RouteDef]:
        paths = ("/hooks/catch/{account_id}/{hook_id}/", "/hooks/catch/{account_id}/{hook_id}")
        return [web.route(m, p, self.catch) for p in paths for m in ("GET", "POST", "PUT")]

    def bucket(self, hook: str) -> TokenBucket:
        limits = self.venue.limits
        bucket = self.buckets.get(hook)
        if bucket is None or (bucket.size, bucket.rate) != (limits.burst, limits.refill_per_s):
            bucket = self.buckets[hook] = TokenBucket(limits.burst, limits.refill_per_s)
        return bucket

    async def catch(self, request: web.Request) -> web.Response:
        venue = self.venue
        hook = request.match_info["hook_id"]
        zap = venue.zap_for_hook(hook)
        if request.match_info["account_id"] != venue.account_id or zap is None:
            return answer(404, "no catch hook at this URL", "hook_id")
        if not venue.enabled(zap.id):
            venue.events.add("hook_refused", hook=hook, status=410, reason="zap off")
            return answer(410, f"the Zap {zap.id!r} is turned off")
        failing = take(venue, "status", hook)
        if failing is not None:
            status = failing.params["status"]
            extra = {"Retry-After": str(failing.params["retry_after_s"])} if status == 429 else {}
            return answer(status, f"fault: this mock was told to answer {status}", **extra)
        wait = self.bucket(hook).take()
        if wait > 0:
            venue.events.add("hook_refused", hook=hook, status=429, reason="rate limit")
            retry_after = "3600" if math.isinf(wait) else str(max(1, math.ceil(wait)))
            return answer(429, "rate limit: too many triggers for this hook", **{"Retry-After": retry_after})
        raw = await read_whole(request)
        query = {k: v for k, v in request.query.items()}
        try:
            payloads = parse_payloads(raw, request.content_type, query)
        except FaultError as exc:
            return answer(400, str(exc), exc.field)
        if venue.runner.pending() + len(payloads) > venue.limits.queue_size:
            venue.events.add("hook_refused", hook=hook, status=429, reason="queue full")
            return answer(429, "the run queue is full; retry later", **{"Retry-After": "1"})
        slow = take(venue, "slow", hook)
        request_id = venue.new_id()
        for n, payload in enumerate(payloads):
            venue.accept(zap, payload, request_id if n == 0 else venue.new_id())
        if slow is not None:
            await asyncio.sleep(slow.params["delay_ms"] / 1000)
        return web.json_response(
            {"attempt": request_id, "id": request_id, "request_id": request_id, "status": "success"}
        )

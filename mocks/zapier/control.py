"""The Zapier mock's control-API extras: the Zaps, their switches, the task history and replays.

| Path | What it does |
|---|---|
| GET /zapier | account id, hook URLs, limits, retry policy, runs pending |
| GET /zapier/zaps | every Zap with its switch and hook URL |
| PUT /zapier/zaps | `{"config": TOML text, "set": {...}}`: these Zaps from now on, also after a reset |
| POST /zapier/zaps/{zap_id}/enable, /disable | turn a Zap on or off (off: its hook answers 410) |
| GET /zapier/runs[?zap=ID&state=S&limit=N] | the task history, oldest first (the newest N, 1000 at most) |
| GET /zapier/runs/{run_id} | one run |
| POST /zapier/runs/{run_id}/replay | the same trigger as a new run (201); 409 if the Zap is off |
| PUT /zapier/retry | `{"max_attempts", "base_delay_ms", "max_delay_ms", "timeout_ms", "deadline_ms"}` |
| PUT /zapier/limits | `{"burst", "refill_per_s", "queue_size", "workers", "jitter_ms"}` (partial) |
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from mocks.common import FaultError, RetryPolicy, Route, error, read_json

from .config import ConfigError, loads, parse_limits
from .runs import STATES

if TYPE_CHECKING:
    from .venue import ZapierMock

MAX_LIST = 1000


def retry_json(policy: RetryPolicy) -> dict[str, Any]:
    return {
        "max_attempts": policy.max_attempts,
        "base_delay_ms": policy.base_delay_s * 1000,
        "max_delay_ms": policy.max_delay_s * 1000,
        "timeout_ms": policy.timeout_s * 1000,
        "deadline_ms": policy.deadline_s * 1000,
        "gaps_ms": [policy.delay(n) * 1000 for n in range(1, policy.max_attempts)],
    }


class ZapierControl:
    def __init__(self, venue: ZapierMock) -> None:
        self.venue = venue

    def routes(self) -> list[Route]:
        return [
            ("GET", "/zapier", self._info),
            ("GET", "/zapier/zaps", self._zaps),
            ("PUT", "/zapier/zaps", self._load),
            ("POST", "/zapier/zaps/{zap_id}/{action}", self._switch),
            ("GET", "/zapier/runs", self._runs),
            ("GET", "/zapier/runs/{run_id}", self._run),
            ("POST", "/zapier/runs/{run_id}/replay", self._replay),
            ("PUT", "/zapier/retry", self._retry),
            ("PUT", "/zapier/limits", self._limits),
        ]

    def zap_json(self, zap_id: str) -> dict[str, Any]:
        zap = self.venue.zaps[zap_id]
        return {**zap.to_json(), "enabled": self.venue.enabled(zap_id), "url": self.venue.hook_url(zap)}

    async def _info(self, request: web.Request) -> web.Response:
        venue = self.venue
        return web.json_response(
            {
                **venue.describe(),
                "limits": venue.limits.to_json(),
                "retry": retry_json(venue.retry),
                "pending": venue.runner.pending(),
                "env": sorted(venue.env),
            }
        )

    async def _zaps(self, request: web.Request) -> web.Response:
        return web.json_response({"zaps": [self.zap_json(z) for z in self.venue.zaps]})

    async def _load(self, request: web.Request) -> web.Response:
        """Zaps for a mock started without a config file (`uat mocks up`): the harness loads them
        once the other mocks' URLs, which the steps call, are known."""
        body = await read_json(request)
        if not isinstance(body, dict):
            return error(400, "the body must be a JSON object", "body")
        unknown = sorted(set(body) - {"config", "set"})
        if unknown:
            return error(400, "unknown field; config or set", unknown[0])
        text, values = body.get("config"), body.get("set", {})
        if not isinstance(text, str):
            return error(400, "must be the text of a Zaps TOML file", "config")
        if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
            return error(400, "must be an object of strings", "set")
        try:
            config = loads(text, values, self.venue.allowed_hosts)
        except ConfigError as exc:
            return error(400, str(exc).removeprefix(f"{exc.field}: "), f"config.{exc.field}")
        await self.venue.load(config, values)
        return web.json_response({"zaps": [self.zap_json(z) for z in self.venue.zaps]})

    async def _switch(self, request: web.Request) -> web.Response:
        action = request.match_info["action"]
        if action not in ("enable", "disable"):
            return error(404, f"unknown action {action!r}; enable or disable", "action")
        zap = self.venue.zaps.get(request.match_info["zap_id"])
        if zap is None:
            return error(404, "no such Zap", "zap_id")
        self.venue.switch(zap, action == "enable")
        return web.json_response(self.zap_json(zap.id))

    async def _runs(self, request: web.Request) -> web.Response:
        state = request.query.get("state")
        if state is not None and state not in STATES:
            return error(400, f"state must be one of {', '.join(STATES)}", "state")
        raw = request.query.get("limit", str(MAX_LIST))
        if not (raw.isascii() and raw.isdigit() and 1 <= len(raw) <= 6 and 1 <= int(raw) <= MAX_LIST):
            return error(400, f"limit must be an integer from 1 to {MAX_LIST}", "limit")
        runs = self.venue.ledger.select(request.query.get("zap"), state, int(raw))
        return web.json_response({"runs": [r.to_json() for r in runs]})

    async def _run(self, request: web.Request) -> web.Response:
        run = self.venue.ledger.runs.get(request.match_info["run_id"])
        if run is None:
            return error(404, "no such run", "run_id")
        return web.json_response(run.to_json())

    async def _replay(self, request: web.Request) -> web.Response:
        venue = self.venue
        run = venue.ledger.runs.get(request.match_info["run_id"])
        if run is None:
            return error(404, "no such run", "run_id")
        if not venue.enabled(run.zap_id):
            return error(409, f"the Zap {run.zap_id!r} is turned off: turn it on to replay", "run_id")
        if venue.runner.full():
            return error(429, "the run queue is full; retry later")
        return web.json_response(venue.replay(run).to_json(), status=201)

    async def _retry(self, request: web.Request) -> web.Response:
        self.venue.retry = RetryPolicy.from_json(await read_json(request), self.venue.retry)
        self.venue.events.add("retry_set", **retry_json(self.venue.retry))
        return web.json_response(retry_json(self.venue.retry))

    async def _limits(self, request: web.Request) -> web.Response:
        try:
            self.venue.limits = parse_limits(await read_json(request), self.venue.limits, "body")
        except ConfigError as exc:
            raise FaultError(exc.field.removeprefix("body."), str(exc).split(": ", 1)[1]) from None
        self.venue.events.add("limits_set", **self.venue.limits.to_json())
        return web.json_response(self.venue.limits.to_json())

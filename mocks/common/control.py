"""The control API every mock shares: plain HTTP on its own port, never proxied.

| Path | What it does |
|---|---|
| GET /health | liveness, and which venue this is |
| GET /faults | armed faults and the catalogue |
| POST /faults | arm `{"fault", "params"?, "count"?, "duration_ms"?}`, 201 with the armed fault |
| DELETE /faults[?fault=NAME] | clear all faults, or one kind |
| POST /reset | faults, ledger and events back to a fresh start with the same seed |
| GET /ledger | orders, fills, positions, webhook deliveries |
| GET /events[?since=SEQ&kind=K] | the event log |
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from .body import read_whole
from .faults import FaultError
from .venue import MockVenue


def error(status: int, message: str, field: str | None = None) -> web.Response:
    payload: dict[str, Any] = {"error": message, "status": status}
    if field is not None:
        payload["field"] = field
    return web.json_response(payload, status=status)


async def read_json(request: web.Request) -> Any:
    """The request's JSON body; a FaultError naming `body` when it is not JSON."""
    raw = await read_whole(request)
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        raise FaultError("body", f"invalid JSON: {type(exc).__name__}: {exc}"[:300]) from None


async def start_app(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Serve an aiohttp app on host:port (0: any free port); the runner and the bound port."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner, int(runner.addresses[0][1])


class ControlServer:
    """Serves one venue's control API on its own port."""

    def __init__(self, venue: MockVenue) -> None:
        self.venue = venue
        self.app = web.Application(middlewares=[_field_errors])
        self.app.add_routes(
            [
                web.get("/health", self.health),
                web.get("/faults", self.list_faults),
                web.post("/faults", self.arm),
                web.delete("/faults", self.clear),
                web.post("/reset", self.reset),
                web.get("/ledger", self.ledger),
                web.get("/events", self.events),
            ]
        )
        for method, path, handler in venue.control_routes():
            self.app.router.add_route(method, path, handler)
        self._runner: web.AppRunner | None = None
        self.host = "127.0.0.1"
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._runner, self.port = await start_app(self.app, host, port)
        self.host = host

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"venue": self.venue.name, "ok": True, "url": self.venue.url})

    async def list_faults(self, request: web.Request) -> web.Response:
        catalogue = [k.to_json() for k in self.venue.faults.catalogue.values()]
        return web.json_response({"armed": self.venue.faults.snapshot(), "catalogue": catalogue})

    async def arm(self, request: web.Request) -> web.Response:
        fault = self.venue.faults.arm_request(await read_json(request))
        self.venue.events.add("fault_armed", fault=fault.kind, id=fault.id, params=fault.params)
        return web.json_response(fault.to_json(), status=201)

    async def clear(self, request: web.Request) -> web.Response:
        name = request.query.get("fault")
        cleared = self.venue.faults.clear(name)
        self.venue.events.add("faults_cleared", fault=name, count=cleared)
        return web.json_response({"cleared": cleared})

    async def reset(self, request: web.Request) -> web.Response:
        await self.venue.reset()
        return web.Response(status=204)

    async def ledger(self, request: web.Request) -> web.Response:
        return web.json_response(self.venue.ledger.to_json())

    async def events(self, request: web.Request) -> web.Response:
        try:
            since = int(request.query.get("since", "0"))
        except ValueError:
            return error(400, "since must be an integer", "since")
        return web.json_response({"events": self.venue.events.since(since, request.query.get("kind"))})


@web.middleware
async def _field_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except FaultError as exc:
        return error(400, str(exc), exc.field)

"""The operator's routes, public by design: /health (readiness and what is down), /metrics
(Prometheus text) and /openapi.json (the contract). None of them shows a credential."""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from . import gcpolicy
from .openapi import spec_for


def _svc(request: Request) -> Any:
    return request.app.state.service


async def health(request: Request) -> Response:
    svc = _svc(request)
    always_ok = svc.cfg.mutant("health_always_ok")
    database = "up" if always_ok or await svc.database_up() else "down"
    venues = {"rithmic": svc.rithmic.status(), "tt": svc.tt.status()}
    if svc.cqg is not None:
        venues["cqg"] = svc.cqg.status()
    ok = database == "up" and all(v["status"] == "up" for v in venues.values())
    ok = ok or always_ok
    uptime = round(time.monotonic() - svc.started, 3)
    return JSONResponse(
        {
            "status": "ok" if ok else "degraded",
            "database": database,
            "venues": venues,
            "uptime_s": uptime if not svc.cfg.mutant("health_uptime_text") else f"{uptime:.1f} s",
            "gc": gcpolicy.status(),
            "auth": "on" if svc.cfg.auth_on else "off",
        }
    )


async def metrics(request: Request) -> Response:
    """Prometheus text: what the on-call watches besides /health. The database gauge is measured
    on each scrape (a bounded SELECT 1), never remembered, so it cannot say "up" while it is down."""
    svc = _svc(request)
    database = 1 if await svc.database_up() else 0
    lines = [
        "# HELP refmw_database_up Whether the service can use its database (1) or not (0).",
        "# TYPE refmw_database_up gauge",
        f"refmw_database_up {database}",
        "# HELP refmw_venue_up Whether a venue session is up (1) or not (0).",
        "# TYPE refmw_venue_up gauge",
    ]
    sessions = [("rithmic", svc.rithmic.status()), ("tt", svc.tt.status())]
    if svc.cqg is not None:
        sessions.append(("cqg", svc.cqg.status()))
    for name, venue in sessions:
        lines.append(f'refmw_venue_up{{venue="{name}"}} {1 if venue["status"] == "up" else 0}')
    lines += [
        "# HELP refmw_uptime_seconds Seconds since the service started.",
        "# TYPE refmw_uptime_seconds gauge",
        f"refmw_uptime_seconds {time.monotonic() - svc.started:.3f}",
        "# HELP refmw_secret_reloads_total New versions of REFMW_SECRETS_FILE applied since start.",
        "# TYPE refmw_secret_reloads_total counter",
        f"refmw_secret_reloads_total {svc.secrets.reloads}",
    ]
    return Response("\n".join(lines) + "\n", media_type="text/plain; version=0.0.4")


async def openapi(request: Request) -> Response:
    return JSONResponse(spec_for(tuple(symbol for symbol, _ in _svc(request).cfg.symbols)))

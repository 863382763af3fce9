"""The back office's key management: `POST /v1/admin/api-keys` issues a trader key for one account,
`DELETE /v1/admin/api-keys/{key_id}` revokes one at once. Admin only (the guard sees to that)."""

from __future__ import annotations

import math
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

MAX_TTL_S = 10 * 365 * 86_400.0  # far enough; a bigger one would overflow a timestamp


def _bad(field: str, message: str) -> Response:
    return JSONResponse({"error": message, "field": field}, status_code=400)


def _parse(body: Any) -> tuple[str, float | None] | Response:
    if not isinstance(body, dict):
        return _bad("body", "must be a JSON object")
    unknown = sorted(set(body) - {"account", "ttl_s"})
    if unknown:
        return _bad(unknown[0], "unknown field")
    account = body.get("account")
    if not isinstance(account, str) or not account or "\x00" in account:
        return _bad("account", "must be a non-empty string")
    ttl = body.get("ttl_s")
    if ttl is None:
        return account, None
    if isinstance(ttl, bool) or not isinstance(ttl, int | float) or not math.isfinite(ttl) or ttl <= 0:
        return _bad("ttl_s", "must be a positive number of seconds")
    if ttl > MAX_TTL_S:
        return _bad("ttl_s", f"must be at most {MAX_TTL_S:g}")
    return account, float(ttl)


async def create_key(request: Request) -> Response:
    svc = request.app.state.service
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        body = None
    parsed = _parse(body)
    if isinstance(parsed, Response):
        return parsed
    account, ttl = parsed
    issued = await svc.keys.issue(account, ttl)
    if issued is None:
        return JSONResponse({"error": f"no account {account!r}", "field": "account"}, status_code=404)
    return JSONResponse(issued, status_code=201, headers={"Cache-Control": "no-store"})


async def revoke_key(request: Request) -> Response:
    svc = request.app.state.service
    if not await svc.keys.revoke(request.path_params["key_id"]):
        return JSONResponse({"error": "no such key"}, status_code=404)
    return Response(status_code=204)

"""The lifecycle's HTTP surface: the Zap's contract callback, Connect, payouts and the admin view.

Admin routes (`/v1/lifecycle/...`) sit behind the guard like every back-office route; Connect is
public and authenticated by its HMAC signatures instead. With the lifecycle off, every route says so
(404 for the admin ones, 503 for Connect, which DocuSign then retries).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..dbguard import guarded
from . import payouts
from .contracts import connect_status
from .service import LifecycleService
from .view import lifecycle_view

log = logging.getLogger("refmw.lifecycle.routes")
OFF = "the funded-trader lifecycle is off (REFMW_ZAPIER_HOOK_URL is unset)"


def _lifecycle(request: Request) -> LifecycleService | None:
    found: LifecycleService | None = request.app.state.service.lifecycle
    return found


def _error(status: int, message: str, field: str | None = None) -> JSONResponse:
    body = {"error": message, **({"field": field} if field else {})}
    return JSONResponse(body, status_code=status)


async def _object(request: Request) -> dict[str, Any] | None:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


def _text(body: dict[str, Any], name: str) -> str | None:
    """A string the spec allows (1-200 characters, no NUL, which Postgres text cannot hold); one that
    names nothing known is then a 404, not a malformed request."""
    value = body.get(name)
    if isinstance(value, str) and 0 < len(value) <= 200 and "\x00" not in value:
        return value
    return None


async def post_contract(request: Request) -> Response:
    lifecycle = _lifecycle(request)
    if lifecycle is None:
        return _error(404, OFF)
    body = await _object(request)
    if body is None:
        return _error(400, "must be a JSON object", "body")
    customer, envelope = _text(body, "customer"), _text(body, "envelope_id")
    if customer is None:
        return _error(400, "must be a customer id", "customer")
    if envelope is None:
        return _error(400, "must be a DocuSign envelope id", "envelope_id")
    recorded = await lifecycle.record_contract(customer, envelope.lower())
    return JSONResponse(recorded.body, status_code=recorded.status)


async def docusign_webhook(request: Request) -> Response:
    lifecycle = _lifecycle(request)
    if lifecycle is None:
        return _error(503, OFF)
    raw = await request.body()
    if not lifecycle.connect_genuine(raw, request.headers):
        log.warning("DocuSign Connect message refused: no valid HMAC signature")
        return _error(401, "no valid X-DocuSign-Signature-N for this body")
    try:
        found = connect_status(json.loads(raw))
    except ValueError:
        found = None
    if found is None:
        return _error(400, "not a Connect envelope event", "body")
    envelope, status = found
    moved = await lifecycle.apply_status(envelope, status)
    if moved is None:
        log.info(
            "Connect %s for envelope %s: nothing to change (unknown, duplicate or behind)", status, envelope
        )
    return JSONResponse({"received": True, "applied": moved is not None})


async def post_payout(request: Request) -> Response:
    lifecycle = _lifecycle(request)
    if lifecycle is None:
        return _error(404, OFF)
    body = await _object(request)
    try:
        async with lifecycle.pool.acquire() as conn:
            payout = await payouts.create(conn, body if body is not None else [])
    except payouts.PayoutRefused as exc:
        return _error(exc.status, str(exc), exc.field)
    lifecycle.kick()
    return JSONResponse(payout, status_code=202)


async def get_lifecycle(request: Request) -> Response:
    lifecycle = _lifecycle(request)
    if lifecycle is None:
        return _error(404, OFF)
    customer = request.path_params["customer"]
    if "\x00" in customer:
        return _error(400, "must not contain a NUL character", "customer")
    async with lifecycle.pool.acquire() as conn:
        view = await lifecycle_view(conn, customer)
    if view is None:
        return _error(404, f"no funded trader {customer!r}", "customer")
    return JSONResponse(view)


def routes() -> list[Route]:
    return [
        # the contract callback voids a duplicate at DocuSign: its database phases are short, the call bounded
        Route("/v1/lifecycle/contracts", guarded(post_contract, bounded=False), methods=["POST"]),
        Route("/v1/lifecycle/payouts", guarded(post_payout), methods=["POST"]),
        Route("/v1/lifecycle/{customer}", guarded(get_lifecycle), methods=["GET"]),
        Route("/v1/webhooks/docusign", guarded(docusign_webhook), methods=["POST"]),
    ]

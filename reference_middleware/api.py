"""The HTTP and WebSocket API (starlette), and the service's start-up and shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from . import cancels, db, gcpolicy
from .accounts import AccountService
from .config import Config
from .hub import Hub
from .openapi import SPEC
from .orders import OrderService, record_venue_fill
from .positions import positions
from .venues.rithmic import RithmicVenue, VenueDown
from .venues.tt import TTClient
from .webhooks import WebhookHandler, WebhookRejected

log = logging.getLogger("refmw.api")


class Service:
    """Everything the routes need, built in the lifespan."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.hub = Hub(cfg.quote_interval_s)
        self.pool: Any = None
        self.tt = TTClient(cfg)
        self.rithmic = RithmicVenue(
            cfg,
            on_notification=self._notification,
            on_reconnected=self._reconnected,
            on_quote=self.hub.on_quote,
            on_account_pnl=self._account_pnl,
        )
        self.orders: OrderService | None = None
        self.accounts: AccountService | None = None
        self.webhooks: WebhookHandler | None = None
        self.tasks: list[asyncio.Task[Any]] = []
        self.started = time.monotonic()

    async def _notification(self, message: Any) -> None:
        if self.orders is not None:
            await self.orders.on_notification(message)

    async def _reconnected(self) -> None:
        if self.orders is not None and self.accounts is not None:
            await self.accounts.seed_venue_accounts()
            await self.orders.reconcile()

    def _account_pnl(self, message: Any) -> None:
        if self.accounts is not None:
            self.accounts.on_account_pnl(message)

    async def start(self) -> None:
        self.pool = await db.connect(self.cfg.database_url, size=self.cfg.db_pool)
        self.orders = OrderService(self.pool, self.cfg, self.rithmic, self.hub.publish)
        self.accounts = AccountService(self.pool, self.cfg, self.rithmic, self.tt)
        self.webhooks = WebhookHandler(self.pool, self.cfg, self.accounts)
        await self.rithmic.start()
        with contextlib.suppress(Exception):
            await self.tt.token()
        orders = self.orders

        async def record(**kw: Any) -> bool:
            return await record_venue_fill(orders, **kw)

        self.tasks.append(asyncio.create_task(self.hub.conflate()))
        self.tasks.append(asyncio.create_task(self.accounts.provisioner()))
        self.tasks.append(asyncio.create_task(self.accounts.tt_poller(record)))
        if self.cfg.mutants:
            log.warning("mutants switched on: %s", ", ".join(sorted(self.cfg.mutants)))

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        if self.orders is not None:
            await self.orders.stop()
        await self.rithmic.stop()
        await self.tt.close()
        if self.pool is not None:
            await self.pool.close()


def _svc(request: Request | WebSocket) -> Service:
    service: Service = request.app.state.service
    return service


async def _json(request: Request) -> Any:
    try:
        return await request.json()
    except (ValueError, UnicodeDecodeError):
        return None


async def post_order(request: Request) -> Response:
    svc = _svc(request)
    assert svc.orders is not None
    body = await _json(request)
    status, payload = await svc.orders.place(body)
    return JSONResponse(payload, status_code=status)


async def get_order(request: Request) -> Response:
    svc = _svc(request)
    assert svc.orders is not None
    order = await svc.orders.get(request.path_params["client_order_id"])
    if order is None:
        return JSONResponse({"error": "no such order"}, status_code=404)
    return JSONResponse(order)


async def cancel_order(request: Request) -> Response:
    svc = _svc(request)
    assert svc.orders is not None
    status, payload = await cancels.cancel(svc.orders, request.path_params["client_order_id"])
    return JSONResponse(payload, status_code=status)


async def get_positions(request: Request) -> Response:
    svc = _svc(request)
    account = request.query_params.get("account")
    if not account:
        return JSONResponse({"error": "account is required", "field": "account"}, status_code=400)
    exists = await svc.pool.fetchval("SELECT 1 FROM accounts WHERE id = $1", account)
    if not exists:
        return JSONResponse({"error": f"no account {account!r}", "field": "account"}, status_code=404)
    async with svc.pool.acquire() as conn:
        rows = await positions(conn, svc.cfg, account)
    return JSONResponse({"account": account, "positions": rows})


async def list_accounts(request: Request) -> Response:
    svc = _svc(request)
    assert svc.accounts is not None
    customer = request.query_params.get("customer")
    if customer:
        return JSONResponse({"accounts": await svc.accounts.find_by_customer(customer)})
    rows = await svc.pool.fetch("SELECT id FROM accounts ORDER BY id")
    return JSONResponse({"accounts": [r["id"] for r in rows]})


async def get_account(request: Request) -> Response:
    svc = _svc(request)
    assert svc.accounts is not None
    try:
        account = await svc.accounts.get(request.path_params["account_id"])
    except VenueDown as exc:
        return JSONResponse({"error": str(exc), "venue": "rithmic"}, status_code=503)
    if account is None:
        return JSONResponse({"error": "no such account"}, status_code=404)
    return JSONResponse(account)


async def patch_account(request: Request) -> Response:
    svc = _svc(request)
    assert svc.accounts is not None
    try:
        account = await svc.accounts.update(request.path_params["account_id"], await _json(request))
    except ValueError as exc:
        field, _, message = str(exc).partition(": ")
        return JSONResponse({"error": message, "field": field}, status_code=400)
    except VenueDown as exc:
        return JSONResponse({"error": str(exc), "venue": "rithmic"}, status_code=503)
    if account is None:
        return JSONResponse({"error": "no such account"}, status_code=404)
    return JSONResponse(account)


async def stripe_webhook(request: Request) -> Response:
    svc = _svc(request)
    assert svc.webhooks is not None
    payload = await request.body()
    try:
        result = await svc.webhooks.handle(payload, request.headers.get("stripe-signature"))
    except WebhookRejected as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    assert svc.accounts is not None
    svc.accounts.kick.set()  # provisioning sees the committed account at once
    return JSONResponse(result)


async def health(request: Request) -> Response:
    svc = _svc(request)
    database = "up"
    try:
        await asyncio.wait_for(svc.pool.fetchval("SELECT 1"), 2.0)
    except Exception:
        database = "down"
    venues = {"rithmic": svc.rithmic.status(), "tt": svc.tt.status()}
    ok = database == "up" and all(v["status"] == "up" for v in venues.values())
    return JSONResponse(
        {
            "status": "ok" if ok else "degraded",
            "database": database,
            "venues": venues,
            "uptime_s": round(time.monotonic() - svc.started, 3),
            "gc": gcpolicy.status(),
        }
    )


async def openapi(request: Request) -> Response:
    return JSONResponse(SPEC)


async def stream(ws: WebSocket) -> None:
    """Order updates for `?account=ID` (all accounts without it); quotes for `?symbols=A,B`
    (every symbol without it), conflated to the latest snapshot per interval."""
    svc = _svc(ws)
    await ws.accept()
    raw_symbols = ws.query_params.get("symbols")
    symbols = frozenset(s for s in raw_symbols.split(",") if s) if raw_symbols else None
    client = svc.hub.add(ws.query_params.get("account") or None, symbols)
    try:
        for text in svc.hub.snapshot_for(client):
            await ws.send_text(text)
        while True:
            await ws.send_text(await client.queue.get())
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        svc.hub.remove(client)


def create_app(cfg: Config) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        service = Service(cfg)
        app.state.service = service
        await service.start()
        try:
            yield
        finally:
            await service.stop()

    routes = [
        Route("/v1/orders", post_order, methods=["POST"]),
        Route("/v1/orders/{client_order_id}", get_order, methods=["GET"]),
        Route("/v1/orders/{client_order_id}", cancel_order, methods=["DELETE"]),
        Route("/v1/positions", get_positions, methods=["GET"]),
        Route("/v1/accounts", list_accounts, methods=["GET"]),
        Route("/v1/accounts/{account_id}", get_account, methods=["GET"]),
        Route("/v1/accounts/{account_id}", patch_account, methods=["PATCH"]),
        Route("/v1/webhooks/stripe", stripe_webhook, methods=["POST"]),
        Route("/health", health, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        WebSocketRoute("/v1/stream", stream),
    ]
    return Starlette(routes=routes, lifespan=lifespan)

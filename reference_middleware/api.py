"""The HTTP and WebSocket API (starlette), and the service's start-up and shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
import traceback
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from . import cancels, db
from .accounts import AccountService
from .auth import KeyStore, principal
from .config import Config
from .dbguard import DB_ERRORS, Endpoint, guarded, throttled
from .fills import record_venue_fill
from .guard import Guard, MalformedBody
from .hub import Hub
from .keys_api import create_key, revoke_key
from .lifecycle import routes as lifecycle_routes
from .lifecycle.service import LifecycleService
from .openapi import INT32_MAX
from .ops import health, metrics, openapi
from .orders import OrderService
from .pnl import account_pnl
from .positions import positions
from .quotes import quote_view
from .reconcile_cqg import reconcile_cqg
from .secretsource import SecretSource
from .shutdown import Drain, InFlight, exit_on_sigterm
from .venues.cqg import from_decimal
from .venues.cqg_venue import CQGVenue, significand_only
from .venues.rithmic import RithmicVenue, VenueDown
from .venues.tt import TTClient
from .webhooks import WebhookHandler, WebhookRejected
from .writebehind import WriteBehind

log = logging.getLogger("refmw.api")
HEALTH_DB_BOUND_S = 1.0  # /health says the database is down when SELECT 1 takes longer
BAD_RELEASE = "bad release: migration 7 does not apply to this schema (REFMW_BAD_RELEASE=1)"


class Service:
    """Everything the routes need, built in the lifespan."""

    def __init__(self, cfg: Config, secrets: SecretSource | None = None) -> None:
        self.cfg = cfg
        self.secrets = secrets if secrets is not None else SecretSource.from_config(cfg)
        self.hub = Hub(cfg.quote_interval_s, cfg.stale_quote_s, never_stale=cfg.mutant("quote_never_stale"))
        self.pool: Any = None
        self.keys = KeyStore(None, accept_revoked=cfg.mutant("revoked_keys_accepted"))
        self.tt = TTClient(cfg, self.secrets)
        self.rithmic = RithmicVenue(
            cfg,
            secrets=self.secrets,
            on_notification=self._notification,
            on_reconnected=self._reconnected,
            on_quote=self.hub.on_quote,
            on_account_pnl=self._account_pnl,
        )
        self.cqg: CQGVenue | None = None
        if cfg.cqg_url:
            self.cqg = CQGVenue(
                url=cfg.cqg_url,
                user=cfg.cqg_user,
                password=cfg.cqg_password,
                symbols=cfg.symbols,
                accounts=cfg.cqg_accounts,
                on_notification=self._notification,
                on_reconnected=self._cqg_reconnected,
                reconnect_interval_s=cfg.reconnect_interval_s,
                request_timeout_s=cfg.request_timeout_s,
                restore=not cfg.mutant("cqg_restore_never"),
                # the seeded bugs: an hour's pong deadline is none; a Decimal read without its exponent
                pong_timeout_s=3600.0 if cfg.mutant("cqg_no_ping_watchdog") else 4.0,
                quantity=significand_only if cfg.mutant("cqg_decimal_exponent_ignored") else from_decimal,
            )
        self.orders: OrderService | None = None
        self.accounts: AccountService | None = None
        self.webhooks: WebhookHandler | None = None
        self.lifecycle: LifecycleService | None = None
        self.tasks: list[asyncio.Task[Any]] = []
        self.started = time.monotonic()
        # a request's database time (dbguard); no_lock_timeout is the build that bounds nothing
        self.db_budget_s = None if cfg.mutant("no_lock_timeout") else cfg.db_request_timeout_s
        self._db_probe: asyncio.Future[Any] | None = None

    async def _notification(self, message: Any) -> None:
        if self.orders is None:
            return
        try:
            await self.orders.on_notification(message)
        except DB_ERRORS as exc:
            # The notification is gone, but the venue still knows: a reconcile pass books it.
            throttled.warn("an order notification", exc)
            if not self.cfg.mutant("no_reconcile"):
                self.orders._schedule_reconcile()

    async def _reconnected(self) -> None:
        if self.orders is not None and self.accounts is not None:
            try:
                await self.accounts.seed_venue_accounts()
                await self.orders.reconcile()
            except DB_ERRORS:
                if not self.cfg.mutant("no_reconcile"):
                    self.orders._schedule_reconcile()  # tried again once the database answers
                raise

    async def _cqg_reconnected(self) -> None:
        """After every CQG logon or restore: its trade snapshot is the truth about our orders there."""
        if self.orders is None or self.cqg is None or self.cfg.mutant("cqg_snapshot_not_reconciled"):
            return
        try:
            await reconcile_cqg(self.orders, self.cqg.venue_orders())
        except DB_ERRORS:
            if not self.cfg.mutant("no_reconcile"):
                self.orders._schedule_reconcile()
            raise

    def _account_pnl(self, message: Any) -> None:
        if self.accounts is not None:
            self.accounts.on_account_pnl(message)

    async def start(self) -> None:
        self.pool = await db.connect(self.cfg)
        self.keys.pool = self.pool
        self.orders = OrderService(self.pool, self.cfg, self.rithmic, self.hub.publish, self.db_budget_s)
        self.orders.quote_age = self.hub.quote_age
        self.orders.cqg = self.cqg
        self.orders.routes.update(
            (r["id"], r["venue"])
            for r in await self.pool.fetch("SELECT id, venue FROM accounts WHERE venue <> 'rithmic'")
        )
        if self.cfg.mutant("ack_before_durable"):
            self.orders.buffer = WriteBehind(self.orders)
        self.accounts = AccountService(self.pool, self.cfg, self.rithmic, self.tt)
        self.accounts.routes = self.orders.routes  # one map: a venue change is seen by the next order
        self.webhooks = WebhookHandler(self.pool, self.cfg, self.accounts, self.secrets)
        if self.cfg.lifecycle is not None:
            self.lifecycle = LifecycleService(self.pool, self.cfg, self.cfg.lifecycle, self.accounts)
            self.lifecycle.start()
        self.secrets.start()  # before the first login: a rotation during start-up is seen
        await asyncio.gather(self.rithmic.start(), *([self.cqg.start()] if self.cqg else []))
        with contextlib.suppress(Exception):
            await self.tt.token()
        orders = self.orders

        async def record(**kw: Any) -> bool:
            return await record_venue_fill(orders, **kw)

        self.tasks.append(asyncio.create_task(self.hub.conflate()))
        self.tasks.append(asyncio.create_task(self.hub.watch_stale()))
        self.tasks.append(asyncio.create_task(self.accounts.provisioner()))
        self.tasks.append(asyncio.create_task(self.accounts.tt_poller(record)))
        if self.orders.buffer is not None:
            self.tasks.append(asyncio.create_task(self.orders.buffer.run()))
        if self.cfg.mutant("no_graceful_drain"):
            exit_on_sigterm()
        if not self.cfg.auth_on:
            log.warning("authentication is off: REFMW_ADMIN_KEY is unset")
        if self.cfg.mutants:
            log.warning("mutants switched on: %s", ", ".join(sorted(self.cfg.mutants)))

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        if self.lifecycle is not None:
            await self.lifecycle.stop()
        await self.secrets.stop()
        if self.orders is not None:
            await self.orders.stop()
        await self.rithmic.stop()
        if self.cqg is not None:
            await self.cqg.stop()
        await self.tt.close()
        if self.pool is not None:
            await self.pool.close()

    async def database_up(self) -> bool:
        """SELECT 1 within HEALTH_DB_BOUND_S. One probe at a time: while a probe hangs (a
        black-holed link), every health call says down within the bound instead of adding another."""
        probe = self._db_probe
        if probe is None or probe.done():
            probe = self._db_probe = asyncio.ensure_future(self.pool.fetchval("SELECT 1"))
            probe.add_done_callback(lambda t: t.cancelled() or t.exception())
        done, _ = await asyncio.wait({probe}, timeout=HEALTH_DB_BOUND_S)
        return bool(done) and not probe.cancelled() and probe.exception() is None


def _svc(request: Request | WebSocket) -> Service:
    service: Service = request.app.state.service
    return service


async def _json(request: Request) -> Any:
    try:
        return await request.json()
    except (ValueError, UnicodeDecodeError):
        if _svc(request).cfg.mutant("stack_trace_in_errors"):
            raise MalformedBody(traceback.format_exc()) from None
        return None


def _scoped(request: Request) -> bool:
    """Object-level scoping is on unless the named mutant switches it off for this route."""
    return not _svc(request).cfg.mutant(
        "idor_order_status" if request.method == "GET" else "cancel_any_order"
    )


def plain_text(endpoint: Endpoint) -> Endpoint:
    """A path or query value with a NUL is refused with 400 naming it: Postgres text cannot hold
    one, and the query would otherwise fail as if the database were down (503)."""

    @functools.wraps(endpoint)
    async def run(request: Request) -> Response:
        for name, value in (*request.path_params.items(), *request.query_params.multi_items()):
            if isinstance(value, str) and "\x00" in value:
                return JSONResponse(
                    {"error": "must not contain a NUL character", "field": name}, status_code=400
                )
        return await endpoint(request)

    return run


async def post_order(request: Request) -> Response:
    svc = _svc(request)
    assert svc.orders is not None
    body = await _json(request)
    account = body.get("account") if isinstance(body, dict) else None
    if isinstance(account, str) and not principal(request).owns(account):
        return JSONResponse(
            {"error": "this key may not trade that account", "field": "account"}, status_code=403
        )
    status, payload = await svc.orders.place(body)
    return JSONResponse(payload, status_code=status)


async def get_order(request: Request) -> Response:
    svc = _svc(request)
    assert svc.orders is not None
    order = await svc.orders.get(request.path_params["client_order_id"])
    if order is None or (_scoped(request) and not principal(request).owns(order["account"])):
        return JSONResponse({"error": "no such order"}, status_code=404)
    return JSONResponse(order)


async def cancel_order(request: Request) -> Response:
    svc = _svc(request)
    assert svc.orders is not None
    owns = principal(request).owns if _scoped(request) else None
    status, payload = await cancels.cancel(svc.orders, request.path_params["client_order_id"], owns)
    return JSONResponse(payload, status_code=status)


async def get_positions(request: Request) -> Response:
    svc = _svc(request)
    account = request.query_params.get("account")
    if not account:
        return JSONResponse({"error": "account is required", "field": "account"}, status_code=400)
    mine = principal(request).owns(account)
    if not mine or not await svc.pool.fetchval("SELECT 1 FROM accounts WHERE id = $1", account):
        return JSONResponse({"error": f"no account {account!r}", "field": "account"}, status_code=404)
    async with svc.pool.acquire() as conn:
        rows = await positions(conn, svc.cfg, account)
    return JSONResponse({"account": account, "positions": rows})


async def get_quote(request: Request) -> Response:
    svc = _svc(request)
    symbol = request.path_params["symbol"]
    quote = quote_view(svc.hub, symbol, swapped=svc.cfg.mutant("quote_bid_ask_swapped"))
    if quote is None:
        return JSONResponse({"error": f"no quote for {symbol!r} yet", "field": "symbol"}, status_code=404)
    return JSONResponse(quote)


async def get_pnl(request: Request) -> Response:
    svc = _svc(request)
    account = request.path_params["account_id"]
    mine = principal(request).owns(account)
    async with svc.pool.acquire() as conn:
        if not mine or not await conn.fetchval("SELECT 1 FROM accounts WHERE id = $1", account):
            return JSONResponse({"error": f"no account {account!r}", "field": "account_id"}, status_code=404)
        return JSONResponse(await account_pnl(conn, svc.cfg, svc.hub, account))


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
    if not principal(request).owns(request.path_params["account_id"]):
        return JSONResponse({"error": "no such account"}, status_code=404)
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
    body = await _json(request)
    for key in ("max_position", "max_order_qty"):  # what the INTEGER columns hold
        value = body.get(key) if isinstance(body, dict) else None
        if isinstance(value, int | float) and not isinstance(value, bool) and value > INT32_MAX:
            return JSONResponse({"error": f"must be at most {INT32_MAX}", "field": key}, status_code=400)
    try:
        account = await svc.accounts.update(request.path_params["account_id"], body)
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
        if svc.cfg.mutant("webhook_ack_before_commit"):
            return JSONResponse(svc.webhooks.handle_later(payload, request.headers.get("stripe-signature")))
        result = await svc.webhooks.handle(payload, request.headers.get("stripe-signature"))
    except WebhookRejected as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    assert svc.accounts is not None
    svc.accounts.kick.set()  # provisioning sees the committed account at once
    if svc.lifecycle is not None:
        svc.lifecycle.kick()  # a funded checkout's outbox row, or a cancellation
    return JSONResponse(result)


async def stream(ws: WebSocket) -> None:
    """Order updates for `?account=ID` (all accounts without it: admin only); quotes for
    `?symbols=A,B` (every symbol without it), conflated to the latest snapshot per interval. A
    trader must name an account of its own, or the stream is closed with 1008."""
    svc = _svc(ws)
    await ws.accept()
    account = ws.query_params.get("account") or None
    who = principal(ws)
    if not who.admin and (account is None or not who.owns(account)):
        await ws.close(1008, "a trader key streams its own account only: give ?account=")
        return
    raw_symbols = ws.query_params.get("symbols")
    symbols = frozenset(s for s in raw_symbols.split(",") if s) if raw_symbols else None
    client = svc.hub.add(account, symbols)
    try:
        for text in svc.hub.snapshot_for(client):
            await ws.send_text(text)
        while text := await client.queue.get():  # "" is the hub closing (a shutdown)
            await ws.send_text(text)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        svc.hub.remove(client)


async def bad_release(request: Request) -> Response:
    return JSONResponse({"status": "failing", "reason": BAD_RELEASE}, status_code=503)


def create_app(cfg: Config, secrets: SecretSource | None = None) -> Starlette:
    drain = Drain()
    if cfg.bad_release:
        # A release that cannot serve: it starts (the process is up) but never passes readiness,
        # and touches nothing (no migration, no venue session) while a rollout waits on it.
        log.error("%s: failing readiness", BAD_RELEASE)
        methods = ["GET", "POST", "PATCH", "DELETE"]
        app = Starlette(
            routes=[Route("/{path:path}", bad_release, methods=methods)],
            middleware=[Middleware(InFlight, drain=drain)],
        )
        app.state.drain = drain
        return app

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        service = Service(cfg, secrets)
        app.state.service = service
        drain.hooks.append(service.hub.close_all)
        await service.start()
        try:
            yield
        finally:
            await service.stop()

    routes = [
        # an order bounds its own database phases: its venue call between them must not be cut
        Route("/v1/orders", guarded(post_order, bounded=False), methods=["POST"]),
        Route("/v1/orders/{client_order_id}", guarded(plain_text(get_order)), methods=["GET"]),
        Route(
            "/v1/orders/{client_order_id}",
            guarded(plain_text(cancel_order), bounded=False),
            methods=["DELETE"],
        ),
        Route("/v1/positions", guarded(plain_text(get_positions)), methods=["GET"]),
        Route("/v1/accounts", guarded(plain_text(list_accounts)), methods=["GET"]),
        Route("/v1/accounts/{account_id}", guarded(plain_text(get_account)), methods=["GET"]),
        Route("/v1/accounts/{account_id}", guarded(plain_text(patch_account)), methods=["PATCH"]),
        Route("/v1/accounts/{account_id}/pnl", guarded(plain_text(get_pnl)), methods=["GET"]),
        Route("/v1/quotes/{symbol}", plain_text(get_quote), methods=["GET"]),
        Route("/v1/webhooks/stripe", guarded(stripe_webhook), methods=["POST"]),
        Route("/health", health, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        WebSocketRoute("/v1/stream", stream),
        Route("/v1/admin/api-keys", guarded(create_key), methods=["POST"]),
        Route("/v1/admin/api-keys/{key_id}", guarded(plain_text(revoke_key)), methods=["DELETE"]),
        *lifecycle_routes.routes(),
    ]
    middleware = [Middleware(InFlight, drain=drain), Middleware(Guard, cfg=cfg)]
    app = Starlette(routes=routes, lifespan=lifespan, middleware=middleware)
    app.state.drain = drain
    return app

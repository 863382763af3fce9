"""Rithmic through async-rithmic: ticker, order and PnL plants, with what the library leaves out.

async-rithmic reconnects a dropped plant and resubscribes market data and PnL, but it cannot see a
gateway that stays connected and says nothing (heartbeat answers are ignored, and websocket pings can
still be answered). So every plant's receive path is stamped here, idle plants are probed with a
heartbeat, and a plant mute for longer than the watchdog bound has its socket aborted, which hands it
to the library's reconnect loop. After an order-plant reconnect the caller's reconcile hook runs
(show-orders), because notifications sent while we were away are gone for good.

The password is read from the secret source at each login (LiveCredentials), so a rotated password is
used by the next login of any plant, a reconnect after a ForcedLogout included, and no session that
is up is dropped for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import zlib
from collections.abc import Awaitable, Callable
from typing import Any

from async_rithmic import (
    DataType,
    OrderType,
    ReconnectionSettings,
    RetrySettings,
    RithmicClient,
    SysInfraType,
    TransactionType,
)

from ..config import Config
from ..fillgate import FillsInFlight
from ..secretsource import RITHMIC_PASSWORD, SecretSource
from . import rithmic_debug, rithmic_drain, rithmic_login, rithmic_requests

log = logging.getLogger("refmw.rithmic")
PLANTS = ("ticker", "order", "pnl")
NOTIFY_FILL = 5  # ExchangeOrderNotification.notify_type of a fill
INFRA = [SysInfraType.TICKER_PLANT, SysInfraType.ORDER_PLANT, SysInfraType.PNL_PLANT]
CONNECT_TIMEOUT_S = 20.0


class VenueDown(RuntimeError):
    """The order plant is not usable right now; the API answers 503 at once."""


class LiveCredentials(dict[str, Any]):
    """async-rithmic's credentials dict (each plant's login reads `credentials["password"]`), with
    the password looked up in the secret source at every read instead of fixed at construction."""

    def __init__(self, base: dict[str, Any], secrets: SecretSource) -> None:
        super().__init__(base)
        self.secrets = secrets

    def __getitem__(self, key: str) -> Any:
        if key == "password":
            return self.secrets.get(RITHMIC_PASSWORD, super().__getitem__(key))
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self else default  # noqa: SIM401 (this is get itself)


class RithmicVenue:
    def __init__(
        self,
        cfg: Config,
        *,
        secrets: SecretSource | None = None,
        on_notification: Callable[[Any], Awaitable[None]],
        on_reconnected: Callable[[], Awaitable[None]],
        on_quote: Callable[[dict[str, Any]], None],
        on_account_pnl: Callable[[Any], None],
    ) -> None:
        self.cfg = cfg
        self._on_notification = on_notification
        self._on_reconnected = on_reconnected
        self._on_quote = on_quote
        self._on_account_pnl = on_account_pnl
        retries = 0 if cfg.mutant("no_reconnect") else None
        self.client = RithmicClient(
            user=cfg.rithmic_user,
            password=cfg.rithmic_password,
            system_name=cfg.rithmic_system,
            app_name="refmw",
            app_version="1.0",
            url=cfg.rithmic_url,
            reconnection_settings=ReconnectionSettings(
                max_retries=retries,
                backoff_type="constant",
                interval=cfg.reconnect_interval_s,
                jitter_range=(0.0, 0.2),
            ),
            retry_settings=RetrySettings(
                max_retries=2, timeout=cfg.request_timeout_s, jitter_range=(0.05, 0.2)
            ),
        )
        live = secrets if secrets is not None else SecretSource.from_config(cfg)
        self.client.credentials = LiveCredentials(self.client.credentials, live)
        if cfg.rithmic_url.startswith("ws://"):
            self.client.ssl_context = None  # the library always builds a wss context
        rithmic_requests.install(self.client)  # notifications cost O(1), not O(requests in flight)
        rithmic_debug.install()  # no dict built per message for a debug line nobody reads
        self.connected_once = False
        self.last_rx: dict[str, float] = dict.fromkeys(PLANTS, 0.0)
        self.last_probe: dict[str, float] = dict.fromkeys(PLANTS, 0.0)
        self.last_quote_at = 0.0
        self.tripped: dict[str, int] = dict.fromkeys(PLANTS, 0)
        self.reconnects: dict[str, int] = dict.fromkeys(PLANTS, 0)
        self.reconciles = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        # Notifications of one order are handled one at a time and in arrival order; different
        # orders go to different lanes, so a busy open is not a single queue of database writes.
        self._lanes: list[asyncio.Queue[tuple[Any, str | None]]] = [
            asyncio.Queue() for _ in range(max(1, cfg.notify_lanes))
        ]
        self.fills = FillsInFlight()  # fills reported, not yet booked: new orders wait for them
        for name in PLANTS:
            self._stamp_receive(name)
            rithmic_login.fail_fast_login(self.client.plants[name])  # no 30 s stall on a re-login
        self.client.on_connected += self._connected
        self.client.on_exchange_order_notification += self._notification
        self.client.on_tick += self._tick
        self.client.on_account_pnl_update += self._account_pnl

    # ------------------------------------------------------------------ lifecycle
    async def start(self, wait_s: float = 5.0) -> None:
        """Connect in the background; wait up to `wait_s` for the first login, then serve regardless
        (degraded: orders 503, admin up) while the connection keeps being retried."""
        first = self._spawn(self._connect_loop())
        for lane in self._lanes:
            self._spawn(self._consume(lane))
        if not self.cfg.mutant("no_watchdog"):
            self._spawn(self._watchdog())
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(first), wait_s)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.client.disconnect(timeout=1.0), 3.0)

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _connect_loop(self) -> None:
        """The first connection: the library only reconnects plants that once logged in."""
        attempt = 0
        while True:
            attempt += 1
            try:
                await asyncio.wait_for(self.client.connect(plants=INFRA), CONNECT_TIMEOUT_S)
                break
            except Exception as exc:  # the library raises anything from AttributeError to OSError
                log.warning("rithmic connect attempt %d failed: %s", attempt, exc)
                for plant in self.client.plants.values():
                    with contextlib.suppress(Exception):
                        await plant._stop_background_tasks()
                    with contextlib.suppress(Exception):
                        await plant._disconnect(trigger_event=False)
                await asyncio.sleep(min(0.5 * attempt, 5.0))
        try:
            # The library records each subscription before sending it, so a drop here is healed by
            # its resubscription on reconnect.
            for symbol, exchange in self.cfg.symbols:
                await self.client.subscribe_to_market_data(
                    symbol, exchange, DataType.LAST_TRADE | DataType.BBO
                )
            await self.client.subscribe_to_pnl_updates()
        except Exception as exc:
            log.warning("subscribing after connect failed (resubscribed on reconnect): %s", exc)
        try:
            await self._on_reconnected()  # seed accounts and reconcile before anyone sees "up"
        except Exception:
            log.exception("start-up reconciliation failed")
        self.connected_once = True
        log.info("rithmic connected: accounts %s", self.accounts())

    # ------------------------------------------------------------------ state
    def accounts(self) -> list[str]:
        accounts = self.client.plants["order"].accounts or []
        return [a.account_id for a in accounts]

    def plant_up(self, name: str) -> bool:
        plant = self.client.plants[name]
        return bool(self.connected_once and plant.is_connected and plant._reconnected_event.is_set())

    def status(self) -> dict[str, Any]:
        now = time.monotonic()
        plants = {
            name: {
                "up": self.plant_up(name),
                "idle_s": round(now - self.last_rx[name], 3) if self.last_rx[name] else None,
                "watchdog_trips": self.tripped[name],
                "reconnects": self.reconnects[name],
            }
            for name in PLANTS
        }
        return {
            "status": "up" if self.plant_up("order") else "down",
            "plants": plants,
            "last_quote_age_s": round(now - self.last_quote_at, 3) if self.last_quote_at else None,
            "reconciles": self.reconciles,
        }

    def require_order_plant(self) -> None:
        if not self.plant_up("order"):
            raise VenueDown("rithmic order plant is not connected")

    # ------------------------------------------------------------------ requests
    async def submit(
        self,
        tag: str,
        account: str,
        symbol: str,
        exchange: str,
        side: str,
        qty: int,
        order_type: str,
        limit_price: float | None,
    ) -> list[Any]:
        """Send one new order (312); the 313 rows, or [] when the venue rejected it."""
        extra: dict[str, Any] = {"account_id": account}
        if order_type == "LIMIT":
            extra["price"] = float(limit_price or 0)
        result: list[Any] = await self.client.plants["order"].submit_order(
            tag,
            symbol,
            exchange,
            qty,
            TransactionType.BUY if side == "BUY" else TransactionType.SELL,
            OrderType.LIMIT if order_type == "LIMIT" else OrderType.MARKET,
            **extra,
        )
        return result

    async def cancel(self, basket_id: str, account: str) -> list[Any]:
        """Cancel one working order (316); the 317 rows, or [] when the venue refused it (the
        library only logs the refusal). The outcome itself arrives as a 352 notification."""
        result: list[Any] = await self.client.plants["order"].cancel_order(
            basket_id=basket_id, account_id=account
        )
        return result

    async def show_orders(self, account: str) -> list[Any]:
        result: list[Any] = await self.client.plants["order"].list_orders(account_id=account)
        return result

    async def account_pnl_snapshot(self) -> list[Any]:
        result: list[Any] = await self.client.plants["pnl"].list_account_summary()
        return result

    # ------------------------------------------------------------------ callbacks
    def _stamp_receive(self, name: str) -> None:
        plant = self.client.plants[name]
        original = plant._recv

        async def stamped() -> Any:
            buffer = await original()
            self.last_rx[name] = time.monotonic()
            return buffer

        plant._recv = rithmic_drain.draining(plant, stamped)

    def _connected(self, plant_type: str) -> None:
        self.last_rx[plant_type] = time.monotonic()
        if not self.connected_once:
            return
        self.reconnects[plant_type] = self.reconnects.get(plant_type, 0) + 1
        log.info("rithmic %s plant logged in again", plant_type)
        if plant_type == "ticker" and self.cfg.mutant("reconnect_no_resubscribe"):
            self.client.plants["ticker"]._subscriptions["market_data"].clear()
        if plant_type == "order" and not self.cfg.mutant("no_reconcile"):
            self._spawn(self._reconcile_when_ready())

    async def _reconcile_when_ready(self) -> None:
        plant = self.client.plants["order"]
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(plant._reconnected_event.wait(), 30)
        await asyncio.sleep(0.05)
        if not self.plant_up("order"):
            return
        try:
            await self._on_reconnected()
            self.reconciles += 1
        except Exception:
            log.exception("reconciliation after reconnect failed")

    async def _notification(self, message: Any) -> None:
        key = str(message.user_tag or "") or str(message.basket_id or "")
        # a fill is counted in flight as it arrives, so risk checks wait for its booking
        fill = int(getattr(message, "notify_type", 0) or 0) == NOTIFY_FILL
        account = self.fills.received(str(message.user_tag or "")) if fill else None
        await self._lanes[zlib.crc32(key.encode()) % len(self._lanes)].put((message, account))

    async def _consume(self, lane: asyncio.Queue[tuple[Any, str | None]]) -> None:
        """One lane's notifications, one at a time and in arrival order, off the plant's own loop."""
        while True:
            message, account = await lane.get()
            try:
                await self._on_notification(message)
            except Exception:
                log.exception("order notification failed")
            finally:
                self.fills.handled(account)

    def _tick(self, data: dict[str, Any]) -> None:
        self.last_quote_at = time.monotonic()
        self._on_quote(data)

    def _account_pnl(self, message: Any) -> None:
        self._on_account_pnl(message)

    # ------------------------------------------------------------------ watchdog
    async def _watchdog(self) -> None:
        """Probe idle plants with a heartbeat; abort a plant mute for longer than the bound."""
        while True:
            await asyncio.sleep(0.25)
            now = time.monotonic()
            for name in PLANTS:
                if not self.plant_up(name):
                    continue
                plant = self.client.plants[name]
                idle = now - self.last_rx[name]
                if idle > self.cfg.watchdog_s:
                    self.tripped[name] += 1
                    log.warning("rithmic %s plant silent for %.1fs: dropping the connection", name, idle)
                    with contextlib.suppress(Exception):
                        plant.ws.transport.abort()
                    continue
                if idle > 1.0 and now - self.last_probe[name] > 1.0:
                    self.last_probe[name] = now
                    self._spawn(self._probe(plant))

    @staticmethod
    async def _probe(plant: Any) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(plant._send_heartbeat(), 1.0)

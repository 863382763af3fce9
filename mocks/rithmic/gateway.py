"""`RithmicGateway`: an R|Protocol gateway (protobuf over WebSocket) for the async-rithmic client.

It serves the ticker, order, PnL and history plants' logins, the order-plant login sequence, market data
streamed from seeded price paths, orders matched against those paths with their notification
sequences, and PnL. Protocol faults are armed through the shared control API (see faults.py); every
order and fill is recorded in the venue ledger. A bad frame gets a Reject (75) and never affects other
connections.
"""

from __future__ import annotations

import asyncio
import logging
import random
import shutil
import tempfile
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import websockets
from aiohttp import web
from websockets.asyncio.server import Server, ServerConnection, serve

from mocks.common import FaultKind, MockVenue, Route
from mocks.common.credentials import CredentialRing, credential_routes

from ..common.tls import server_context, write_self_signed
from . import faults as rfaults
from .clock import MarketClock
from .feed import Feed
from .handlers import NOT_LOGGED_IN, PRE_LOGIN, SHARED, Handler
from .history import PriceHistory, serve_history
from .market import INSTRUMENTS, Market
from .order_plant import ORDER_PLANT, complete_note, fill_note, ledger_fill
from .orders import Execution, MatchingEngine, Order
from .pnl import PnlBook
from .protocol import TEMPLATES_MAP, FrameError, Message, build, decode, detect_prefixed, reply
from .regimes import Regimes
from .session import Session

HANDLERS: dict[int, Handler] = {**SHARED, **ORDER_PLANT}
SYSTEMS = ("Rithmic Test", "Rithmic Paper Trading", "Rithmic 01")


def rotated_password(seed: int, generation: int) -> str:
    """Generation `generation` (1 and up) of the rotated user's password, fixed by the seed."""
    return f"pw-{random.Random(f'{seed}:password:{generation}').getrandbits(48):012x}"


class RithmicGateway(MockVenue):
    name = "rithmic"

    def __init__(
        self,
        seed: int = 0,
        *,
        users: dict[str, tuple[str, list[str]]] | None = None,
        traders: int = 0,
        system_name: str = "Rithmic Test",
        heartbeat_interval: float = 30.0,
        ticks_per_second: float = 10.0,
        tls: bool = False,
        max_sessions: int = 8,
    ) -> None:
        super().__init__(seed)
        self.log = logging.getLogger("mocks.rithmic")
        self.system_name = system_name
        self.systems = [system_name, *(s for s in SYSTEMS if s != system_name)]
        self.heartbeat_interval = heartbeat_interval
        self.ticks_per_second = ticks_per_second
        self.tls = tls
        self.max_sessions = max_sessions
        self.fcm_id, self.ib_id = "UATFCM", "UATIB"
        secret = random.Random(f"{seed}:password").getrandbits(48)
        self.user_accounts: dict[str, list[str]] = {}
        self.users: dict[str, str] = {}
        for user, (password, accounts) in (
            users or {"uat-trader": (f"pw-{secret:012x}", ["UAT-0001"])}
        ).items():
            self.users[user], self.user_accounts[user] = password, list(accounts)
        for i in range(1, traders + 1):
            self.users[f"trader{i:04d}"] = f"pw{i:04d}-{secret:012x}"
            self.user_accounts[f"trader{i:04d}"] = [f"TR-{i:05d}"]
        # Rotation covers the password of the user describe() names; the others' stay fixed.
        self.ring_user = next(iter(self.users))
        first = self.users[self.ring_user]
        self.passwords = CredentialRing("password", lambda g: first if g == 0 else rotated_password(seed, g))
        self.market = Market(seed, INSTRUMENTS)
        self.engine = MatchingEngine(self.market)
        self.pnl = PnlBook(self.market)
        self.feed = Feed()
        self.regimes = Regimes(self)
        self.history = PriceHistory()
        self.sessions: set[Session] = set()
        self.cert_path: Path | None = None
        self._tls_dir: Path | None = None
        self._server: Server | None = None
        self._clock: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._held: set[asyncio.TimerHandle] = set()
        self.clock = MarketClock(self)

    # ---------------------------------------------------------------- MockVenue
    def fault_catalogue(self) -> list[FaultKind]:
        return rfaults.catalogue()

    @property
    def scheme(self) -> str:
        return "wss" if self.tls else "ws"

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        ssl_ctx = None
        if self.tls:
            self._tls_dir = Path(tempfile.mkdtemp(prefix="rithmic-mock-tls-"))
            self.cert_path, key_path = write_self_signed(self._tls_dir)
            ssl_ctx = server_context(self.cert_path, key_path)
        self._server = await serve(
            self._handle,
            host,
            port,
            ssl=ssl_ctx,
            compression=None,
            max_size=1 << 20,
            max_queue=64,
            close_timeout=2,
        )
        self.host = host
        self.port = next(iter(self._server.sockets)).getsockname()[1]
        self._clock = asyncio.create_task(self.clock.run(), name="rithmic-clock")
        self.log.info("rithmic gateway on %s", self.url)

    async def stop(self) -> None:
        if self._clock is not None:
            self._clock.cancel()
            await asyncio.gather(self._clock, return_exceptions=True)
            self._clock = None
        self._cancel_held()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._tls_dir is not None:
            shutil.rmtree(self._tls_dir, ignore_errors=True)
            self._tls_dir = None

    async def on_reset(self) -> None:
        self._cancel_held()
        self.market.reset()
        self.engine.reset()
        self.pnl.reset()
        self.feed.frozen.clear()
        self.feed.gap_left.clear()
        self.regimes.reset()
        self.history.clear()
        self.clock.steps = 0
        self.passwords.reset()
        self._sync_password()

    def _sync_password(self) -> None:
        self.users[self.ring_user] = self.passwords.current

    def describe(self) -> dict[str, Any]:
        user = self.ring_user
        return {
            "system_name": self.system_name,
            "user": user,
            "password": self.users[user],
            "accounts": list(self.user_accounts[user]),
            "symbols": [
                {
                    "symbol": i.symbol,
                    "exchange": i.exchange,
                    "point_value": i.point_value,
                    "fee_per_contract": i.fee_per_contract,
                }
                for i in self.market.instruments.values()
            ],
            "tls": self.tls,
            "cert": str(self.cert_path) if self.cert_path else None,
            "traders": len(self.users) - 1,
        }

    def control_routes(self) -> list[Route]:
        return [
            ("GET", "/stats", self._stats),
            ("GET", "/market/history", self._history),
            *credential_routes(self, self.passwords, self._sync_password),
        ]

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats())

    async def _history(self, request: web.Request) -> web.Response:
        return await serve_history(self.market, self.history, request)

    def stats(self) -> dict[str, Any]:
        """Load figures: sessions by plant, fan-out counters and market-step timings."""
        plants: dict[str, int] = {}
        for session in self.sessions:
            plants[session.plant or "pre-login"] = plants.get(session.plant or "pre-login", 0) + 1
        return {"sessions": plants, "feed": self.feed.stats(), "clock": self.clock.stats()}

    # ---------------------------------------------------------------- helpers for the handlers
    def accounts_of(self, user: str) -> list[str]:
        return self.user_accounts.get(user, [])

    def is_silenced(self, session: Session) -> bool:
        fault = self.faults.active("silent")
        if fault is None or not session.matches(fault.params["plant"]):
            return False
        if not fault.fired:  # a mode is reported fired once, when it first holds something back
            fault.fired = 1
            self.events.add("fault_fired", fault="silent", session=session.id, plant=session.plant)
        return True

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def forget_subscriptions(self, session: Session) -> None:
        self.feed.drop_session(session)
        session.order_accounts.clear()
        session.bracket_accounts.clear()
        session.pnl_accounts.clear()

    def notify(self, order: Order, messages: list[Message]) -> None:
        """Send order notifications to every order-plant session subscribed to the order's account."""
        for session in list(self.sessions):
            if session.plant == "order" and order.account_id in session.order_accounts:
                for message in messages:
                    session.send(message)

    def deliver_fills(self, fills: list[Execution]) -> None:
        """Send each fill's notifications, now or late when held; the notifications are built now, so a
        held fill reports the order as it stood when it executed. An order fills at most once per match,
        so the fill that finished it is its last and carries the COMPLETE notification."""
        for ex in fills:
            messages = [fill_note(self, ex)]
            if not ex.order.is_working:
                messages.append(complete_note(self, ex.order))
            held = self.faults.take("hold_fills")
            if held is not None:
                delay = held.params["delay_ms"] / 1000
                self.events.add("fault_fired", fault="hold_fills", fill_id=ex.fill_id, delay_ms=delay * 1000)
                self._hold(delay, ex, messages)
            else:
                self._send_fill(ex, messages)

    def _hold(self, delay: float, ex: Execution, messages: list[Message]) -> None:
        def fire() -> None:
            self._held.discard(handle)
            self._send_fill(ex, messages)

        handle = asyncio.get_running_loop().call_later(delay, fire)
        self._held.add(handle)

    def _send_fill(self, ex: Execution, messages: list[Message]) -> None:
        """Positions and the ledger change as the fill goes out, so they always agree with each other."""
        order = ex.order
        self.pnl.apply_fill(
            order.account_id, order.symbol, order.exchange, order.side == 1, ex.size, ex.price
        )
        fee = self.market.instruments[(order.symbol, order.exchange)].fee_per_contract
        row = self.ledger.add_fill(ledger_fill(ex, fee))
        closing = self.ledger.orders.get(order.basket_id)
        if closing is not None and closing.status == "filled" and closing.closed_at is None:
            closing.closed_at = row.sent_at  # final at the fill that completes it, as it goes out
        self.events.add("fill", fill_id=ex.fill_id, basket_id=ex.order.basket_id, qty=ex.size, price=ex.price)
        self.notify(ex.order, messages)
        if self.faults.take("duplicate_fill") is not None:
            self.events.add("fault_fired", fault="duplicate_fill", fill_id=ex.fill_id)
            self.ledger.add_fill(ledger_fill(ex, duplicate_of=ex.fill_id))
            self.notify(ex.order, messages[:1])
        self.push_pnl(ex.order.account_id, ex.order.symbol, ex.order.exchange)

    def push_pnl(self, account: str, symbol: str | None = None, exchange: str | None = None) -> None:
        targets = [s for s in self.sessions if s.plant == "pnl" and account in s.pnl_accounts]
        if not targets:
            return
        updates = [
            self.pnl.instrument_update(p, self.fcm_id, self.ib_id, snapshot=False)
            for p in self.pnl.for_account(account)
            if symbol is None or (p.instrument.symbol, p.instrument.exchange) == (symbol, exchange)
        ]
        updates.append(self.pnl.account_update(account, self.fcm_id, self.ib_id, snapshot=False))
        for session in targets:
            for message in updates:
                session.send(message)

    def _cancel_held(self) -> None:
        for handle in self._held:
            handle.cancel()
        self._held.clear()

    async def enforce_session_limit(self, newest: Session) -> None:
        fault = self.faults.active("session_limit")
        if fault is None:
            return
        mine = sorted(
            (s for s in self.sessions if s.logged_in and s.user == newest.user and s.is_open),
            key=lambda s: s.logged_in_at,
        )
        excess = len(mine) - fault.params["max_sessions"]
        for victim in mine[: max(excess, 0)]:
            fault.fired += 1
            self.events.add("fault_fired", fault="session_limit", session=victim.id, plant=victim.plant)
            victim.send(build(77))
            if fault.params["close"]:
                self.spawn(victim.close(1000, "forced logout: session limit"))

    # ---------------------------------------------------------------- connection handling
    async def _handle(self, ws: ServerConnection) -> None:
        session = Session(self, ws)
        self.sessions.add(session)
        self.events.add("connect", session=session.id, peer=session.peer)
        try:
            async for buf in ws:
                session.received += 1
                await self._dispatch(session, buf)
        except websockets.ConnectionClosed:
            pass
        except Exception:  # never let one connection's trouble reach the server
            self.log.exception("session %r failed", session)
        finally:
            self.sessions.discard(session)
            self.forget_subscriptions(session)
            self.events.add("disconnect", session=session.id, plant=session.plant, user=session.user)

    async def _dispatch(self, session: Session, buf: str | bytes) -> None:
        if self.is_silenced(session):
            return
        if isinstance(buf, str):
            return self._reject(session, FrameError("text frames are not R|Protocol; send binary"))
        try:
            prefixed = session.prefixed if session.prefixed is not None else detect_prefixed(buf)
            template_id, message = decode(buf, prefixed)
        except FrameError as exc:
            return self._reject(session, exc)
        session.prefixed = prefixed
        if not session.logged_in and template_id not in PRE_LOGIN:
            session.send(reply(75, message, rp_code=NOT_LOGGED_IN))
            return
        handler = HANDLERS.get(template_id)
        if handler is None:
            self._unsupported(session, template_id, message)
            return
        try:
            await handler(self, session, message)
        except Exception:
            self.log.exception("handler for template %d failed on %r", template_id, session)
            session.send(reply(75, message, rp_code=["1", f"mock: internal error on template {template_id}"]))

    def _reject(self, session: Session, exc: FrameError) -> None:
        session.bad_frames += 1
        self.events.add("bad_frame", session=session.id, reason=exc.reason)
        session.send(build(75, user_msg=exc.user_msg, rp_code=["3", f"bad frame: {exc.reason}"]))

    def _unsupported(self, session: Session, template_id: int, message: Message) -> None:
        """Requests the mock does not model get "no data" (7); anything else that is not a request, 75."""
        response = TEMPLATES_MAP.get(template_id + 1)
        if template_id % 2 == 0 and response is not None and "rp_code" in response.DESCRIPTOR.fields_by_name:
            session.send(reply(template_id + 1, message, rp_code=["7", "no data (not modelled by the mock)"]))
        else:
            session.send(reply(75, message, rp_code=["3", f"template {template_id} is not a request"]))

"""`CQGGateway`: a CQG WebAPI server (one binary protobuf ClientMsg / ServerMsg per WebSocket frame).

It serves logon, restore-or-join, logoff and heartbeats (logon.py), symbol resolution and market data on
the shared seeded price paths (market_data.py), trade subscriptions and orders (trading.py), the
documented protocol limits, and the faults in faults.py. A bad frame gets a UserMessage naming what is
wrong (and a close before logon); it never affects other connections.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Coroutine
from typing import Any

import websockets
from aiohttp import web
from websockets.asyncio.server import Server, ServerConnection, serve

from mocks.common import FaultKind, MockVenue, Route
from mocks.rithmic.history import PriceHistory, serve_history
from mocks.rithmic.market import Market
from mocks.rithmic.orders import MatchingEngine
from mocks.rithmic.regimes import Regimes

from . import faults as cfaults
from . import logon as session_msgs
from . import market_data as md
from . import protocol as p
from . import trade_subscriptions, trading
from .clock import GatewayClock
from .config import CQGConfig
from .market_data import Contracts
from .orders import OrderBook
from .proto import webapi_pb2 as pb
from .session import Logon, Session

HOUSE_ACCOUNTS = (10001, 10002, 10003, 10004)  # the default login's accounts


class CQGGateway(MockVenue):
    name = "cqg"

    def __init__(
        self,
        seed: int = 0,
        *,
        users: dict[str, tuple[str, list[int]]] | None = None,
        traders: int = 0,
        ticks_per_second: float = 10.0,
        config: CQGConfig | None = None,
    ) -> None:
        super().__init__(seed)
        self.log = logging.getLogger("mocks.cqg")
        self.config = config or CQGConfig()
        self._initial_config = CQGConfig(**self.config.to_json())
        self.ticks_per_second = ticks_per_second
        secret = random.Random(f"{seed}:cqg-password").getrandbits(48)
        self.users: dict[str, str] = {}
        self.user_accounts: dict[str, list[int]] = {}
        # the firm's login has several accounts: CQG caps orders per account (10 a second by default)
        default = {"uat-trader": (f"pw-{secret:012x}", list(HOUSE_ACCOUNTS))}
        for user, (password, accounts) in (users or default).items():
            self.users[user], self.user_accounts[user] = password, list(accounts)
        for i in range(1, traders + 1):
            self.users[f"trader{i:04d}"] = f"pw{i:04d}-{secret:012x}"
            self.user_accounts[f"trader{i:04d}"] = [20000 + i]
        self.user_ids = {user: 5000 + i for i, user in enumerate(self.users, start=1)}
        self.market = Market(seed)
        self.contracts = Contracts(self.market)
        self.engine = MatchingEngine(self.market)
        self.regimes = Regimes(self)  # the market regimes armed as faults shape each step
        self.history = PriceHistory()  # every step, for the checks that hold prices and P&L to it
        self.book = OrderBook()
        self.time = p.TimeBase()
        self.sessions: set[Session] = set()
        self.logons: dict[str, Logon] = {}
        self._server: Server | None = None
        self._clock: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._held: set[asyncio.TimerHandle] = set()
        self.clock = GatewayClock(self)

    # ---------------------------------------------------------------- MockVenue
    def fault_catalogue(self) -> list[FaultKind]:
        return cfaults.catalogue()

    @property
    def scheme(self) -> str:
        return "ws"

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = await serve(
            self._handle,
            host,
            port,
            compression=None,
            max_size=1 << 20,
            max_queue=64,
            close_timeout=2,
            ping_interval=None,
        )
        self.host = host
        self.port = next(iter(self._server.sockets)).getsockname()[1]
        self._clock = asyncio.create_task(self.clock.run(), name="cqg-clock")
        self.log.info("cqg gateway on %s", self.url)

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

    async def on_reset(self) -> None:
        self._cancel_held()
        self.market.reset()
        self.engine.reset()
        self.regimes.reset()
        self.history.clear()
        self.book.reset()
        self.logons.clear()
        self.clock.reset()
        self.config = CQGConfig(**self._initial_config.to_json())
        for session in list(self.sessions):
            self.kick(session, "mock reset", reason=p.OFF_FORCED)

    def describe(self) -> dict[str, Any]:
        user = next(iter(self.users))
        return {
            "user": user,
            "password": self.users[user],
            "accounts": list(self.user_accounts[user]),
            "contracts": [
                {
                    "contract_id": c.contract_id,
                    "symbol": c.instrument.symbol,
                    "exchange": c.instrument.exchange,
                }
                for c in self.contracts.by_id.values()
            ],
            "protocol_version": f"{p.PROTOCOL_MAJOR}.{p.PROTOCOL_MINOR}",
            "traders": len(self.users) - 1,
        }

    def control_routes(self) -> list[Route]:
        return [
            ("GET", "/stats", self._stats),
            ("GET", "/market/history", self._history),
            *self.settings_routes(lambda: self.config),
        ]

    async def _history(self, request: web.Request) -> web.Response:
        return await serve_history(self.market, self.history, request)

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "sessions": len(self.sessions),
                "logged_on": sum(1 for s in self.sessions if s.logged_on),
                "restorable": len(self.logons),
                "steps": self.clock.steps,
                "dropped_ticks": sum(s.dropped_ticks for s in self.sessions),
            }
        )

    # ---------------------------------------------------------------- context for the handlers
    def now_ms(self) -> int:
        return self.time.ms()

    def note(self, kind: str, **detail: object) -> None:
        self.events.add(kind, **detail)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def later(self, delay: float, fn: Callable[[], None]) -> None:
        def fire() -> None:
            self._held.discard(handle)
            fn()

        handle = asyncio.get_running_loop().call_later(delay, fire)
        self._held.add(handle)

    def _cancel_held(self) -> None:
        for handle in self._held:
            handle.cancel()
        self._held.clear()

    def mode_for(self, name: str, session: Session) -> bool:
        """Whether a per-user mode (`silent`, `no_pong`) holds for this logged-on session."""
        fault = self.faults.active(name)
        if fault is None or not session.logged_on or fault.params["user"] not in ("", session.user):
            return False
        if not fault.fired:  # a mode is reported fired once, when it first takes effect
            fault.fired = 1
            self.events.add("fault_fired", fault=name, session=session.id, user=session.user)
        return True

    def is_silenced(self, session: Session) -> bool:
        return self.mode_for("silent", session)

    def kick(self, session: Session, text: str, reason: int = p.OFF_REASSIGNED) -> None:
        """LoggedOff, then a close: the session's logon is not restorable afterwards."""
        self.events.add("kicked", session=session.id, user=session.user, text=text)
        session.send(p.server(logged_off=pb.LoggedOff(logoff_reason=reason, text_message=text)))
        if session.logon is not None:
            self.logons.pop(session.logon.token, None)
        self.spawn(session.close(1000, text[:100]))

    def expire_logons(self) -> None:
        now = time.monotonic()
        for token, state in list(self.logons.items()):
            if state.released_at is not None and now - state.released_at > self.config.restore_window_s:
                del self.logons[token]

    # ---------------------------------------------------------------- connections
    async def _handle(self, ws: ServerConnection) -> None:
        session = Session(self, ws)
        self.sessions.add(session)
        self.events.add("connect", session=session.id, peer=session.peer)
        try:
            async for buf in ws:
                await self.dispatch(session, buf)
        except websockets.ConnectionClosed:
            pass
        except Exception:  # never let one connection's trouble reach the server
            self.log.exception("session %r failed", session)
        finally:
            self.sessions.discard(session)
            session.forget_subscriptions()
            self.events.add("disconnect", session=session.id, user=session.user)
            session_msgs.detach(self, session)

    async def dispatch(self, session: Session, buf: str | bytes) -> None:
        """Handle one client frame."""
        if session.closing or self.is_silenced(session):
            return
        if not self._within_message_limit(session):
            return
        try:
            msg = p.decode(buf)
        except p.FrameError as exc:
            return self._bad_frame(session, exc)
        try:
            if session.logged_on:
                self._logged_on(session, msg)
            else:
                self._first_message(session, msg)
        except Exception:
            self.log.exception("handling a message on %r failed", session)
            self.user_message(session, "mock: internal error handling this message", p.USER_CRITICAL)

    def _within_message_limit(self, session: Session) -> bool:
        """1,000 client messages per 10 s (configurable); past it a user message and a close."""
        now, window = time.monotonic(), session.received
        window.append(now)
        while window and now - window[0] > self.config.message_window_s:
            window.popleft()
        if len(window) <= self.config.max_messages:
            return True
        self.rate_limit_close(session)
        return False

    def rate_limit_close(self, session: Session) -> None:
        self.events.add("rate_limit_close", session=session.id, user=session.user)
        self.user_message(
            session,
            f"message limit exceeded: more than {self.config.max_messages} messages "
            f"in {self.config.message_window_s:g} s; closing the connection",
            p.USER_CRITICAL,
        )
        self.spawn(session.close(p.POLICY_VIOLATION, "message limit exceeded"))

    def user_message(self, session: Session, text: str, message_type: int = p.USER_WARNING) -> None:
        notice = pb.UserMessage(message_type=message_type, source="cqg-mock", subject="protocol", text=text)
        session.send(p.server(user_messages=[notice]))

    def _bad_frame(self, session: Session, exc: p.FrameError) -> None:
        session.bad_frames += 1
        self.events.add("bad_frame", session=session.id, field=exc.field, reason=exc.reason)
        self.user_message(session, f"bad frame: {exc}", p.USER_CRITICAL)
        if not session.logged_on:
            self.spawn(session.close(p.POLICY_VIOLATION, "bad frame before logon"))

    def _first_message(self, session: Session, msg: pb.ClientMsg) -> None:
        """The first and only message before logon: a Logon or a RestoreOrJoinSession, alone."""
        names = [f.name for f, _ in msg.ListFields()]
        if names == ["logon"]:
            session_msgs.logon(self, session, msg.logon)
        elif names == ["restore_or_join_session"]:
            session_msgs.restore_or_join(self, session, msg.restore_or_join_session)
        else:
            self.events.add("not_logged_on", session=session.id, fields=names)
            self.user_message(
                session,
                f"{names[0]}: the first message must be a logon or a restore-or-join, alone in its ClientMsg",
                p.USER_CRITICAL,
            )
            self.spawn(session.close(p.POLICY_VIOLATION, "logon first"))

    def _logged_on(self, session: Session, msg: pb.ClientMsg) -> None:
        if msg.HasField("ping"):
            session_msgs.ping(self, session, msg.ping)
        if msg.HasField("pong"):
            session_msgs.pong(self, session, msg.pong)
        if msg.HasField("logon"):
            session_msgs.logon(self, session, msg.logon)
        if msg.HasField("restore_or_join_session"):
            session_msgs.restore_or_join(self, session, msg.restore_or_join_session)
        for request in msg.information_requests:
            session.send(p.server(information_reports=[md.resolve(self.contracts, request)]))
        for sub in msg.market_data_subscriptions:
            for out in md.subscribe(
                self.contracts, session, sub, self.config.max_market_data_subscriptions, self.now_ms()
            ):
                session.send(out)
        for tsub in msg.trade_subscriptions:
            for out in trade_subscriptions.trade_subscription(self, session, tsub):
                session.send(out)
        for order_request in msg.order_requests:
            trading.order_request(self, session, order_request)
        if msg.HasField("logoff"):
            session_msgs.logoff(self, session, msg.logoff)

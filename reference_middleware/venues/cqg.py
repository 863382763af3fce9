"""CQG WebAPI over one WebSocket: logon, restore-or-join after a reconnect, heartbeats both ways, symbol
resolution, market data, trade subscriptions and orders, with what a careful client adds.

- Every frame is one binary ServerMsg; a text frame or an undecodable one is counted and reported
  (`protocol_errors`), never fatal: the connection goes on.
- The server's pings are answered; our own go out every `ping_interval_s`, and a server whose pong is
  `pong_timeout_s` late has its socket aborted, so a silent gateway is seen as down.
- `reconnect()` restores the session by its token (logon setting "allow restore"); a restore refused as
  unknown (101) falls back to a full logon. Either way every subscription is sent again, as the protocol
  requires, and the trade snapshots re-fill the order and position views.
- Order statuses are applied idempotently: a transaction (trans_id) already seen is ignored, and a status
  never moves an order backwards (fewer fills, or out of a final state), so duplicate and out-of-order
  statuses leave the same picture. Fills are kept once per trade id.

The schema is the project's own subset (mocks/cqg/proto/webapi.proto): no CQG package ships one.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from google.protobuf.message import DecodeError
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from mocks.cqg.proto import webapi_pb2 as pb

log = logging.getLogger("refmw.cqg")

PROTOCOL = (2, 230)
MKT, LMT, STP, STL = 1, 2, 3, 4
BUY, SELL = 1, 2
WORKING, FILLED, CANCELLED, REJECTED, EXPIRED = 3, 8, 7, 2, 4
FINAL = frozenset({FILLED, CANCELLED, REJECTED, EXPIRED})
SCOPE_ORDERS, SCOPE_POSITIONS = 1, 2


class CQGError(RuntimeError):
    """A refusal from the server (`code` its result or status code) or a lost connection (`code` None)."""

    def __init__(self, message: str, code: int | None = None, redirect_url: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.redirect_url = redirect_url


def to_decimal(value: int | Decimal) -> pb.Decimal:
    sign, digits, exponent = Decimal(value).normalize().as_tuple()
    assert isinstance(exponent, int)
    significand = int("".join(map(str, digits))) * (-1 if sign else 1)
    return pb.Decimal(significand=significand, exponent=exponent)


def from_decimal(d: pb.Decimal) -> Decimal:
    return Decimal(d.significand).scaleb(d.exponent)


@dataclass(frozen=True)
class ContractInfo:
    contract_id: int
    symbol: str
    scale: float  # price = scaled * scale
    tick_size: float

    def scaled(self, price: float) -> int:
        return round(price / self.scale)

    def price(self, scaled: int) -> float:
        return scaled * self.scale


@dataclass
class OrderView:
    order_id: str
    cl_order_id: str
    chain_order_id: str
    account_id: int
    contract_id: int
    status: int
    fill_qty: Decimal
    fill_cnt: int
    avg_fill_price: float
    remaining_qty: Decimal
    cl_ids: set[str] = field(default_factory=set)  # every cl_order_id of the chain
    seen_trans: set[int] = field(default_factory=set)


@dataclass(frozen=True)
class Fill:
    order_id: str
    cl_order_id: str
    trade_id: str
    qty: Decimal
    scaled_price: int


class CQGClient:
    def __init__(
        self,
        url: str,
        user: str,
        password: str,
        *,
        client_app_id: str = "refmw",
        ping_interval_s: float = 10.0,
        pong_timeout_s: float = 20.0,
        request_timeout_s: float = 5.0,
    ) -> None:
        self.url, self.user, self.password = url, user, password
        self.client_app_id = client_app_id
        self.ping_interval_s, self.pong_timeout_s = ping_interval_s, pong_timeout_s
        self.request_timeout_s = request_timeout_s
        self.ws: ClientConnection | None = None
        self.session_token = ""
        self.base_time = ""
        self.logon_result: pb.LogonResult | None = None
        self.orders: dict[str, OrderView] = {}
        self.fills: dict[str, Fill] = {}
        self.positions: dict[tuple[int, int], Decimal] = {}  # (account, contract) -> signed net
        self.quotes: dict[int, dict[str, int]] = {}  # contract_id -> trade/bid/ask scaled prices
        self.user_messages: list[str] = []
        self.logged_off: pb.LoggedOff | None = None
        self.protocol_errors: list[str] = []
        self.pings_answered = 0
        self.on_message: list[Callable[[pb.ServerMsg], None]] = []
        self._ids = itertools.count(1)
        self._waiters: dict[tuple[str, int], asyncio.Future[Any]] = {}
        self._md_subs: dict[int, int] = {}  # contract_id -> level
        self._trade_subs: dict[int, tuple[list[int], int | None]] = {}  # id -> (scopes, account)
        self._pending_ping: tuple[str, float] | None = None
        self._last_ping = 0.0
        self._tasks: list[asyncio.Task[None]] = []
        self._pongs: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------ connection
    @property
    def connected(self) -> bool:
        return self.ws is not None and self.ws.state.name == "OPEN"

    async def connect(self) -> pb.LogonResult:
        """Open the socket and log on (allowing restore); CQGError with the result code on refusal."""
        logon = pb.Logon(
            user_name=self.user,
            password=self.password,
            client_app_id=self.client_app_id,
            client_version="1.0",
            protocol_version_major=PROTOCOL[0],
            protocol_version_minor=PROTOCOL[1],
            session_settings=[1],
        )
        reply = await self._open(pb.ClientMsg(logon=logon), "logon_result")
        result: pb.LogonResult = reply.logon_result
        if result.result_code != 0:
            await self._drop()
            raise CQGError(
                f"logon refused ({result.result_code}): {result.text_message}",
                result.result_code,
                result.redirect_url,
            )
        self.logon_result, self.session_token, self.base_time = result, result.session_token, result.base_time
        self._start_background()
        return result

    async def restore(self) -> pb.RestoreOrJoinSessionResult:
        """Reopen the socket and restore the session by its token; CQGError with the code on refusal."""
        request = pb.RestoreOrJoinSession(
            session_token=self.session_token,
            client_app_id=self.client_app_id,
            protocol_version_major=PROTOCOL[0],
            protocol_version_minor=PROTOCOL[1],
        )
        reply = await self._open(
            pb.ClientMsg(restore_or_join_session=request), "restore_or_join_session_result"
        )
        result: pb.RestoreOrJoinSessionResult = reply.restore_or_join_session_result
        if result.result_code != 0:
            await self._drop()
            raise CQGError(
                f"restore refused ({result.result_code}): {result.text_message}", result.result_code
            )
        self._start_background()
        return result

    async def reconnect(self) -> str:
        """Restore (or, when the server no longer knows the session, log on again), then subscribe again
        to everything; "restored" or "logged_on"."""
        await self._drop()
        how = "restored"
        try:
            await self.restore()
        except CQGError as exc:
            if exc.code != 101:
                raise
            await self.connect()
            how = "logged_on"
        for contract_id, level in list(self._md_subs.items()):
            await self.subscribe_market_data(contract_id, level)
        for sub_id, (scopes, account) in list(self._trade_subs.items()):
            await self._trade_subscribe(sub_id, scopes, account)
        return how

    async def logoff(self) -> None:
        if self.connected:
            with contextlib.suppress(CQGError, asyncio.TimeoutError):
                await self._send(pb.ClientMsg(logoff=pb.Logoff(text_message="bye")))
                await self._wait(("logged_off", 0), self.request_timeout_s)
        await self.close()

    async def close(self) -> None:
        await self._drop()
        self._md_subs.clear()
        self._trade_subs.clear()

    async def _open(self, first: pb.ClientMsg, answer: str) -> pb.ServerMsg:
        await self._drop()
        try:
            self.ws = await connect(
                self.url,
                compression=None,
                open_timeout=self.request_timeout_s,
                max_size=4 << 20,
                ping_interval=None,
            )
            await self.ws.send(first.SerializeToString())
            async with asyncio.timeout(self.request_timeout_s):
                while True:
                    msg = self._parse(await self.ws.recv())
                    if msg is not None and msg.HasField(answer):
                        return msg
        except (OSError, ConnectionClosed, TimeoutError) as exc:
            await self._drop()
            raise CQGError(f"no {answer} from {self.url}: {type(exc).__name__}") from exc

    async def _drop(self) -> None:
        tasks = [*self._tasks, *self._pongs]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), 2)
            self.ws.transport.abort()  # a server that never finished the closing handshake keeps no socket
            self.ws = None
        for future in self._waiters.values():
            if not future.done():
                future.set_exception(CQGError("connection lost"))
        self._waiters.clear()
        self._pending_ping = None

    def _start_background(self) -> None:
        self._tasks = [asyncio.create_task(self._reader()), asyncio.create_task(self._heartbeat())]

    # ------------------------------------------------------------------ plumbing
    def _parse(self, data: str | bytes) -> pb.ServerMsg | None:
        if isinstance(data, str):
            self.protocol_errors.append("text frame")
            return None
        msg = pb.ServerMsg()
        try:
            msg.ParseFromString(data)
        except DecodeError:
            self.protocol_errors.append(f"undecodable frame of {len(data)} bytes")
            return None
        return msg

    async def _send(self, msg: pb.ClientMsg) -> None:
        if self.ws is None:
            raise CQGError("not connected")
        try:
            await self.ws.send(msg.SerializeToString())
        except ConnectionClosed as exc:
            raise CQGError("connection lost") from exc

    async def _request(self, msg: pb.ClientMsg, key: tuple[str, int]) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiters[key] = future
        await self._send(msg)
        return await self._wait(key, self.request_timeout_s, future)

    async def _wait(
        self, key: tuple[str, int], timeout: float, future: asyncio.Future[Any] | None = None
    ) -> Any:
        if future is None:
            future = self._waiters.setdefault(key, asyncio.get_running_loop().create_future())
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            raise CQGError(f"no answer to {key[0]} {key[1]} within {timeout:g} s") from None
        finally:
            self._waiters.pop(key, None)

    def _resolve(self, key: tuple[str, int], value: Any) -> None:
        future = self._waiters.get(key)
        if future is not None and not future.done():
            future.set_result(value)

    async def _reader(self) -> None:
        assert self.ws is not None
        try:
            async for data in self.ws:
                msg = self._parse(data)
                if msg is not None:
                    self._handle(msg)
        except ConnectionClosed:
            pass
        finally:
            for future in self._waiters.values():
                if not future.done():
                    future.set_exception(CQGError("connection lost"))

    async def _heartbeat(self) -> None:
        """Our pings; a pong later than pong_timeout_s aborts the socket (a silent server is down)."""
        self._last_ping = time.monotonic()
        while self.ws is not None:
            await asyncio.sleep(min(self.ping_interval_s, self.pong_timeout_s) / 4)
            now = time.monotonic()
            if self._pending_ping is not None:
                if now - self._pending_ping[1] > self.pong_timeout_s:
                    log.warning(
                        "no pong from %s in %.1f s: dropping the connection", self.url, self.pong_timeout_s
                    )
                    self.ws.transport.abort()
                    return
            elif now - self._last_ping >= self.ping_interval_s:
                token = uuid.uuid4().hex[:12]
                self._pending_ping, self._last_ping = (token, now), now
                with contextlib.suppress(CQGError):
                    await self._send(pb.ClientMsg(ping=pb.Ping(token=token)))

    async def ping(self) -> float:
        """One round trip of our own ping, in seconds."""
        token = uuid.uuid4().hex[:12]
        started = time.monotonic()
        self._pending_ping = (token, started)
        await self._request(pb.ClientMsg(ping=pb.Ping(token=token)), ("pong", 0))
        return time.monotonic() - started

    # ------------------------------------------------------------------ what the server sends
    def _handle(self, msg: pb.ServerMsg) -> None:
        for callback in self.on_message:
            callback(msg)
        if msg.HasField("ping"):
            self.pings_answered += 1
            pong = pb.Pong(token=msg.ping.token, ping_utc_time=msg.ping.ping_utc_time)
            if self.ws is not None:
                task = asyncio.ensure_future(self._send_quietly(pb.ClientMsg(pong=pong)))
                self._pongs.add(task)
                task.add_done_callback(self._pongs.discard)
        if (
            msg.HasField("pong")
            and self._pending_ping is not None
            and msg.pong.token == self._pending_ping[0]
        ):
            self._resolve(("pong", 0), msg.pong)
            self._pending_ping = None
        if msg.HasField("logged_off"):
            self.logged_off = msg.logged_off
            self._resolve(("logged_off", 0), msg.logged_off)
        for notice in msg.user_messages:
            self.user_messages.append(notice.text)
        for report in msg.information_reports:
            self._resolve(("info", report.id), report)
        for md_status in msg.market_data_subscription_statuses:
            self._resolve(("md", md_status.request_id), md_status)
        for rtmd in msg.real_time_market_data:
            self._quote(rtmd)
        for ts in msg.trade_subscription_statuses:
            self._resolve(("trade", ts.id), ts)
            if ts.status_code != 0:
                self._resolve(("snapshot", ts.id), None)
        for status in msg.order_statuses:
            self._order_status(status)
        for position in msg.position_statuses:
            net = sum(
                (from_decimal(op.qty) * (-1 if op.is_short else 1) for op in position.open_positions),
                Decimal(0),
            )
            self.positions[(position.account_id, position.contract_id)] = net
        for done in msg.trade_snapshot_completions:
            self._resolve(("snapshot", done.subscription_id), done)
        for ack in msg.order_request_acks:
            self._resolve(("order", ack.request_id), ack)
        for reject in msg.order_request_rejects:
            self._resolve(("order", reject.request_id), reject)

    async def _send_quietly(self, msg: pb.ClientMsg) -> None:
        with contextlib.suppress(CQGError):
            await self._send(msg)

    def _quote(self, rtmd: pb.RealTimeMarketData) -> None:
        book = self.quotes.setdefault(rtmd.contract_id, {})
        for q in rtmd.quotes:
            name = {0: "trade", 1: "bid", 2: "ask"}.get(q.type)
            if name is not None:
                book[name] = q.scaled_price

    def _order_status(self, s: pb.OrderStatus) -> None:
        view = self.orders.get(s.order_id)
        fill_qty = from_decimal(s.fill_qty)
        if view is None:
            view = self.orders[s.order_id] = OrderView(
                s.order_id,
                s.cl_order_id,
                s.chain_order_id,
                s.account_id,
                s.contract_id,
                s.status,
                fill_qty,
                s.fill_cnt,
                s.avg_fill_price_correct,
                from_decimal(s.remaining_qty),
            )
        elif fill_qty >= view.fill_qty and not (view.status in FINAL and s.status not in FINAL):
            view.status, view.fill_qty, view.fill_cnt = s.status, fill_qty, s.fill_cnt
            view.avg_fill_price, view.remaining_qty = s.avg_fill_price_correct, from_decimal(s.remaining_qty)
            view.cl_order_id = s.cl_order_id or view.cl_order_id
        view.cl_ids.add(s.cl_order_id)
        for trans in s.transaction_statuses:
            view.cl_ids.add(trans.cl_order_id)
            if trans.trans_id in view.seen_trans:
                continue
            view.seen_trans.add(trans.trans_id)
            if trans.trade_id and trans.trade_id not in self.fills:
                self.fills[trans.trade_id] = Fill(
                    s.order_id,
                    trans.cl_order_id,
                    trans.trade_id,
                    from_decimal(trans.fill_qty),
                    trans.scaled_fill_price,
                )

    # ------------------------------------------------------------------ requests
    async def resolve(self, symbol: str) -> ContractInfo:
        rid = next(self._ids)
        request = pb.InformationRequest(
            id=rid, symbol_resolution_request=pb.SymbolResolutionRequest(symbol=symbol)
        )
        report: pb.InformationReport = await self._request(
            pb.ClientMsg(information_requests=[request]), ("info", rid)
        )
        if report.status_code != 0:
            raise CQGError(f"cannot resolve {symbol!r}: {report.text_message}", report.status_code)
        meta = report.symbol_resolution_report.contract_metadata
        return ContractInfo(meta.contract_id, meta.contract_symbol, meta.correct_price_scale, meta.tick_size)

    async def subscribe_market_data(self, contract_id: int, level: int = 2) -> None:
        rid = next(self._ids)
        sub = pb.MarketDataSubscription(contract_id=contract_id, level=level, request_id=rid)
        status: pb.MarketDataSubscriptionStatus = await self._request(
            pb.ClientMsg(market_data_subscriptions=[sub]), ("md", rid)
        )
        if status.status_code != 0:
            raise CQGError(
                f"market data for {contract_id} refused: {status.text_message}", status.status_code
            )
        if level:
            self._md_subs[contract_id] = level
        else:
            self._md_subs.pop(contract_id, None)

    async def subscribe_trades(
        self, scopes: tuple[int, ...] = (SCOPE_ORDERS, SCOPE_POSITIONS), account_id: int | None = None
    ) -> int:
        """Subscribe and wait for the snapshot to complete; the subscription id."""
        sub_id = next(self._ids)
        await self._trade_subscribe(sub_id, list(scopes), account_id)
        self._trade_subs[sub_id] = (list(scopes), account_id)
        return sub_id

    async def _trade_subscribe(self, sub_id: int, scopes: list[int], account_id: int | None) -> None:
        sub = pb.TradeSubscription(id=sub_id, subscription_scopes=scopes, subscribe=True)
        if account_id is not None:
            sub.account_id = account_id
        loop = asyncio.get_running_loop()
        snapshot = self._waiters[("snapshot", sub_id)] = loop.create_future()
        status: pb.TradeSubscriptionStatus = await self._request(
            pb.ClientMsg(trade_subscriptions=[sub]), ("trade", sub_id)
        )
        if status.status_code != 0:
            self._waiters.pop(("snapshot", sub_id), None)
            raise CQGError(f"trade subscription refused: {status.text_message}", status.status_code)
        await self._wait(("snapshot", sub_id), self.request_timeout_s, snapshot)

    async def _order_request(self, request: pb.OrderRequest) -> pb.OrderRequestAck:
        request.request_id = next(self._ids)
        answer = await self._request(pb.ClientMsg(order_requests=[request]), ("order", request.request_id))
        if isinstance(answer, pb.OrderRequestReject):
            raise CQGError(
                f"order request rejected ({answer.reject_code}): {answer.text_message}", answer.reject_code
            )
        assert isinstance(answer, pb.OrderRequestAck)
        return answer

    async def place_order(
        self,
        account_id: int,
        contract: ContractInfo,
        side: int,
        qty: int | Decimal,
        order_type: int = MKT,
        *,
        limit_price: float | None = None,
        stop_price: float | None = None,
        cl_order_id: str | None = None,
    ) -> str:
        """Send a new order; its cl_order_id once acknowledged (CQGError on a reject)."""
        cl = cl_order_id or uuid.uuid4().hex[:20]
        order = pb.Order(
            account_id=account_id,
            contract_id=contract.contract_id,
            cl_order_id=cl,
            order_type=order_type,
            side=side,
            duration=1,
            qty=to_decimal(qty),
            is_manual=False,
        )
        if limit_price is not None:
            order.scaled_limit_price = contract.scaled(limit_price)
        if stop_price is not None:
            order.scaled_stop_price = contract.scaled(stop_price)
        await self._order_request(pb.OrderRequest(new_order=pb.NewOrder(order=order)))
        return cl

    async def modify_order(
        self,
        account_id: int,
        orig_cl_order_id: str,
        *,
        qty: int | None = None,
        limit_price: float | None = None,
        contract: ContractInfo | None = None,
    ) -> str:
        cl = uuid.uuid4().hex[:20]
        modify = pb.ModifyOrder(account_id=account_id, orig_cl_order_id=orig_cl_order_id, cl_order_id=cl)
        if qty is not None:
            modify.qty.CopyFrom(to_decimal(qty))
        if limit_price is not None and contract is not None:
            modify.scaled_limit_price = contract.scaled(limit_price)
        await self._order_request(pb.OrderRequest(modify_order=modify))
        return cl

    async def cancel_order(self, account_id: int, orig_cl_order_id: str) -> str:
        cl = uuid.uuid4().hex[:20]
        cancel = pb.CancelOrder(account_id=account_id, orig_cl_order_id=orig_cl_order_id, cl_order_id=cl)
        await self._order_request(pb.OrderRequest(cancel_order=cancel))
        return cl

    def order_by_cl(self, cl_order_id: str) -> OrderView | None:
        """The order a cl_order_id names (the chain's current or any earlier one)."""
        for view in self.orders.values():
            if cl_order_id in view.cl_ids:
                return view
        return None

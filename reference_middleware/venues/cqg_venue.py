"""CQG as a venue of the reference middleware: the low-level CQGClient (venues/cqg.py) kept connected, and
its order statuses turned into the notices OrderService already reads for Rithmic.

Why this layer exists:
- The client does not supervise itself: a socket the server closed, a concurrent-session kick or a pong
  timeout (the client aborts a silent socket) leaves it down for good. The supervisor polls it and
  reconnects forever: restore by session token (the client falls back to a full logon on 101 and
  resubscribes), a full logon when restore is off or was refused, a 106 redirect followed at once.
- CQG reports orders as statuses with transactions, and a server may repeat them or send them out of
  order; OrderService wants one event per change. So notices are deduplicated here: one fill per trade
  id, and no "working" once the order was seen final.
- A CQG cancel carries a new cl_order_id. Ours is `<client_order_id>~x<n>`, so the original id is
  recoverable from any status, a trade snapshot's after a reconnect or a middleware restart included.
- An order ack names only the request, not the order; submit waits for the first status naming our
  cl_order_id to learn the CQG order id.
- A trade snapshot shows an order's fill total and average, not its trades; fills made while we were
  away are reported by venue_orders() once, under an id of ours, for reconciliation to book.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from mocks.cqg.proto import webapi_pb2 as pb

from . import cqg
from .cqg import ContractInfo, CQGClient, CQGError, from_decimal
from .cqg_statuses import CQGNotice, OrderStatuses, VenueOrderState
from .rithmic import VenueDown

log = logging.getLogger("refmw.cqg")

POLL_S = 0.1  # how often the supervisor looks at the connection
DRAIN_S = 1.0  # how long stop() lets notices already received reach on_notification
REDIRECTS_IN_A_ROW = 5  # followed at once; beyond that a redirect loop is paced like any failure
LOGON_REDIRECTED = 106
QUOTE_NAMES = {0: "last", 1: "bid", 2: "ask"}
SIDES = {"BUY": cqg.BUY, "SELL": cqg.SELL}
ORDER_TYPES = {"MARKET": cqg.MKT, "LIMIT": cqg.LMT}


class CQGRejected(CQGError):
    """The venue refused the request outright (an order_request_reject, or a symbol it does not list)."""

    def __init__(self, text: str, code: int | None) -> None:
        super().__init__(f"rejected ({code}): {text}", code)
        self.text = text


@dataclass(frozen=True)
class _Contract:
    symbol: str
    exchange: str
    info: ContractInfo


class CQGVenue:
    def __init__(
        self,
        *,
        url: str,
        user: str,
        password: str,
        symbols: tuple[tuple[str, str], ...],
        on_notification: Callable[[CQGNotice], Awaitable[None]],
        on_reconnected: Callable[[], Awaitable[None]],
        on_quote: Callable[[dict[str, Any]], None] | None = None,
        reconnect_interval_s: float = 0.5,
        ping_interval_s: float = 2.0,
        pong_timeout_s: float = 4.0,
        request_timeout_s: float = 3.0,
        restore: bool = True,
        client_app_id: str = "refmw",
        accounts: tuple[int, ...] = (),
        quantity: Callable[[pb.Decimal], Decimal] = from_decimal,  # how a CQG Decimal quantity is read
    ) -> None:
        self.client = CQGClient(
            url,
            user,
            password,
            client_app_id=client_app_id,
            ping_interval_s=ping_interval_s,
            pong_timeout_s=pong_timeout_s,
            request_timeout_s=request_timeout_s,
        )
        self.client.on_message.append(self._on_message)
        self._symbols = symbols
        self._on_notification, self._on_reconnected = on_notification, on_reconnected
        self._on_quote = on_quote
        self._interval, self._restore = reconnect_interval_s, restore
        self._accounts = set(accounts)  # the protocol subset never lists them: configured, plus those seen
        self._contracts: dict[str, ContractInfo] = {}  # by the symbol we were asked for
        self._by_id: dict[int, _Contract] = {}
        self._books: dict[int, dict[str, float]] = {}
        self.statuses = OrderStatuses(self._price, quantity)
        self._acks: dict[str, asyncio.Future[str]] = {}  # client_order_id -> its order_id, once seen
        self._cancels: dict[str, int] = {}
        self._queue: asyncio.Queue[CQGNotice] = asyncio.Queue()
        self._supervisor: asyncio.Task[None] | None = None
        self._consumer: asyncio.Task[None] | None = None
        self._first_up = asyncio.Event()
        self._ready = False  # logged on and the trade snapshot complete since the last (re)connect
        self._set_up = False  # the last full logon got every subscription through (restore resubscribes)
        self._logon_next = False  # a restore or logon was refused: the next attempt logs on afresh
        self.counts = dict.fromkeys(("reconnects", "restores", "full_logons", "redirects"), 0)

    # ------------------------------------------------------------------ lifecycle
    async def start(self, wait_s: float = 5.0) -> None:
        """Start supervising; wait up to `wait_s` for the first logon and snapshot, then return regardless
        (degraded: orders raise VenueDown while the connection keeps being retried)."""
        if self._supervisor is None:
            self._consumer = asyncio.create_task(self._deliver(), name="cqg-notices")
            self._supervisor = asyncio.create_task(self._supervise(), name="cqg-supervisor")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._first_up.wait(), wait_s)

    async def stop(self) -> None:
        self._ready = False
        await _cancel(self._supervisor)  # first, so nothing reconnects behind the logoff
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.client.logoff(), self.client.request_timeout_s + 1)
        await self.client.close()
        if self._consumer is not None and not self._consumer.done():
            with contextlib.suppress(TimeoutError):  # what arrived before the logoff still goes out
                await asyncio.wait_for(self._queue.join(), DRAIN_S)
        await _cancel(self._consumer)
        self._supervisor = self._consumer = None

    # ------------------------------------------------------------------ state
    def up(self) -> bool:
        return self._ready and self.client.connected

    def require_up(self) -> None:
        if not self.up():
            raise VenueDown("cqg is not connected")

    def accounts(self) -> list[int]:
        return sorted(self._accounts)

    def status(self) -> dict[str, Any]:
        return {"status": "up" if self.up() else "down", **self.counts, "url": _public_url(self.client.url)}

    def venue_orders(self) -> list[VenueOrderState]:
        """Every order of ours the statuses and trade snapshots showed, as the venue last reported it."""
        return self.statuses.states(list(self.client.orders.values()), list(self.client.fills.values()))

    # ------------------------------------------------------------------ requests
    async def submit(
        self,
        cl_order_id: str,
        account_id: int,
        symbol: str,
        exchange: str,
        side: str,
        qty: int,
        order_type: str,
        limit_price: float | None,
    ) -> str:
        """Send a new order; its CQG order_id once acknowledged. CQGRejected on a reject; CQGError (code
        None) when the connection went or no answer came: the outcome is then unknown."""
        self.require_up()
        if side not in SIDES or order_type not in ORDER_TYPES:
            raise ValueError(f"unsupported side {side!r} or order type {order_type!r}")
        with _refusals():
            contract = await self._contract(symbol)
        self.statuses.ours.add(cl_order_id)
        waiter = self._acks[cl_order_id] = asyncio.get_running_loop().create_future()
        try:
            with _refusals():
                await self.client.place_order(
                    account_id,
                    contract,
                    SIDES[side],
                    qty,
                    ORDER_TYPES[order_type],
                    limit_price=limit_price if order_type == "LIMIT" else None,
                    cl_order_id=cl_order_id,
                )
            return await asyncio.wait_for(waiter, self.client.request_timeout_s)
        except TimeoutError:
            raise CQGError(f"{cl_order_id} was acknowledged but no status named it") from None
        finally:
            self._acks.pop(cl_order_id, None)

    async def cancel(self, cl_order_id: str, account_id: int) -> None:
        """Ask for a cancel of our order; the outcome comes as a notice."""
        self.require_up()
        n = self._cancels[cl_order_id] = self._cancels.get(cl_order_id, 0) + 1
        self.statuses.ours.add(cl_order_id)
        request = pb.CancelOrder(
            account_id=account_id, orig_cl_order_id=cl_order_id, cl_order_id=f"{cl_order_id}~x{n}"
        )
        with _refusals():  # the client's cancel_order draws a random cl_order_id: ours must name the order
            await self.client._order_request(pb.OrderRequest(cancel_order=request))

    async def _contract(self, symbol: str) -> ContractInfo:
        info = self._contracts.get(symbol)
        if info is None:
            info = await self.client.resolve(symbol)
            self._remember(symbol, "", info)
        return info

    def _remember(self, symbol: str, exchange: str, info: ContractInfo) -> None:
        self._contracts[symbol] = info
        if exchange or info.contract_id not in self._by_id:
            self._by_id[info.contract_id] = _Contract(symbol, exchange, info)

    # ------------------------------------------------------------------ supervision
    async def _supervise(self) -> None:
        redirects = 0
        while True:
            if self.up():
                await asyncio.sleep(POLL_S)
                continue
            if self._ready:
                log.warning("cqg connection to %s lost: reconnecting", _public_url(self.client.url))
                self._ready = False
            try:
                await self._establish()
                redirects = 0
                continue
            except CQGError as exc:
                if exc.code == LOGON_REDIRECTED and exc.redirect_url and redirects < REDIRECTS_IN_A_ROW:
                    redirects += 1
                    self._follow(exc.redirect_url)
                    continue
                if exc.code is not None and not self.client.connected:
                    self._logon_next = True  # the restore or logon itself was refused
                log.warning("cqg (re)connect failed: %s", exc)
            except Exception as exc:  # a bad URL or handshake: retried like any other failure
                log.warning("cqg (re)connect failed: %r", exc)
            await asyncio.sleep(self._interval * random.uniform(1.0, 1.1))

    async def _establish(self) -> None:
        client = self.client
        if self._restore and self._set_up and client.session_token and not self._logon_next:
            how = await client.reconnect()  # restore, or a full logon on 101; resubscribes either way
            self.counts["restores" if how == "restored" else "full_logons"] += 1
        else:
            self._set_up = False
            await client.close()  # forget the old subscriptions: they are made again below
            await client.connect()
            self._logon_next = False
            await self._subscribe()
            self._set_up = True
            self.counts["full_logons"] += 1
        if self._first_up.is_set():
            self.counts["reconnects"] += 1
        try:
            await self._on_reconnected()  # reconcile before anyone sees "up"
        except Exception:
            log.exception("cqg: on_reconnected failed")
        self._ready = True
        self._first_up.set()
        log.info("cqg up on %s (%s)", _public_url(client.url), self.status())

    async def _subscribe(self) -> None:
        self._contracts.clear()
        self._by_id.clear()
        for symbol, exchange in self._symbols:
            info = await self.client.resolve(symbol)
            self._remember(symbol, exchange, info)
            await self.client.subscribe_market_data(info.contract_id, 2)  # level 2: trades, bid and ask
        await self.client.subscribe_trades()  # orders and positions of every account; waits for the snapshot

    def _follow(self, url: str) -> None:
        log.info("cqg logon redirected to %s", _public_url(url))
        self.client.url = url
        self.counts["redirects"] += 1
        self._logon_next = True  # the session token belongs to the old server

    # ------------------------------------------------------------------ what the server sends
    def _on_message(self, msg: pb.ServerMsg) -> None:
        """Called by the client's reader before it updates its own views; must never raise into it."""
        try:
            for status in msg.order_statuses:
                self._order_status(status)
            for position in msg.position_statuses:
                self._accounts.add(position.account_id)
            for rtmd in msg.real_time_market_data:
                self._quote(rtmd)
        except Exception:
            log.exception("cqg: a server message could not be handled")

    def _order_status(self, s: pb.OrderStatus) -> None:
        if s.account_id:
            self._accounts.add(s.account_id)
        ours, notices = self.statuses.read(s)
        if ours is None:
            return
        waiter = self._acks.pop(ours, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(s.order_id)
        for notice in notices:
            self._queue.put_nowait(notice)

    def _price(self, contract_id: int, scaled: int, fallback: float) -> float:
        contract = self._by_id.get(contract_id)
        if contract is None:  # a contract we never resolved (an order from before a restart)
            return float(fallback)
        return round(scaled * contract.info.scale, 9)

    def _quote(self, rtmd: pb.RealTimeMarketData) -> None:
        contract = self._by_id.get(rtmd.contract_id)
        if contract is None or self._on_quote is None:
            return
        book = self._books.setdefault(rtmd.contract_id, {})
        for q in rtmd.quotes:
            name = QUOTE_NAMES.get(q.type)
            if name is not None:
                book[name] = round(q.scaled_price * contract.info.scale, 9)
        if book:
            self._on_quote({"symbol": contract.symbol, "exchange": contract.exchange, **book, "venue": "cqg"})

    async def _deliver(self) -> None:
        """Notices in arrival order, one at a time, off the client's reader."""
        while True:
            notice = await self._queue.get()
            try:
                await self._on_notification(notice)
            except Exception:
                log.exception("cqg: on_notification failed for %s", notice.user_tag)
            finally:
                self._queue.task_done()


def significand_only(d: pb.Decimal) -> Decimal:
    """A Decimal read without its exponent: the seeded bug cqg_decimal_exponent_ignored."""
    return Decimal(d.significand)


@contextlib.contextmanager
def _refusals() -> Iterator[None]:
    """A CQGError with a code is a definite refusal (CQGRejected); without one the outcome is unknown."""
    try:
        yield
    except CQGRejected:
        raise
    except CQGError as exc:
        if exc.code is None:
            raise
        text = str(exc).partition("): ")[2] or str(exc)  # the client's "... rejected (code): text"
        raise CQGRejected(text, exc.code) from exc


async def _cancel(task: asyncio.Task[None] | None) -> None:
    if task is not None:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def _public_url(url: str) -> str:
    """The URL without user info, query or fragment (where credentials could hide)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))

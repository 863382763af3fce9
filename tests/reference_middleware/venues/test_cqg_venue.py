"""The supervised CQG venue against the real CQG mock on port 0: notices as OrderService reads them, each
trade once, reconnection by itself after every kind of drop (restore, full logon, redirect, silence), and
orders recognisable after a reconnect or a restart. Faults are armed through the mock's control API."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

import httpx
import pytest

from mocks.cqg import CQGConfig, CQGGateway
from reference_middleware.venues.cqg_statuses import CQGNotice
from reference_middleware.venues.cqg_venue import CQGRejected, CQGVenue
from reference_middleware.venues.rithmic import VenueDown
from tests.mocks.venue_thread import VenueThread

T = TypeVar("T")
ACCOUNT = 10001
SYMBOLS = (("ESZ6", "CME"),)
WORKING, CANCELLED, FILL = 1, 3, 5


def _gateway() -> CQGGateway:
    return CQGGateway(seed=11, ticks_per_second=20, config=CQGConfig(ping_interval_s=5))


@pytest.fixture
def cqg() -> Iterator[VenueThread]:
    with VenueThread(_gateway()) as vt:
        yield vt


def run(coro: Coroutine[Any, Any, T], timeout: float = 8.0) -> T:
    """One scenario on a fresh loop, bounded, in the loop's main task (so all_tasks() shows only ours)."""

    async def bounded() -> T:
        async with asyncio.timeout(timeout):
            return await coro

    return asyncio.run(bounded())


async def eventually(check: Callable[[], bool], timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


class Recorder:
    """The callbacks OrderService and the hub would give the venue."""

    def __init__(self) -> None:
        self.notices: list[CQGNotice] = []
        self.reconnected = 0
        self.quotes: list[dict[str, Any]] = []

    async def notify(self, notice: CQGNotice) -> None:
        self.notices.append(notice)

    async def on_reconnected(self) -> None:
        self.reconnected += 1

    def of(self, tag: str, kind: int) -> list[CQGNotice]:
        return [n for n in self.notices if n.user_tag == tag and n.notify_type == kind]


def venue(vt: VenueThread, rec: Recorder, url: str = "", **options: Any) -> CQGVenue:
    creds = vt.venue.describe()
    settings: dict[str, Any] = {"reconnect_interval_s": 0.1, "request_timeout_s": 2.0, **options}
    return CQGVenue(
        url=url or vt.url,
        user=creds["user"],
        password=creds["password"],
        symbols=SYMBOLS,
        on_notification=rec.notify,
        on_reconnected=rec.on_reconnected,
        on_quote=rec.quotes.append,
        **settings,
    )


async def arm(vt: VenueThread, fault: str, params: dict[str, Any] | None = None, **extra: Any) -> None:
    async with httpx.AsyncClient(base_url=vt.control_url, timeout=5) as http:
        reply = await http.post("/faults", json={"fault": fault, "params": params or {}, **extra})
        assert reply.status_code == 201, reply.text


async def control(vt: VenueThread, method: str, path: str, **params: str) -> Any:
    async with httpx.AsyncClient(base_url=vt.control_url, timeout=5) as http:
        reply = await http.request(method, path, params=params)
        assert reply.status_code < 300, reply.text
        return reply.json()


async def events(vt: VenueThread, kind: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = (await control(vt, "GET", "/events", kind=kind))["events"]
    return data


def new_id() -> str:
    return uuid.uuid4().hex[:16]


async def market(v: CQGVenue, rec: Recorder, qty: int = 1) -> tuple[str, str]:
    """A market buy, waited on until its fills add up to qty; (our id, CQG order id)."""
    cl = new_id()
    order_id = await v.submit(cl, ACCOUNT, "ESZ6", "CME", "BUY", qty, "MARKET", None)
    assert await eventually(lambda: sum(n.fill_size for n in rec.of(cl, FILL)) >= qty)
    return cl, order_id


def far_bid(vt: VenueThread, rec: Recorder) -> float:
    """A buy limit price far under the market, on the tick grid."""
    gateway = vt.venue
    assert isinstance(gateway, CQGGateway)
    tick = gateway.contracts.by_id[1].instrument.tick_size
    bid = float(next(q["bid"] for q in reversed(rec.quotes) if "bid" in q))
    return round(bid * 0.9 / tick) * tick


async def drop(vt: VenueThread, v: CQGVenue, rec: Recorder) -> None:
    """The server closes the socket (message-limit close); wait until the venue is up again."""
    before = rec.reconnected
    await arm(vt, "rate_limit_close", count=1)
    assert await eventually(lambda: rec.reconnected > before and v.up(), 4)


def test_market_order_fills_at_the_ledger_price(cqg: VenueThread) -> None:
    rec = Recorder()

    async def scenario() -> tuple[Any, ...]:
        v = venue(cqg, rec, accounts=(ACCOUNT,))
        try:
            await v.start()
            up = v.up()
            cl, order_id = await market(v, rec)
            ledger = await control(cqg, "GET", "/ledger")
            return up, cl, order_id, ledger, v.accounts(), v.status()
        finally:
            await v.stop()

    up, cl, order_id, ledger, accounts, status = run(scenario())
    assert up and rec.reconnected == 1 and accounts == [ACCOUNT]
    assert status["status"] == "up" and status["full_logons"] == 1 and status["reconnects"] == 0
    (fill,) = rec.of(cl, FILL)
    (venue_fill,) = [f for f in ledger["fills"] if f["order_id"] == order_id]
    assert fill.basket_id == order_id and fill.fill_id == venue_fill["fill_id"]
    assert fill.fill_size == 1 and fill.total_fill_size == 1 and fill.status == "filled"
    assert fill.fill_price == venue_fill["price"] and fill.venue == "cqg"
    assert [n.basket_id for n in rec.of(cl, WORKING)] == [order_id]
    quote = rec.quotes[-1]
    assert quote["symbol"] == "ESZ6" and quote["venue"] == "cqg" and quote["bid"] < quote["ask"]


def test_a_failing_callback_does_not_stop_the_notices(cqg: VenueThread) -> None:
    rec = Recorder()

    async def flaky(notice: CQGNotice) -> None:
        await rec.notify(notice)
        if notice.notify_type == WORKING:
            raise RuntimeError("the database is down")

    async def scenario() -> str:
        v = venue(cqg, rec)
        v._on_notification = flaky
        try:
            await v.start()
            cl, _ = await market(v, rec)  # the fill comes after a WORKING whose callback raised
            return cl
        finally:
            await v.stop()

    cl = run(scenario())
    assert [n.notify_type for n in rec.notices if n.user_tag == cl] == [WORKING, FILL]


def test_resting_limit_then_cancel(cqg: VenueThread) -> None:
    rec = Recorder()

    async def scenario() -> tuple[str, str, list[dict[str, Any]]]:
        v = venue(cqg, rec)
        try:
            await v.start()
            cl = new_id()
            order_id = await v.submit(cl, ACCOUNT, "ESZ6", "CME", "BUY", 1, "LIMIT", far_bid(cqg, rec))
            assert await eventually(lambda: bool(rec.of(cl, WORKING)))
            await v.cancel(cl, ACCOUNT)
            assert await eventually(lambda: bool(rec.of(cl, CANCELLED)))
            return cl, order_id, await events(cqg, "cancel")
        finally:
            await v.stop()

    cl, order_id, cancels = run(scenario())
    assert [(n.notify_type, n.basket_id) for n in rec.notices] == [(WORKING, order_id), (CANCELLED, order_id)]
    assert all(n.user_tag == cl for n in rec.notices)
    assert [e["cl_order_id"] for e in cancels] == [f"{cl}~x1"]  # the original is recoverable from it


def test_duplicate_statuses_notice_each_trade_once(cqg: VenueThread) -> None:
    rec = Recorder()

    async def scenario() -> tuple[str, int]:
        v = venue(cqg, rec)
        try:
            await v.start()
            await arm(cqg, "duplicate_status", count=20)
            cl, _ = await market(v, rec, qty=3)
            await asyncio.sleep(0.2)  # the duplicates have arrived by now
            return cl, len(await events(cqg, "fault_fired"))
        finally:
            await v.stop()

    cl, fired = run(scenario())
    fills = rec.of(cl, FILL)
    assert fired >= 2 and len(fills) == len({n.fill_id for n in fills})
    assert sum(n.fill_size for n in fills) == 3 and len(rec.of(cl, WORKING)) == 1


def test_out_of_order_fill_gives_no_working_after_it(cqg: VenueThread) -> None:
    rec = Recorder()

    async def scenario() -> str:
        v = venue(cqg, rec)
        try:
            await v.start()
            await arm(cqg, "out_of_order", count=1)
            cl, _ = await market(v, rec)
            await asyncio.sleep(0.2)  # the late WORKING has arrived by now
            assert await events(cqg, "fault_fired")
            return cl
        finally:
            await v.stop()

    cl = run(scenario())
    assert [n.notify_type for n in rec.notices if n.user_tag == cl] == [FILL]


def test_kicked_session_reconnects_with_a_full_logon(cqg: VenueThread) -> None:
    rec = Recorder()

    async def scenario() -> tuple[bool, dict[str, Any]]:
        v = venue(cqg, rec)
        try:
            await v.start()
            await arm(cqg, "concurrent_session", count=1)
            assert await eventually(lambda: rec.reconnected == 2 and v.up(), 4)
            _, order_id = await market(v, rec)
            return bool(order_id), v.status()
        finally:
            await v.stop()

    ordered, status = run(scenario())
    assert ordered and status["reconnects"] == 1 and status["status"] == "up"
    assert status["full_logons"] == 2 and status["restores"] == 0  # a kicked session cannot be restored


def test_restore_refused_falls_back_to_a_full_logon(cqg: VenueThread) -> None:
    rec = Recorder()

    async def scenario() -> dict[str, Any]:
        v = venue(cqg, rec)
        try:
            await v.start()
            await arm(cqg, "restore_failure", {"code": 101}, count=1)
            await drop(cqg, v, rec)
            assert await events(cqg, "restore_refused")
            return v.status()
        finally:
            await v.stop()

    status = run(scenario())
    assert status["full_logons"] == 2 and status["restores"] == 0 and status["reconnects"] == 1


@pytest.mark.parametrize("restore", [True, False])
def test_a_drop_is_restored_unless_restore_is_off(cqg: VenueThread, restore: bool) -> None:
    rec = Recorder()

    async def scenario() -> tuple[dict[str, Any], int]:
        v = venue(cqg, rec, restore=restore)
        try:
            await v.start()
            await drop(cqg, v, rec)
            await drop(cqg, v, rec)
            await market(v, rec)
            return v.status(), len(await events(cqg, "restore"))
        finally:
            await v.stop()

    status, restores_seen = run(scenario())
    assert status["reconnects"] == 2 and rec.reconnected == 3
    if restore:
        assert status["restores"] == 2 == restores_seen and status["full_logons"] == 1
    else:
        assert status["restores"] == 0 == restores_seen and status["full_logons"] == 3


def test_redirect_is_followed() -> None:
    rec = Recorder()
    with VenueThread(_gateway()) as first, VenueThread(_gateway()) as second:

        async def scenario() -> tuple[bool, dict[str, Any], str, Any]:
            await arm(first, "redirect", {"url": second.url}, count=1)
            v = venue(first, rec)
            try:
                await v.start()
                _, order_id = await market(v, rec)
                return v.up(), v.status(), order_id, await control(second, "GET", "/ledger")
            finally:
                await v.stop()

        up, status, order_id, ledger = run(scenario())
    assert up and status["url"] == second.url and status["redirects"] == 1
    assert [o["order_id"] for o in ledger["orders"]] == [order_id]


def test_silent_gateway_is_down_until_it_speaks_again(cqg: VenueThread) -> None:
    rec = Recorder()

    async def scenario() -> tuple[list[bool], dict[str, Any]]:
        v = venue(cqg, rec, ping_interval_s=0.2, pong_timeout_s=0.4, request_timeout_s=0.5)
        try:
            await v.start()
            await arm(cqg, "silent")
            assert await eventually(lambda: not v.up(), 2)  # our pong timeout aborted the socket
            seen = []
            for _ in range(8):  # still silent: every restore or logon goes unanswered
                await asyncio.sleep(0.1)
                seen.append(v.up())
            await control(cqg, "DELETE", "/faults")
            assert await eventually(lambda: v.up() and rec.reconnected == 2, 3)
            await market(v, rec)
            return seen, v.status()
        finally:
            await v.stop()

    seen, status = run(scenario())
    assert not any(seen) and status["reconnects"] == 1 and status["status"] == "up"


def test_submit_while_down_fails_at_once() -> None:
    rec = Recorder()

    async def scenario() -> tuple[float, dict[str, Any]]:
        v = CQGVenue(
            url="ws://user:secret@127.0.0.1:1/api?token=x",
            user="u",
            password="p",
            symbols=SYMBOLS,
            on_notification=rec.notify,
            on_reconnected=rec.on_reconnected,
            reconnect_interval_s=0.05,
        )
        try:
            await v.start(wait_s=0.2)
            started = time.monotonic()
            with pytest.raises(VenueDown, match="cqg is not connected"):
                await v.submit(new_id(), ACCOUNT, "ESZ6", "CME", "BUY", 1, "MARKET", None)
            with pytest.raises(VenueDown):
                await v.cancel(new_id(), ACCOUNT)
            return time.monotonic() - started, v.status()
        finally:
            await v.stop()

    took, status = run(scenario())
    assert took < 0.1 and rec.reconnected == 0
    assert status["status"] == "down" and status["url"] == "ws://127.0.0.1:1/api"


def test_order_reject_raises_with_its_text(cqg: VenueThread) -> None:
    rec = Recorder()

    async def scenario() -> CQGRejected:
        v = venue(cqg, rec)
        try:
            await v.start()
            await arm(cqg, "order_reject", {"code": 4, "text": "risk says no"}, count=1)
            with pytest.raises(CQGRejected) as caught:
                await v.submit(new_id(), ACCOUNT, "ESZ6", "CME", "BUY", 1, "MARKET", None)
            with pytest.raises(CQGRejected, match="is no longer working"):
                await v.cancel((await market(v, rec))[0], ACCOUNT)  # a filled order cannot be cancelled
            return caught.value
        finally:
            await v.stop()

    rejected = run(scenario())
    assert rejected.text == "risk says no" and rejected.code == 4


def test_venue_orders_after_a_reconnect_and_after_a_restart(cqg: VenueThread) -> None:
    rec, fresh = Recorder(), Recorder()

    async def scenario() -> tuple[Any, ...]:
        v = venue(cqg, rec)
        try:
            await v.start()
            filled, filled_id = await market(v, rec, qty=2)
            resting = new_id()
            await v.submit(resting, ACCOUNT, "ESZ6", "CME", "BUY", 1, "LIMIT", far_bid(cqg, rec))
            await drop(cqg, v, rec)
            after_reconnect = {o.client_order_id: o for o in v.venue_orders()}
        finally:
            await v.stop()
        restarted = venue(cqg, fresh)  # a middleware restart: a new venue on the same login
        try:
            await restarted.start()
            after_restart = {o.client_order_id: o for o in restarted.venue_orders()}
        finally:
            await restarted.stop()
        ledger = await control(cqg, "GET", "/ledger")
        return filled, filled_id, resting, after_reconnect, after_restart, ledger

    filled, filled_id, resting, after_reconnect, after_restart, ledger = run(scenario())
    trades = tuple(
        (f["fill_id"], f["qty"], f["price"]) for f in ledger["fills"] if f["order_id"] == filled_id
    )
    assert set(after_reconnect) == set(after_restart) == {filled, resting}
    done = after_reconnect[filled]
    assert (done.order_id, done.status, done.filled_qty, done.fills) == (filled_id, "filled", 2, trades)
    assert after_reconnect[resting].status == "working" and after_reconnect[resting].fills == ()
    # the earlier process booked those fills under their trade ids: the new one reports only the total
    assert (after_restart[filled].status, after_restart[filled].filled_qty) == ("filled", 2)
    assert after_restart[filled].fills == () and after_restart[resting].status == "working"
    assert not fresh.of(filled, FILL)


def test_a_fill_made_while_away_is_reported_once(cqg: VenueThread) -> None:
    rec = Recorder()

    async def scenario() -> tuple[Any, ...]:
        v = venue(cqg, rec)
        try:
            await v.start()
            await arm(cqg, "hold_fills", {"delay_ms": 1500}, count=1)
            cl = new_id()
            order_id = await v.submit(cl, ACCOUNT, "ESZ6", "CME", "BUY", 1, "MARKET", None)
            await drop(cqg, v, rec)  # the held fill's status goes to the old connection: lost
            first = v.venue_orders()
            for _ in range(100):
                ledger = await control(cqg, "GET", "/ledger")
                if ledger["fills"]:
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.2)
            return cl, order_id, first, v.venue_orders(), ledger
        finally:
            await v.stop()

    cl, order_id, first, second, ledger = run(scenario())
    ((fill,),) = [[(f["fill_id"], f["qty"], f["price"]) for f in ledger["fills"]]]
    (state,) = first
    assert (state.client_order_id, state.order_id, state.status, state.filled_qty) == (
        cl,
        order_id,
        "filled",
        1,
    )
    assert state.fills == ((f"cqg-gap-{order_id}-1", 1, fill[2]),) and second == first  # once, same id
    assert not rec.of(cl, FILL)  # the live status never came


def test_stop_leaves_no_task_behind(cqg: VenueThread) -> None:
    rec = Recorder()

    async def scenario() -> list[asyncio.Task[Any]]:
        v = venue(cqg, rec, ping_interval_s=0.1)
        await v.start()
        await market(v, rec)
        await asyncio.sleep(0.3)  # our pings and the pongs to the server's in flight
        await v.stop()
        await v.stop()  # idempotent
        return [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]

    assert run(scenario()) == []
    assert rec.reconnected == 1

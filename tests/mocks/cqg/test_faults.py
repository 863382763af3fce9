"""The CQG faults, armed through the shared control API and seen by the project's client."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from mocks.cqg.proto import webapi_pb2 as pb
from reference_middleware.venues.cqg import BUY, FILLED, MKT, CQGClient, CQGError
from tests.mocks.venue_thread import VenueThread

from .conftest import ACCOUNT, Raw, arm, client, creds, events, eventually, run


def fired(control: httpx.Client, fault: str) -> list[dict[str, Any]]:
    return [e for e in events(control, "fault_fired") if e["fault"] == fault]


async def _ready(c: CQGClient) -> Any:
    await c.connect()
    await c.subscribe_trades()
    return await c.resolve("ESZ6")


def test_catalogue_lists_every_fault(control: httpx.Client) -> None:
    names = {k["name"] for k in control.get("/faults").json()["catalogue"]}
    assert {
        "garbage_frame",
        "truncated_message",
        "unknown_field",
        "text_frame",
        "concurrent_session",
        "rate_limit_close",
        "order_reject",
        "duplicate_status",
        "out_of_order",
        "hold_fills",
        "logon_result",
        "redirect",
        "restore_failure",
        "silent",
        "no_pong",
        "stale_quotes",
        "scaled_decimals",
    } <= names


@pytest.mark.parametrize(
    ("fault", "errors"), [("text_frame", 1), ("truncated_message", 1), ("unknown_field", 0)]
)
def test_bad_server_frames_are_survived_by_the_client(
    cqg: VenueThread, control: httpx.Client, fault: str, errors: int
) -> None:
    c = client(cqg)

    async def scenario() -> tuple[list[str], list[str], float]:
        await c.connect()
        arm(control, fault, count=1)
        assert await eventually(lambda: bool(fired(control, fault)))
        await asyncio.sleep(0.1)
        rtt = await c.ping()  # the session goes on
        await c.close()
        return c.protocol_errors, c.user_messages, rtt

    protocol_errors, notices, rtt = run(scenario())
    assert len(protocol_errors) == errors, protocol_errors
    if fault == "unknown_field":  # a well-formed message with a field nobody knows: skipped, message kept
        assert "mock: unknown_field" in notices
    assert rtt < 1


def test_duplicate_and_out_of_order_statuses_leave_one_picture(
    cqg: VenueThread, control: httpx.Client
) -> None:
    c = client(cqg)
    statuses: list[pb.OrderStatus] = []
    c.on_message.append(lambda m: statuses.extend(m.order_statuses))

    async def scenario() -> Any:
        es = await _ready(c)
        arm(control, "duplicate_status", count=10)
        arm(control, "out_of_order", count=1)
        cl = await c.place_order(ACCOUNT, es, BUY, 3, MKT)
        assert await eventually(lambda: (v := c.order_by_cl(cl)) is not None and v.status == FILLED)
        await asyncio.sleep(0.2)
        view = c.order_by_cl(cl)
        await c.close()
        return view

    view = run(scenario())
    ledger = control.get("/ledger").json()
    fills = [f for f in ledger["fills"] if f["order_id"] == view.order_id]
    assert view.status == FILLED and view.fill_qty == 3
    assert len([f for f in c.fills.values() if f.order_id == view.order_id]) == len(fills)
    assert len(statuses) > len({s.transaction_statuses[0].trans_id for s in statuses})  # duplicates were sent
    first_fill = next(i for i, s in enumerate(statuses) if s.fill_cnt)
    first_working = next(i for i, s in enumerate(statuses) if s.fill_cnt == 0)
    assert first_fill < first_working  # the fill came before the WORKING status
    assert fired(control, "duplicate_status") and fired(control, "out_of_order")


def test_scaled_decimals_say_the_same_quantities_with_a_lower_exponent(
    cqg: VenueThread, control: httpx.Client
) -> None:
    c = client(cqg)
    statuses: list[pb.OrderStatus] = []
    c.on_message.append(lambda m: statuses.extend(m.order_statuses))

    async def scenario() -> Any:
        es = await _ready(c)
        arm(control, "scaled_decimals", {"exponent": -2})
        cl = await c.place_order(ACCOUNT, es, BUY, 2, MKT)
        assert await eventually(lambda: (v := c.order_by_cl(cl)) is not None and v.status == FILLED)
        view = c.order_by_cl(cl)
        await c.close()
        return view

    view = run(scenario())
    mine = [s for s in statuses if s.order_id == view.order_id]
    assert mine and all(s.fill_qty.exponent == -2 for s in mine)
    assert mine[-1].fill_qty.significand == 200 and view.fill_qty == 2  # 200e-2: two contracts
    traded = [t for s in mine for t in s.transaction_statuses if t.trade_id]
    assert traded and all(t.fill_qty.exponent == -2 for t in traded)
    assert sum(t.fill_qty.significand for t in traded) == 200
    assert len(fired(control, "scaled_decimals")) == 1  # a mode: reported once


def test_held_fills_arrive_late_and_the_ledger_waits_with_them(
    cqg: VenueThread, control: httpx.Client
) -> None:
    c = client(cqg)

    async def scenario() -> tuple[float, int]:
        es = await _ready(c)
        arm(control, "hold_fills", {"delay_ms": 400}, count=1)
        started = time.monotonic()
        cl = await c.place_order(ACCOUNT, es, BUY, 1, MKT)
        await asyncio.sleep(0.1)
        early = len(control.get("/ledger").json()["fills"])
        assert await eventually(lambda: (v := c.order_by_cl(cl)) is not None and v.status == FILLED)
        await c.close()
        return time.monotonic() - started, early

    elapsed, early = run(scenario())
    assert elapsed >= 0.35 and early == 0
    assert len(control.get("/ledger").json()["fills"]) == 1


def test_order_reject_fault(cqg: VenueThread, control: httpx.Client) -> None:
    arm(control, "order_reject", {"code": 4, "text": "risk says no"}, count=1)
    c = client(cqg)

    async def scenario() -> CQGError:
        es = await _ready(c)
        with pytest.raises(CQGError) as rejected:
            await c.place_order(ACCOUNT, es, BUY, 1, MKT)
        await c.place_order(ACCOUNT, es, BUY, 1, MKT)  # used up
        await c.close()
        return rejected.value

    rejected = run(scenario())
    assert rejected.code == 4 and "risk says no" in str(rejected)


def test_stale_quotes_freeze_the_touch(cqg: VenueThread, control: httpx.Client) -> None:
    c = client(cqg)
    seen: list[tuple[int, int]] = []

    def record(m: pb.ServerMsg) -> None:
        for rtmd in m.real_time_market_data:
            prices = {q.type: q.scaled_price for q in rtmd.quotes}
            seen.append((prices[1], prices[2]))

    async def scenario() -> None:
        await c.connect()
        arm(control, "stale_quotes", {"symbol": "ESZ6"})
        await asyncio.sleep(0.1)
        es = await c.resolve("ESZ6")
        c.on_message.append(record)
        await c.subscribe_market_data(es.contract_id, 2)
        assert await eventually(lambda: len(seen) >= 12)
        await c.close()

    run(scenario())
    assert len(set(seen[1:])) == 1  # after the snapshot, every update repeats one frozen touch


def test_silent_gateway_is_dropped_by_the_client_watchdog(cqg: VenueThread, control: httpx.Client) -> None:
    c = client(cqg, ping_interval_s=0.1, pong_timeout_s=0.3)

    async def scenario() -> bool:
        await c.connect()
        arm(control, "silent", duration_ms=2000)
        assert await eventually(lambda: not c.connected, 2)
        await c.close()
        return c.connected

    assert run(scenario()) is False
    assert fired(control, "silent")


def test_concurrent_session_kick(cqg: VenueThread, control: httpx.Client) -> None:
    c = client(cqg)

    async def scenario() -> pb.LoggedOff | None:
        await c.connect()
        arm(control, "concurrent_session", count=1)
        assert await eventually(lambda: not c.connected)
        await c.close()
        return c.logged_off

    off = run(scenario())
    assert off is not None and off.logoff_reason == 4 and "105" in off.text_message


def test_rate_limit_close_fault(cqg: VenueThread, control: httpx.Client) -> None:
    async def scenario() -> tuple[str, int | None]:
        raw = await Raw.open(cqg.url)
        await raw.logon(creds(cqg))
        arm(control, "rate_limit_close", count=1)
        notice = (await raw.expect("user_messages")).user_messages[0].text
        return notice, await raw.closed()

    notice, code = run(scenario())
    assert "message limit exceeded" in notice and code == 1008


def test_faults_aimed_at_another_user_spare_this_one(cqg: VenueThread, control: httpx.Client) -> None:
    c = client(cqg)

    async def scenario() -> list[str]:
        await c.connect()
        arm(control, "text_frame", {"user": "someone-else"}, count=3)
        await asyncio.sleep(0.3)
        await c.close()
        return c.protocol_errors

    assert run(scenario()) == []


def test_reset_clears_ledger_faults_and_sessions(cqg: VenueThread, control: httpx.Client) -> None:
    c = client(cqg)

    async def scenario() -> tuple[bool, pb.LoggedOff | None]:
        es = await _ready(c)
        cl = await c.place_order(ACCOUNT, es, BUY, 1, MKT)
        assert await eventually(lambda: (v := c.order_by_cl(cl)) is not None and v.status == FILLED)
        arm(control, "order_reject")
        assert control.post("/reset").status_code == 204
        assert await eventually(lambda: not c.connected)
        await c.close()
        return c.connected, c.logged_off

    connected, off = run(scenario())
    assert not connected and off is not None and off.logoff_reason == 3
    ledger = control.get("/ledger").json()
    assert ledger["orders"] == [] and ledger["fills"] == [] and ledger["positions"] == []
    assert control.get("/faults").json()["armed"] == []
    fresh = client(cqg)

    async def again() -> int:
        es = await _ready(fresh)
        await fresh.place_order(ACCOUNT, es, BUY, 1, MKT)  # no order_reject left, order ids start over
        await fresh.close()
        return len(control.get("/ledger").json()["orders"])

    assert run(again()) == 1
    assert control.get("/ledger").json()["orders"][0]["order_id"] == "100000001"


def test_market_regimes_move_the_shared_paths_and_a_halt_freezes_one(
    cqg: VenueThread, control: httpx.Client
) -> None:
    """A crash and a halt, armed as on the Rithmic mock: the price history shows the fall, then no step
    of the halted instrument while the other keeps moving, and each regime is reported fired."""

    def steps(symbol: str) -> list[dict[str, Any]]:
        reply = control.get("/market/history", params={"symbol": symbol})
        assert reply.status_code == 200, reply.text
        return list(reply.json()["steps"])

    assert control.get("/market/history", params={"symbol": "XXZ6"}).status_code == 404
    before = steps("ESZ6")[-1]
    arm(control, "crash", {"symbol": "ESZ6", "pct": 3.0, "over_s": 0.5}, duration_ms=1000)
    time.sleep(1.2)
    crashed = [s for s in steps("ESZ6") if "crash" in s["regime"]]
    assert crashed and crashed[-1]["bid"] < before["bid"] * 0.98, (before, crashed[-1:])
    assert fired(control, "crash")
    arm(control, "halt", {"symbol": "ESZ6"}, duration_ms=800)
    time.sleep(0.2)
    es, nq = len(steps("ESZ6")), len(steps("NQZ6"))
    time.sleep(0.5)
    assert len(steps("ESZ6")) == es, "a halted instrument does not step"
    assert len(steps("NQZ6")) > nq, "the others go on"
    assert fired(control, "halt")
    time.sleep(0.4)
    assert len(steps("ESZ6")) > es, "it steps again once the halt lifts"

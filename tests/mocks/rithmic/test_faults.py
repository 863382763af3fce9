"""One test per Rithmic protocol fault: armed through the control API, observed by a client.

The observer is the real async-rithmic client wherever it can see the fault (callbacks, its log, its
reconnects); a raw R|Protocol client shows what async-rithmic hides (exact bytes, missing replies).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import struct
import time
from typing import Any

import pytest
from async_rithmic import DataType, OrderType, SysInfraType, TransactionType

from mocks.rithmic.protocol import decode
from mocks.rithmic.runner import GatewayThread

from .conftest import Control, RawClient, Recorder, connected_client, run, shutdown, wait_until


def _rithmic_logs(caplog: pytest.LogCaptureFixture, text: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith("rithmic") and text in r.getMessage()]


async def _ticking_client(
    gt: GatewayThread, symbol: str = "ESZ6", exchange: str = "CME"
) -> tuple[Any, Recorder]:
    client, rec = await connected_client(gt)
    await client.subscribe_to_market_data(symbol, exchange, DataType.LAST_TRADE | DataType.BBO)
    assert await wait_until(lambda: len(rec.ticks) >= 4, 3)
    return client, rec


async def _still_ticking(rec: Recorder, more: int = 4) -> bool:
    n = len(rec.ticks)
    return await wait_until(lambda: len(rec.ticks) >= n + more, 3)


@pytest.mark.parametrize(
    ("fault", "params", "client_log"),
    [
        # random bytes: the client either fails to parse them or reads an unknown template id 0
        ("garbage_frame", {"size": 48}, ("Error processing response", "unknown template ID")),
        ("truncated_frame", {}, ("Error processing response",)),
        ("unknown_template", {"template_id": 358}, ("unknown template ID: 358",)),
        # quirk: async-rithmic strips the 4-byte prefix blindly, so it reads the Reject inside anyway
        ("wrong_length_prefix", {"delta": 5}, ("mock: wrong length prefix",)),
        (
            "reject",
            {"code": "42", "text": "venue says no"},
            ("Reject message from Rithmic: 42, venue says no",),
        ),
    ],
)
def test_bad_frames_and_rejects_are_seen_by_the_client_which_keeps_streaming(
    gateway: GatewayThread,
    caplog: pytest.LogCaptureFixture,
    fault: str,
    params: dict[str, Any],
    client_log: Any,
) -> None:
    caplog.set_level(logging.INFO, logger="rithmic")

    async def scenario() -> None:
        client, rec = await _ticking_client(gateway)
        control = Control(gateway)
        try:
            armed = await control.arm(fault, {"plant": "ticker", **params}, count=1)
            assert armed["remaining"] == 1
            assert await wait_until(lambda: any(_rithmic_logs(caplog, t) for t in client_log), 3)
            assert await _still_ticking(rec)
            fired = [e for e in await control.events("fault_fired") if e["fault"] == fault]
            assert len(fired) == 1 and len(fired[0]["sessions"]) == 1  # only the ticker plant's session
        finally:
            await control.close()
            await shutdown(client)

    run(scenario())


def test_raw_client_sees_the_exact_bad_frames(gateway: GatewayThread) -> None:
    async def scenario() -> None:
        raw = await RawClient.open(gateway.url)
        control = Control(gateway)
        try:
            assert list((await raw.login(gateway.gateway.describe())).rp_code) == ["0"]
            await control.arm("wrong_length_prefix", {"delta": 9}, count=1)
            buf = await raw.recv_raw()
            assert struct.unpack(">i", buf[:4])[0] == len(buf) - 4 + 9
            await control.arm("truncated_frame", {}, count=1)
            buf = await raw.recv_raw()
            assert struct.unpack(">i", buf[:4])[0] == len(buf) - 4  # the prefix is honest, the body is cut
            with pytest.raises(ValueError, match="malformed"):
                decode(buf, True)
            await control.arm("unknown_template", {"template_id": 999}, count=1)
            with pytest.raises(ValueError, match="unknown template id 999"):
                decode(await raw.recv_raw(), True)
        finally:
            await control.close()
            await raw.close()

    run(scenario())


def test_silent_gateway_answers_pings_but_nothing_else(gateway: GatewayThread) -> None:
    async def scenario() -> None:
        client, rec = await _ticking_client(gateway)
        raw = await RawClient.open(gateway.url)
        control = Control(gateway)
        try:
            await raw.login(gateway.gateway.describe())
            await control.arm("silent", {"plant": "ticker"})
            await asyncio.sleep(0.2)
            n = len(rec.ticks)
            await raw.send(18)
            with pytest.raises(TimeoutError):
                await raw.expect(19, timeout=0.8)  # no heartbeat reply
            assert len(rec.ticks) == n  # and no ticks, for a second now
            pong = await raw.ws.ping()
            await asyncio.wait_for(pong, 2)  # yet WebSocket pings are answered
            assert client.plants["ticker"].is_connected  # quirk: the client never notices a silent server
            fired = [e for e in await control.events("fault_fired") if e["fault"] == "silent"]
            assert len(fired) == 1, fired  # a mode is reported fired once, when it first holds back
            await control.clear()
            assert await _still_ticking(rec)
            await raw.send(18)
            assert (await raw.expect(19)).rp_code[:] == ["0"]
        finally:
            await control.close()
            await raw.close()
            await shutdown(client)

    run(scenario())


@pytest.mark.parametrize("close", [True, False])
def test_forced_logout_with_and_without_close(
    gateway: GatewayThread, caplog: pytest.LogCaptureFixture, close: bool
) -> None:
    caplog.set_level(logging.INFO, logger="rithmic")

    async def scenario() -> None:
        client, rec = await connected_client(gateway)
        control = Control(gateway)
        try:
            await client.subscribe_to_market_data("ESZ6", "CME", DataType.LAST_TRADE)
            logins = len(rec.connected)
            await control.arm("forced_logout", {"plant": "order", "close": close}, count=1)
            assert await wait_until(lambda: bool(_rithmic_logs(caplog, "ForcedLogout")), 3)
            if close:
                # the client reconnects and logs in to the order plant again, then trades; on_connected
                # fires before the client re-subscribes to order updates (308), so wait for the whole
                # re-login or the fill notifications go to a session that has not subscribed yet
                assert await wait_until(lambda: rec.connected[logins:] == ["order"], 10)
                assert await wait_until(lambda: bool(_rithmic_logs(caplog, "Reconnection successful")), 10)
            else:
                # quirk: without a close the client only logs it and stays "connected"
                await asyncio.sleep(1.0)
                assert rec.connected[logins:] == []
                assert client.plants["order"].is_connected
            resp = await client.submit_order(
                "after-77", "ESZ6", "CME", 1, TransactionType.BUY, OrderType.MARKET
            )
            assert resp and await wait_until(lambda: bool(rec.fills("after-77")), 3)
            assert await _still_ticking(rec, 2)  # the ticker plant was not touched
        finally:
            await control.close()
            await shutdown(client)

    run(scenario())


def test_order_reject_for_the_next_n_orders(gateway: GatewayThread) -> None:
    async def scenario() -> None:
        client, rec = await connected_client(gateway, plants=[SysInfraType.ORDER_PLANT])
        control = Control(gateway)
        try:
            await control.arm("order_reject", {"code": "1039", "text": "no margin"}, count=2)
            for tag in ("r-1", "r-2"):
                # quirk: a rejected order makes submit_order return [] without raising
                assert (
                    await client.submit_order(tag, "ESZ6", "CME", 1, TransactionType.BUY, OrderType.MARKET)
                    == []
                )
            ok = await client.submit_order("r-3", "ESZ6", "CME", 1, TransactionType.BUY, OrderType.MARKET)
            assert ok and await wait_until(lambda: bool(rec.fills("r-3")), 3)
            statuses = {o["client_tag"]: o["status"] for o in (await control.ledger())["orders"]}
            assert statuses == {"r-1": "rejected", "r-2": "rejected", "r-3": "filled"}
            assert not rec.fills("r-1") and not rec.fills("r-2")
        finally:
            await control.close()
            await shutdown(client)

    run(scenario())


def test_duplicate_fill_notification(gateway: GatewayThread) -> None:
    async def scenario() -> None:
        client, rec = await connected_client(gateway, plants=[SysInfraType.ORDER_PLANT])
        control = Control(gateway)
        try:
            await control.arm("duplicate_fill", count=1)
            await client.submit_order("d-1", "ESZ6", "CME", 2, TransactionType.BUY, OrderType.MARKET)
            assert await wait_until(lambda: len(rec.fills("d-1")) == 2, 3)
            first, second = rec.fills("d-1")
            assert first.fill_id == second.fill_id and first.fill_size == second.fill_size == 2
            ledger = await control.ledger()
            assert [f["duplicate_of"] for f in ledger["fills"]] == [None, first.fill_id]
            assert ledger["positions"][0]["net_qty"] == 2  # the venue's truth counts it once
        finally:
            await control.close()
            await shutdown(client)

    run(scenario())


def test_out_of_order_notifications_fill_before_open(gateway: GatewayThread) -> None:
    async def scenario() -> None:
        client, _rec = await connected_client(gateway, plants=[SysInfraType.ORDER_PLANT])
        control = Control(gateway)
        seen: list[tuple[int, int]] = []
        client.on_rithmic_order_notification += lambda r: seen.append((351, r.notify_type))
        client.on_exchange_order_notification += lambda e: seen.append((352, e.notify_type))
        try:
            await control.arm("out_of_order", count=1)
            await client.submit_order("o-1", "ESZ6", "CME", 1, TransactionType.BUY, OrderType.MARKET)
            assert await wait_until(lambda: (351, 13) in seen, 3)
            assert seen.index((352, 5)) < seen.index((351, 13))  # the fill arrived before the open
            assert seen.index((351, 15)) < seen.index((351, 1))  # and complete before "received"
        finally:
            await control.close()
            await shutdown(client)

    run(scenario())


def test_held_fills_arrive_late(gateway: GatewayThread) -> None:
    async def scenario() -> None:
        client, rec = await connected_client(gateway, plants=[SysInfraType.ORDER_PLANT])
        control = Control(gateway)
        try:
            await control.arm("hold_fills", {"delay_ms": 700}, count=1)
            t0 = time.monotonic()
            resp = await client.submit_order("h-1", "ESZ6", "CME", 1, TransactionType.BUY, OrderType.MARKET)
            assert resp and time.monotonic() - t0 < 0.5  # the order itself is acknowledged at once
            assert await wait_until(lambda: any(r.notify_type == 13 for r in rec.rithmic), 1)
            assert not rec.fills("h-1")
            assert await wait_until(lambda: bool(rec.fills("h-1")), 3)
            assert time.monotonic() - t0 >= 0.7
        finally:
            await control.close()
            await shutdown(client)

    run(scenario())


def test_stale_quotes_freeze_the_bbo_while_trades_move(gateway: GatewayThread) -> None:
    async def scenario() -> None:
        client, rec = await _ticking_client(gateway)
        control = Control(gateway)
        try:
            await control.arm("stale_quotes", {"symbol": "ESZ6"})
            await asyncio.sleep(0.15)
            start = len(rec.ticks)
            assert await wait_until(lambda: len(rec.ticks) >= start + 60, 5)
            window = rec.ticks[start:]
            quotes = {(t["bid_price"], t["ask_price"]) for t in window if t["data_type"] == DataType.BBO}
            trades = {t["trade_price"] for t in window if t["data_type"] == DataType.LAST_TRADE}
            assert len(quotes) == 1 and len(trades) > 1
            fired = [e for e in await control.events("fault_fired") if e["fault"] == "stale_quotes"]
            assert [e["symbol"] for e in fired] == ["ESZ6"]  # reported once, when it first froze a quote
            await control.clear()
            await asyncio.sleep(0.15)
            start = len(rec.ticks)
            assert await wait_until(lambda: len(rec.ticks) >= start + 60, 5)
            fresh = {
                (t["bid_price"], t["ask_price"]) for t in rec.ticks[start:] if t["data_type"] == DataType.BBO
            }
            assert len(fresh) > 1
        finally:
            await control.close()
            await shutdown(client)

    run(scenario())


def test_tick_gap_skips_steps_and_volume_jumps(gateway: GatewayThread) -> None:
    async def scenario() -> None:
        client, rec = await _ticking_client(gateway)
        control = Control(gateway)
        try:
            trades = [t for t in rec.ticks if t["data_type"] == DataType.LAST_TRADE]
            assert all(
                int(b["volume"]) - int(a["volume"]) == b["trade_size"] for a, b in itertools.pairwise(trades)
            )
            await control.arm("tick_gap", {"symbol": "ESZ6", "ticks": 6}, count=1)
            start = len(rec.ticks)
            assert await wait_until(lambda: len(rec.ticks) >= start + 20, 5)
            trades = [t for t in rec.ticks[start - 2 :] if t["data_type"] == DataType.LAST_TRADE]
            jumps = [
                (a, b)
                for a, b in itertools.pairwise(trades)
                if int(b["volume"]) - int(a["volume"]) != b["trade_size"]
            ]
            assert len(jumps) == 1
            a, b = jumps[0]
            assert (
                b["datetime"] - a["datetime"]
            ).total_seconds() >= 6 * 0.05 * 0.9  # six 50 ms steps missing
        finally:
            await control.close()
            await shutdown(client)

    run(scenario())


def test_session_limit_forces_out_earlier_sessions(
    gateway: GatewayThread, caplog: pytest.LogCaptureFixture
) -> None:
    """async-rithmic issue #49: with all plants logging in at once, earlier plants get ForcedLogout."""
    caplog.set_level(logging.INFO, logger="rithmic")

    async def scenario() -> None:
        control = Control(gateway)
        await control.arm("session_limit", {"max_sessions": 2})
        client, rec = await connected_client(gateway)
        try:
            assert await wait_until(lambda: bool(_rithmic_logs(caplog, "ForcedLogout")), 3)
            fired = [e for e in await control.events("fault_fired") if e["fault"] == "session_limit"]
            assert fired and fired[0]["plant"] == "ticker"  # the earliest login is the one forced out
            # the client keeps reconnecting, and each reconnect pushes another plant out
            assert await wait_until(lambda: len(rec.connected) >= 5, 10)
            await control.clear()
            await asyncio.sleep(1.0)
            plants = gateway.call(lambda: sorted(s.plant or "" for s in gateway.gateway.sessions))
            assert plants == ["order", "pnl", "ticker"]
        finally:
            await control.close()
            await shutdown(client)

    run(scenario(), timeout=40)


def test_slow_login(gateway: GatewayThread) -> None:
    async def scenario() -> None:
        control = Control(gateway)
        try:
            await control.arm("slow_login", {"delay_ms": 1200}, count=1)
            t0 = time.monotonic()
            client, _ = await connected_client(gateway, plants=[SysInfraType.TICKER_PLANT])
            slow = time.monotonic() - t0
            await shutdown(client)
            t0 = time.monotonic()
            client, _ = await connected_client(gateway, plants=[SysInfraType.TICKER_PLANT])
            fast = time.monotonic() - t0
            await shutdown(client)
            assert slow >= 1.2 > fast
        finally:
            await control.close()

    run(scenario())

"""Heartbeats both ways, the pong watchdog, and restore-or-join after a reconnect with every result code."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from mocks.cqg.proto import webapi_pb2 as pb
from reference_middleware.venues.cqg import CQGError
from tests.mocks.venue_thread import VenueThread

from .conftest import Raw, arm, client, creds, events, make_gateway, run


@pytest.fixture
def fast_pings() -> Iterator[VenueThread]:
    """A gateway that pings every 0.1 s and drops a client whose pong is 0.3 s late."""
    with VenueThread(make_gateway(ping_interval_s=0.1, pong_timeout_s=0.3)) as vt:
        yield vt


def test_client_ping_gets_a_pong_echoing_token_and_time(cqg: VenueThread) -> None:
    async def scenario() -> pb.Pong:
        raw = await Raw.open(cqg.url)
        await raw.logon(creds(cqg))
        await raw.send(ping=pb.Ping(token="tok-1", ping_utc_time=1234))
        pong = (await raw.expect("pong")).pong
        await raw.close()
        return pong

    pong = run(scenario())
    assert pong.token == "tok-1" and pong.ping_utc_time == 1234 and pong.pong_utc_time > 0


def test_server_pings_and_drops_a_client_that_never_answers(fast_pings: VenueThread) -> None:
    async def scenario() -> tuple[pb.Ping, int | None]:
        raw = await Raw.open(fast_pings.url)
        await raw.logon(creds(fast_pings))
        ping = (await raw.expect("ping")).ping
        return ping, await raw.closed(3)

    ping, code = run(scenario())
    assert ping.token and ping.ping_utc_time > 0
    assert code == 1008
    with httpx.Client(base_url=fast_pings.control_url) as control:
        assert events(control, "pong_timeout")


def test_a_client_that_answers_pings_stays_connected(fast_pings: VenueThread) -> None:
    c = client(fast_pings, ping_interval_s=0.2, pong_timeout_s=2.0)

    async def scenario() -> tuple[bool, int]:
        await c.connect()
        await asyncio.sleep(0.6)  # six server pings, each answered
        alive = c.connected
        await c.close()
        return alive, c.pings_answered

    alive, answered = run(scenario())
    assert alive and answered >= 3


def test_no_pong_fault_makes_the_client_watchdog_drop_the_connection(
    cqg: VenueThread, control: httpx.Client
) -> None:
    c = client(cqg, ping_interval_s=0.1, pong_timeout_s=0.3)

    async def scenario() -> tuple[bool, bool]:
        await c.connect()
        assert await c.ping() < 1
        arm(control, "no_pong")
        await asyncio.sleep(0.6)
        outcome = c.connected, c.ws is not None and c.ws.state.name == "CLOSED"
        await c.close()
        return outcome

    connected, closed = run(scenario())
    assert not connected and closed
    fired = [e for e in events(control, "fault_fired") if e["fault"] == "no_pong"]
    assert fired


def test_restore_after_reconnect_keeps_the_session(cqg: VenueThread, control: httpx.Client) -> None:
    c = client(cqg)

    async def scenario() -> tuple[str, str, int]:
        await c.connect()
        token = c.session_token
        contract = await c.resolve("ESZ6")
        await c.subscribe_market_data(contract.contract_id, 2)
        await c.subscribe_trades()
        how = await c.reconnect()
        c.quotes.clear()
        ticks = 0
        for _ in range(100):  # market data flows again after the resubscription
            if c.quotes.get(contract.contract_id):
                ticks = 1
                break
            await asyncio.sleep(0.02)
        await c.close()
        return how, token, ticks

    how, token, ticks = run(scenario())
    assert how == "restored" and token and ticks == 1
    assert events(control, "restore")


def test_unknown_session_is_101_and_the_client_logs_on_again(cqg: VenueThread) -> None:
    c = client(cqg)

    async def scenario() -> str:
        await c.connect()
        c.session_token = "0" * 32
        how = await c.reconnect()
        await c.close()
        return how

    assert run(scenario()) == "logged_on"


def _restore(cqg: VenueThread, token: str, app: str = "raw", major: int = 2) -> pb.RestoreOrJoinSessionResult:
    async def scenario() -> pb.RestoreOrJoinSessionResult:
        raw = await Raw.open(cqg.url)
        request = pb.RestoreOrJoinSession(
            session_token=token, client_app_id=app, protocol_version_major=major
        )
        await raw.send(restore_or_join_session=request)
        result = (await raw.expect("restore_or_join_session_result")).restore_or_join_session_result
        if result.result_code == 0:
            await raw.close()
        else:
            assert await raw.closed(1) == 1000  # a refused restore is closed by the server
        return result

    return run(scenario())


def _logon_token(cqg: VenueThread, settings: tuple[int, ...], keep: bool = False) -> tuple[str, Raw | None]:
    async def scenario() -> tuple[str, Raw | None]:
        raw = await Raw.open(cqg.url)
        token = (await raw.logon(creds(cqg), settings)).session_token
        if keep:
            return token, raw
        await raw.close()
        await asyncio.sleep(0.1)
        return token, None

    return run(scenario())


def test_restore_codes(cqg: VenueThread, control: httpx.Client) -> None:
    token, _ = _logon_token(cqg, (1,))
    assert _restore(cqg, token, app="someone-else").result_code == 102  # access denied
    assert _restore(cqg, "").result_code == 103  # invalid parameters
    assert _restore(cqg, token, major=9).result_code == 103
    assert _restore(cqg, "f" * 32).result_code == 101  # unknown session
    arm(control, "restore_failure", {"code": 104}, count=1)
    assert _restore(cqg, token).result_code == 104  # failure
    assert _restore(cqg, token).result_code == 0  # the fault was used up
    no_restore, _ = _logon_token(cqg, ())
    assert (
        _restore(cqg, no_restore).result_code == 101
    )  # a logon without "allow restore" is gone with its socket


def test_join_of_a_live_session_needs_the_join_setting(cqg: VenueThread) -> None:
    async def scenario(allow_join: bool) -> int:
        raw = await Raw.open(cqg.url)
        live = (await raw.logon(creds(cqg), (1, 2) if allow_join else (1,))).session_token
        other = await Raw.open(cqg.url)
        request = pb.RestoreOrJoinSession(session_token=live, client_app_id="raw", protocol_version_major=2)
        await other.send(restore_or_join_session=request)
        code = (
            await other.expect("restore_or_join_session_result")
        ).restore_or_join_session_result.result_code
        await other.close()
        await raw.close()
        return code

    assert run(scenario(False)) == 102
    assert run(scenario(True)) == 0


def test_restore_failure_fault_reaches_the_client_as_an_error(
    cqg: VenueThread, control: httpx.Client
) -> None:
    c = client(cqg)

    async def scenario() -> CQGError:
        await c.connect()
        arm(control, "restore_failure", {"code": 102}, count=1)
        with pytest.raises(CQGError) as refused:
            await c.reconnect()
        await c.close()
        return refused.value

    assert run(scenario()).code == 102

"""Logon, logoff, the first-message rule and the concurrent-session policies, over real sockets."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from mocks.cqg.proto import webapi_pb2 as pb
from reference_middleware.venues.cqg import CQGError
from tests.mocks.venue_thread import VenueThread

from .conftest import Raw, arm, client, creds, events, logon_msg, run


def test_logon_success_carries_session_facts(cqg: VenueThread) -> None:
    async def scenario() -> pb.LogonResult:
        raw = await Raw.open(cqg.url)
        try:
            return await raw.logon(creds(cqg))
        finally:
            await raw.close()

    result = run(scenario())
    assert result.result_code == 0
    assert len(result.session_token) == 32 and result.user_id > 0
    assert (result.protocol_version_major, result.protocol_version_minor) == (2, 230)
    base = dt.datetime.strptime(result.base_time, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.UTC)
    assert abs(base.timestamp() + result.server_time / 1000 - dt.datetime.now(dt.UTC).timestamp()) < 5


def test_wrong_password_is_101_and_a_close(cqg: VenueThread, control: httpx.Client) -> None:
    async def scenario() -> tuple[pb.LogonResult, int | None]:
        raw = await Raw.open(cqg.url)
        await raw.send(logon=logon_msg(creds(cqg), password="nope"))
        result = (await raw.expect("logon_result")).logon_result
        return result, await raw.closed()

    result, code = run(scenario())
    assert result.result_code == 101 and "password" in result.text_message and not result.session_token
    assert code == 1000
    assert events(control, "logon_refused")[-1]["code"] == 101


@pytest.mark.parametrize("code", [103, 104, 105, 107, 108])
def test_logon_result_fault_answers_the_armed_code(
    cqg: VenueThread, control: httpx.Client, code: int
) -> None:
    arm(control, "logon_result", {"code": code, "text": f"code {code}"}, count=1)
    c = client(cqg)

    async def scenario() -> tuple[CQGError, int]:
        with pytest.raises(CQGError) as refused:
            await c.connect()
        result = await c.connect()  # the fault was used up: the next logon goes through
        await c.close()
        return refused.value, result.result_code

    refused, after = run(scenario())
    assert refused.code == code and f"code {code}" in str(refused)
    assert after == 0


def test_redirect_fault_gives_106_with_the_url(cqg: VenueThread, control: httpx.Client) -> None:
    arm(control, "redirect", {"url": "ws://127.0.0.1:9/elsewhere"}, count=1)
    c = client(cqg)

    async def scenario() -> CQGError:
        with pytest.raises(CQGError) as refused:
            await c.connect()
        return refused.value

    refused = run(scenario())
    assert refused.code == 106 and refused.redirect_url == "ws://127.0.0.1:9/elsewhere"


def test_the_first_message_must_be_a_logon(cqg: VenueThread, control: httpx.Client) -> None:
    async def scenario() -> tuple[pb.ServerMsg, int | None]:
        raw = await Raw.open(cqg.url)
        await raw.send(ping=pb.Ping(token="early"))
        notice = await raw.expect("user_messages")
        return notice, await raw.closed()

    notice, code = run(scenario())
    assert "first message must be a logon" in notice.user_messages[0].text
    assert "ping" in notice.user_messages[0].text
    assert code == 1008
    assert events(control, "not_logged_on")


def test_a_logon_with_other_requests_is_refused_as_first_message(cqg: VenueThread) -> None:
    async def scenario() -> int | None:
        raw = await Raw.open(cqg.url)
        await raw.send(logon=logon_msg(creds(cqg)), ping=pb.Ping(token="x"))
        return await raw.closed()

    assert run(scenario()) == 1008


def test_logoff_answers_logged_off_and_ends_the_session(cqg: VenueThread) -> None:
    async def scenario() -> tuple[pb.LoggedOff, int | None, int]:
        raw = await Raw.open(cqg.url)
        token = (await raw.logon(creds(cqg))).session_token
        await raw.send(logoff=pb.Logoff(text_message="bye"))
        off = (await raw.expect("logged_off")).logged_off
        code = await raw.closed()
        again = await Raw.open(cqg.url)
        request = pb.RestoreOrJoinSession(session_token=token, client_app_id="raw", protocol_version_major=2)
        await again.send(restore_or_join_session=request)
        result = (await again.expect("restore_or_join_session_result")).restore_or_join_session_result
        await again.closed()
        return off, code, result.result_code

    off, code, restore = run(scenario())
    assert off.logoff_reason == 1 and code == 1000
    assert restore == 101  # a logged-off session cannot be restored


def _patch(control: httpx.Client, **body: Any) -> None:
    reply = control.post("/cqg/config", json=body)
    assert reply.status_code == 200, reply.text


def test_concurrent_policy_reject_answers_105(cqg: VenueThread, control: httpx.Client) -> None:
    _patch(control, on_concurrent="reject")

    async def scenario() -> int:
        first = await Raw.open(cqg.url)
        assert (await first.logon(creds(cqg))).result_code == 0
        second = await Raw.open(cqg.url)
        code = (await second.logon(creds(cqg))).result_code
        await first.close()
        await second.close()
        return code

    assert run(scenario()) == 105


def test_concurrent_policy_kick_logs_the_older_session_off(cqg: VenueThread, control: httpx.Client) -> None:
    _patch(control, on_concurrent="kick")

    async def scenario() -> tuple[pb.LoggedOff, int | None, int]:
        first = await Raw.open(cqg.url)
        assert (await first.logon(creds(cqg))).result_code == 0
        second = await Raw.open(cqg.url)
        code = (await second.logon(creds(cqg))).result_code
        off = (await first.expect("logged_off")).logged_off
        closed = await first.closed()
        await second.close()
        return off, closed, code

    off, closed, code = run(scenario())
    assert code == 0 and off.logoff_reason == 4 and "105" in off.text_message and closed == 1000
    assert events(control, "kicked")


def test_config_patch_names_the_bad_field(control: httpx.Client) -> None:
    reply = control.post("/cqg/config", json={"pong_timeout_s": "soon"})
    assert reply.status_code == 400 and reply.json()["field"] == "pong_timeout_s"
    reply = control.post("/cqg/config", json={"on_concurrent": "maybe"})
    assert reply.status_code == 400 and reply.json()["field"] == "on_concurrent"
    reply = control.post("/faults", json={"fault": "logon_result", "params": {"code": 0}})
    assert reply.status_code == 400 and reply.json()["field"] == "params.code"

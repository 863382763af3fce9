"""Protocol-level cases over raw frames: garbage, text frames, empty messages, the message-rate limit,
and the checked-in generated module against the .proto."""

from __future__ import annotations

import importlib.util
import tempfile
from pathlib import Path
from typing import Any

import httpx
import pytest

from mocks.cqg.proto import webapi_pb2 as pb
from tests.mocks.venue_thread import VenueThread

from .conftest import Raw, creds, events, run

HAVE_GRPC_TOOLS = importlib.util.find_spec("grpc_tools") is not None


@pytest.mark.skipif(not HAVE_GRPC_TOOLS, reason="grpcio-tools is not installed (pip install grpcio-tools)")
def test_checked_in_module_matches_the_proto() -> None:
    """The schema the checked-in module embeds is exactly what webapi.proto compiles to."""
    from google.protobuf import descriptor_pb2

    from mocks.cqg.proto.generate import descriptor_set

    with tempfile.TemporaryDirectory() as tmp:
        fresh = descriptor_pb2.FileDescriptorSet.FromString(descriptor_set(Path(tmp))).file[0]
    embedded = descriptor_pb2.FileDescriptorProto()
    pb.DESCRIPTOR.CopyToProto(embedded)
    _drop_json_names(fresh.message_type)  # protoc fills them in; the Python module leaves them out
    assert embedded == fresh, "webapi_pb2.py is stale: run python -m mocks.cqg.proto"


def _drop_json_names(messages: Any) -> None:
    for message in messages:
        for field in message.field:
            field.ClearField("json_name")
        _drop_json_names(message.nested_type)


def test_documented_wrapper_field_numbers() -> None:
    client = {f.name: f.number for f in pb.ClientMsg.DESCRIPTOR.fields}
    server = {f.name: f.number for f in pb.ServerMsg.DESCRIPTOR.fields}
    assert client["logon"] == 100 and client["restore_or_join_session"] == 101
    assert client["ping"] == server["ping"] == 107 and client["pong"] == server["pong"] == 108
    assert (client["trade_subscriptions"], client["order_requests"], client["market_data_subscriptions"]) == (
        2,
        3,
        4,
    )
    assert (server["logon_result"], server["restore_or_join_session_result"]) == (100, 101)
    documented = {
        "order_request_rejects": 2,
        "trade_subscription_statuses": 3,
        "trade_snapshot_completions": 4,
        "order_statuses": 5,
        "position_statuses": 6,
        "market_data_subscription_statuses": 8,
        "real_time_market_data": 9,
        "order_request_acks": 25,
    }
    assert {k: server[k] for k in documented} == documented


def test_garbage_before_logon_is_an_error_and_a_close(cqg: VenueThread, control: httpx.Client) -> None:
    async def scenario() -> tuple[str, int | None]:
        raw = await Raw.open(cqg.url)
        await raw.ws.send(b"\xff\xff\xff\xff garbage")
        notice = (await raw.expect("user_messages")).user_messages[0]
        return notice.text, await raw.closed()

    text, code = run(scenario())
    assert text.startswith("bad frame: frame: not a ClientMsg") and code == 1008
    assert events(control, "bad_frame")[0]["field"] == "frame"


def test_after_logon_a_bad_frame_is_reported_and_the_session_goes_on(cqg: VenueThread) -> None:
    async def scenario() -> list[str]:
        raw = await Raw.open(cqg.url)
        await raw.logon(creds(cqg))
        texts = []
        for bad in ("a text frame", b"", b"\x0a\x05\x08"):  # text, an empty ClientMsg, a cut-short field
            await raw.ws.send(bad)
            texts.append((await raw.expect("user_messages")).user_messages[0].text)
        await raw.send(ping=pb.Ping(token="still-there"))
        assert (await raw.expect("pong")).pong.token == "still-there"
        await raw.close()
        return texts

    text, empty, cut = run(scenario())
    assert "text frames are not WebAPI" in text
    assert "empty ClientMsg" in empty
    assert "not a ClientMsg" in cut


def test_invalid_utf8_in_a_string_field_is_named(cqg: VenueThread) -> None:
    order = pb.Order(account_id=10001, contract_id=1, cl_order_id="aXb", order_type=1, side=1)
    request = pb.ClientMsg(order_requests=[pb.OrderRequest(request_id=1, new_order=pb.NewOrder(order=order))])
    raw_bytes = request.SerializeToString().replace(b"X", b"\xe9")

    async def scenario() -> str:
        raw = await Raw.open(cqg.url)
        await raw.logon(creds(cqg))
        await raw.ws.send(raw_bytes)
        text: str = (await raw.expect("user_messages")).user_messages[0].text
        await raw.close()
        return text

    assert run(scenario()) == (
        "bad frame: order_requests[0].new_order.order.cl_order_id: invalid UTF-8 in a string field"
    )


def test_message_rate_limit_closes_after_a_user_message(cqg: VenueThread, control: httpx.Client) -> None:
    async def scenario() -> tuple[list[str], int, int | None]:
        raw = await Raw.open(cqg.url)
        await raw.logon(creds(cqg))
        for i in range(1000):  # the logon was message 1: this makes 1,001 in the 10 s window
            await raw.send(ping=pb.Ping(token=f"p{i}"))
        notices: list[str] = []
        pongs = 0
        try:
            while True:
                msg = await raw.recv(3)
                notices.extend(n.text for n in msg.user_messages)
                pongs += msg.HasField("pong")
        except Exception:
            pass
        return notices, pongs, await raw.closed(1)

    notices, pongs, code = run(scenario(), 30)
    assert pongs == 999 and events(control, "rate_limit_close")
    assert any("message limit exceeded" in n for n in notices) and code == 1008


def test_an_oversized_frame_is_a_protocol_close(cqg: VenueThread) -> None:
    async def scenario() -> int | None:
        raw = await Raw.open(cqg.url)
        await raw.logon(creds(cqg))
        await raw.ws.send(b"\x00" * ((1 << 20) + 1))
        return await raw.closed()

    assert run(scenario()) == 1009

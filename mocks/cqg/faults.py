"""The CQG gateway's protocol faults, armed through the shared control API.

- **push** faults fire from the gateway's clock, at most once per market-data step, on every logged-on
  session of `user` ("" for every user): `garbage_frame`, `truncated_message`, `unknown_field`,
  `text_frame`, `user_message`, `concurrent_session` (the session is kicked: LoggedOff reason 4, then a
  close), `rate_limit_close` (the user message a real server sends past its message limit, then a close).
  `count` is the number of firings; without one they fire every step until cleared or expired.
- **event** faults fire on the next matching event: `order_reject`, `duplicate_status`, `out_of_order`,
  `hold_fills`, `logon_result` (the next logon gets this result code), `redirect` (106 with a URL),
  `restore_failure` (the next restore-or-join gets this code).
- **modes** hold while armed: `silent` (nothing goes out, pings included), `no_pong` (client pings go
  unanswered and the server sends none of its own), `stale_quotes` (the best bid/ask freeze),
  `scaled_decimals` (order statuses carry their quantities with a negative exponent: 2 as 200e-2, as
  valid as 2e0 and read wrong by a client that ignores the exponent).
- **market regimes** move the price paths as on the Rithmic mock (mocks/rithmic/regimes.py):
  `trend_down`, `crash`, `gap`, `halt` and `thin_liquidity`, each aimed at a `symbol` ("" for all).

Every firing is a `fault_fired` event on `GET /events`.
"""

from __future__ import annotations

import random
from typing import Any

from mocks.common import FaultKind
from mocks.rithmic.faults import regime_catalogue

from . import protocol as p
from .proto import webapi_pb2 as pb

PUSH_FAULTS = (
    "garbage_frame",
    "truncated_message",
    "unknown_field",
    "text_frame",
    "user_message",
    "concurrent_session",
    "rate_limit_close",
)
_USER = (str, "")


def catalogue() -> list[FaultKind]:
    return [
        FaultKind(
            "garbage_frame",
            "push: a binary frame of random bytes",
            {"user": _USER, "size": (int, 32)},
            bounds={"size": (1, 65536)},
        ),
        FaultKind("truncated_message", "push: a valid ServerMsg cut short inside a field", {"user": _USER}),
        FaultKind(
            "unknown_field",
            "push: a valid ServerMsg (a user message) plus a field number no client "
            "knows; protobuf clients must skip it",
            {"user": _USER, "field": (int, 999)},
            bounds={"field": (200, 536_870_911)},
        ),
        FaultKind(
            "text_frame",
            "push: a text WebSocket frame (a real server never sends one)",
            {"user": _USER, "text": (str, "not a ServerMsg")},
        ),
        FaultKind(
            "user_message",
            "push: a UserMessage",
            {"user": _USER, "text": (str, "mock notice"), "message_type": (int, p.USER_WARNING)},
            choices={"message_type": (1, 2, 3)},
        ),
        FaultKind(
            "concurrent_session",
            "push: the session is kicked as if the user logged on elsewhere "
            "(LoggedOff reason 4 naming result 105, then a close)",
            {"user": _USER},
        ),
        FaultKind(
            "rate_limit_close", "push: the message-limit user message, then a close (1008)", {"user": _USER}
        ),
        FaultKind(
            "order_reject",
            "event: the next new orders get an OrderRequestReject",
            {"code": (int, 4), "text": (str, "order rejected by mock")},
        ),
        FaultKind("duplicate_status", "event: the next order statuses are sent twice"),
        FaultKind("out_of_order", "event: the next immediately filled orders report the fill before WORKING"),
        FaultKind(
            "hold_fills",
            "event: the next fills' statuses are sent `delay_ms` late",
            {"delay_ms": (int, 2000)},
            bounds={"delay_ms": (0, 600_000)},
        ),
        FaultKind(
            "logon_result",
            "event: the next logons are answered with this result code",
            {
                "code": (int, p.LOGON_FAILURE),
                "text": (str, "logon refused by mock"),
                "redirect_url": (str, ""),
            },
            choices={"code": tuple(c for c in p.LOGON_CODES if c)},
        ),
        FaultKind(
            "redirect",
            "event: the next logons get 106 (redirected) with `url`",
            {"url": (str, "ws://127.0.0.1:1/redirected")},
        ),
        FaultKind(
            "restore_failure",
            "event: the next restore-or-join requests get this result code",
            {"code": (int, p.RESTORE_UNKNOWN), "text": (str, "restore refused by mock")},
            choices={"code": (101, 102, 103, 104)},
        ),
        FaultKind(
            "silent",
            "mode: the socket stays open and answers WebSocket pings, but nothing else goes "
            "out (no replies, no pings or pongs, no market data, no statuses)",
            {"user": _USER},
        ),
        FaultKind(
            "no_pong",
            "mode: client pings go unanswered, and the server sends no pings of its own",
            {"user": _USER},
        ),
        FaultKind(
            "scaled_decimals",
            "mode: order statuses carry their quantities as significand x 10^exponent with this "
            "negative exponent (2 contracts as 200e-2)",
            {"exponent": (int, -2)},
            bounds={"exponent": (-18, -1)},
        ),
        FaultKind(
            "stale_quotes",
            "mode: the best bid/ask keep repeating frozen values while trades move on",
            {"symbol": (str, "")},
        ),
        *regime_catalogue(),  # the market regimes, as on the Rithmic mock (the paths are shared)
    ]


def bad_payload(kind: str, params: dict[str, Any], rng: random.Random) -> bytes | str:
    """What one byte-level push fault puts in a frame."""
    if kind == "garbage_frame":
        return bytes(rng.randbytes(params["size"]))
    if kind == "text_frame":
        return str(params["text"])
    notice = pb.UserMessage(message_type=p.USER_INFO, source="mock", text="mock: " + kind)
    payload: bytes = p.server(user_messages=[notice]).SerializeToString()
    if kind == "truncated_message":
        return payload[: max(len(payload) // 2, 3)]
    if kind == "unknown_field":
        tag = (params["field"] << 3) | 2  # length-delimited
        return payload + _varint(tag) + _varint(3) + b"abc"
    raise ValueError(kind)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)

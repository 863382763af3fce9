"""WebAPI framing and values: one binary frame holds one ClientMsg or ServerMsg; CQG's Decimal; times as
milliseconds from the session's `base_time`; and the result codes the documentation names.

Field numbers are the ones our own schema (proto/webapi.proto) gives; see README.md for which of them are
CQG's documented numbers.
"""

from __future__ import annotations

import datetime as _dt
import time
from decimal import Decimal as _Dec
from decimal import InvalidOperation
from typing import Any

from google.protobuf.message import DecodeError

from .proto import webapi_pb2 as pb

PROTOCOL_MAJOR, PROTOCOL_MINOR = 2, 230

# LogonResult.result_code
LOGON_SUCCESS, LOGON_FAILURE, LOGON_OTP_NEEDED, LOGON_PASSWORD_EXPIRED = 0, 101, 103, 104
LOGON_CONCURRENT, LOGON_REDIRECTED, LOGON_ROUTINE_ERROR, LOGON_TOKEN_EXPIRED = 105, 106, 107, 108
LOGON_CODES = (0, 101, 103, 104, 105, 106, 107, 108)
# RestoreOrJoinSessionResult.result_code
RESTORE_SUCCESS, RESTORE_UNKNOWN, RESTORE_DENIED, RESTORE_INVALID, RESTORE_FAILURE = 0, 101, 102, 103, 104
# Logon.session_settings
ALLOW_RESTORE, ALLOW_JOIN = 1, 2
# LoggedOff.logoff_reason (ours)
OFF_BY_REQUEST, OFF_REDIRECTED, OFF_FORCED, OFF_REASSIGNED = 1, 2, 3, 4
# status codes of information reports, market-data and trade subscription statuses (ours)
STATUS_OK, STATUS_FAILURE, STATUS_INVALID, STATUS_LIMIT = 0, 101, 103, 104
# UserMessage.message_type (ours)
USER_CRITICAL, USER_WARNING, USER_INFO = 1, 2, 3
# Order fields
MKT, LMT, STP, STL = 1, 2, 3, 4
ORDER_TYPE_NAMES = {MKT: "MARKET", LMT: "LIMIT", STP: "STOP", STL: "STOP_LIMIT"}
BUY, SELL = 1, 2
# OrderStatus.status
IN_TRANSIT, REJECTED, WORKING, EXPIRED, IN_CANCEL, IN_MODIFY, CANCELLED, FILLED = 1, 2, 3, 4, 5, 6, 7, 8
# TradeSubscription.subscription_scopes
SCOPE_ORDERS, SCOPE_POSITIONS, SCOPE_COLLATERAL, SCOPE_ACCOUNT_SUMMARY = 1, 2, 3, 4
# Quote.type
Q_TRADE, Q_BEST_BID, Q_BEST_ASK, Q_BID, Q_ASK = 0, 1, 2, 3, 4

MAX_QTY = 10_000
MAX_SCALED_PRICE = 10**12  # far above any listed contract's price, far below sint64 overflow
POLICY_VIOLATION = 1008  # the WebSocket close code for a protocol breach


class FrameError(ValueError):
    """A frame that is not one valid ClientMsg; `field` names what is wrong for the error reply."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def decode(buf: str | bytes) -> pb.ClientMsg:
    """One client frame as a ClientMsg; FrameError when it is text, undecodable or empty."""
    if isinstance(buf, str):
        raise FrameError("frame", "text frames are not WebAPI; send one binary ClientMsg per frame")
    msg = pb.ClientMsg()
    try:
        msg.ParseFromString(buf)
    except (DecodeError, RecursionError, ValueError) as exc:
        raise FrameError("frame", f"not a ClientMsg: {type(exc).__name__}") from None
    _check_strings(msg, "")
    if not msg.ListFields():
        raise FrameError("frame", "an empty ClientMsg (no known field set)")
    return msg


def _check_strings(msg: Any, path: str) -> None:
    """proto2 parsing does not check UTF-8: a bad string comes back as bytes (upb) or fails when read, and
    would only break a handler later; so read them all here and name the first bad one."""
    for fd in msg.DESCRIPTOR.fields:
        name = f"{path}{fd.name}"
        if fd.type == fd.TYPE_MESSAGE:
            if fd.is_repeated:
                for i, child in enumerate(getattr(msg, fd.name)):
                    _check_strings(child, f"{name}[{i}].")
            elif msg.HasField(fd.name):
                _check_strings(getattr(msg, fd.name), f"{name}.")
        elif fd.type == fd.TYPE_STRING:
            try:
                values = list(getattr(msg, fd.name)) if fd.is_repeated else [getattr(msg, fd.name)]
            except UnicodeDecodeError:
                values = [b""]
            if any(not isinstance(v, str) for v in values):
                raise FrameError(name, "invalid UTF-8 in a string field")


def server(**fields: object) -> pb.ServerMsg:
    """A ServerMsg: a list extends a repeated field, a message is copied into a singular one."""
    msg = pb.ServerMsg()
    for name, value in fields.items():
        if isinstance(value, list):
            getattr(msg, name).extend(value)
        else:
            getattr(msg, name).CopyFrom(value)
    return msg


# -------------------------------------------------------------------- decimals
def rescaled(d: pb.Decimal, exponent: int) -> pb.Decimal:
    """The same value with a lower exponent (a longer significand): 2e0 at -2 is 200e-2."""
    shift = d.exponent - exponent
    if shift <= 0:
        return d
    return pb.Decimal(significand=d.significand * 10**shift, exponent=exponent)


def to_decimal(value: int | float | _Dec) -> pb.Decimal:
    """The shortest {significand, exponent} for a value (integers keep exponent 0)."""
    d = _Dec(str(value)).normalize()
    sign, digits, exponent = d.as_tuple()
    assert isinstance(exponent, int)
    if exponent > 0:
        return pb.Decimal(significand=int(d), exponent=0)
    significand = int("".join(map(str, digits)) or "0") * (-1 if sign else 1)
    return pb.Decimal(significand=significand, exponent=exponent)


def from_decimal(d: pb.Decimal, field: str) -> _Dec:
    """A wire Decimal as a Python Decimal; FrameError naming `field` when it is absurd."""
    if not -18 <= d.exponent <= 18:
        raise FrameError(f"{field}.exponent", f"{d.exponent} is outside -18..18")
    try:
        return _Dec(d.significand).scaleb(d.exponent)
    except InvalidOperation:  # pragma: no cover - bounded above
        raise FrameError(field, "not a number") from None


def whole_qty(d: pb.Decimal, field: str) -> int:
    """A quantity that must be a whole number of contracts in 1..MAX_QTY."""
    value = from_decimal(d, field)
    if value != value.to_integral_value():
        raise FrameError(field, f"{value} is not a whole number of contracts")
    if not 1 <= value <= MAX_QTY:
        raise FrameError(field, f"{value} is outside 1..{MAX_QTY}")
    return int(value)


# -------------------------------------------------------------------- time
class TimeBase:
    """The session clock: `base_time` as CQG writes it, and milliseconds since then."""

    def __init__(self, now: float | None = None) -> None:
        start = int(now if now is not None else time.time())
        self.epoch = float(start)
        self.base_time = _dt.datetime.fromtimestamp(start, _dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")

    def ms(self, at: float | None = None) -> int:
        return int(((at if at is not None else time.time()) - self.epoch) * 1000)

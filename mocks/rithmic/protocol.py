"""R|Protocol framing and message building: protobuf over binary WebSocket frames.

Every message carries `template_id` (field 154467). A frame is either a 4-byte big-endian signed length
prefix followed by the protobuf bytes (async-rithmic, Rithmic's own samples) or the bare protobuf
(rithmic-rapi). The gateway detects which from a client's first frame and answers in kind.

The message classes are the ones async-rithmic ships, so the mock and the client agree on every field.
"""

from __future__ import annotations

import struct
from typing import Any

from async_rithmic.plants.base import TEMPLATES_MAP
from async_rithmic.protocol_buffers import base_pb2
from google.protobuf.message import DecodeError, Message

__all__ = [
    "TEMPLATES_MAP",
    "DecodeError",
    "FrameError",
    "Message",
    "build",
    "decode",
    "detect_prefixed",
    "frame",
]

_PREFIX = struct.Struct(">i")

# Templates whose terminal message (rp_code) carries the data; for the others rows carry data and the
# terminal message is a bare rp_code (async-rithmic keeps the terminal message's data only for these).
TERMINAL_CARRIES_DATA = frozenset({11, 15, 114, 201, 301, 313, 315, 317, 331})


class FrameError(ValueError):
    """A frame the gateway cannot decode; `reason` is sent back in a Reject (75)."""

    def __init__(self, reason: str, user_msg: list[str] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.user_msg = user_msg or []


def detect_prefixed(buf: bytes) -> bool:
    """True when the first frame starts with a length prefix that matches the rest of the frame.

    Rithmic field numbers are all above 100000, so a bare protobuf always starts with a multi-byte
    varint tag (high bit set): read as a signed prefix it is negative and can never match.
    """
    return len(buf) >= 4 and _PREFIX.unpack_from(buf)[0] == len(buf) - 4


def frame(payload: bytes, prefixed: bool) -> bytes:
    return _PREFIX.pack(len(payload)) + payload if prefixed else payload


def decode(buf: bytes, prefixed: bool) -> tuple[int, Message]:
    """(template_id, message) for one client frame; FrameError when it is not a known, valid message."""
    if prefixed:
        if len(buf) < 4:
            raise FrameError("frame shorter than its length prefix")
        declared = _PREFIX.unpack_from(buf)[0]
        if declared != len(buf) - 4:
            raise FrameError(f"length prefix {declared} does not match payload of {len(buf) - 4} bytes")
        raw = buf[4:]
    else:
        raw = buf
    base = base_pb2.Base()
    try:
        base.ParseFromString(raw)
    except DecodeError:
        raise FrameError("malformed protobuf") from None
    template_id = int(base.template_id)
    cls = TEMPLATES_MAP.get(template_id)
    if cls is None:
        raise FrameError(f"unknown template id {template_id}")
    message = cls()
    try:
        message.ParseFromString(raw)
    except DecodeError:
        raise FrameError(f"malformed template {template_id}") from None
    return template_id, message


def build(template_id: int, **fields: Any) -> Message:
    """A message of this template with the given fields; lists fill repeated fields, None is skipped."""
    message = TEMPLATES_MAP[template_id]()
    message.template_id = template_id
    for name, value in fields.items():
        if value is None:
            continue
        if isinstance(value, list | tuple):
            getattr(message, name).extend(value)
        else:
            setattr(message, name, value)
    return message


def reply(template_id: int, request: Message, **fields: Any) -> Message:
    """A response echoing the request's user_msg, as every Rithmic response must."""
    return build(template_id, user_msg=list(getattr(request, "user_msg", [])), **fields)

"""Decode request bodies the way Go's encoding/json does for Toxiproxy's structs.

Go matches keys case-insensitively, ignores unknown keys, and refuses `100.0` for an int
field. Clients (and our tests) depend on those refusals, so we keep number literals as sent.
"""

from __future__ import annotations

import json
import struct
from typing import Any

from .errors import ApiError, bad_body

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class FloatLiteral(str):
    """A JSON number with a fraction or exponent, kept as written."""


def loads(body: bytes) -> Any:
    if not body.strip():
        raise bad_body("EOF")
    try:
        return json.loads(body, parse_float=FloatLiteral, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise bad_body(_json_error_text(exc)) from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"invalid character '{name[0]}' looking for beginning of value")


def _json_error_text(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"invalid character at offset {exc.pos}: {exc.msg}"
    return str(exc)


def _go_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, FloatLiteral | int):
        return "number " + str(value)
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def _type_error(value: Any, where: str, go_type: str) -> ApiError:
    return bad_body(f"json: cannot unmarshal {_go_kind(value)} into Go struct field {where} of type {go_type}")


def fields(obj: Any, known: tuple[str, ...], struct_name: str) -> dict[str, Any]:
    """Pick `known` keys out of a JSON object, matching case-insensitively like Go."""
    if not isinstance(obj, dict):
        raise bad_body(f"json: cannot unmarshal {_go_kind(obj)} into Go value of type {struct_name}")
    lowered = {k.lower(): k for k in known}
    picked: dict[str, Any] = {}
    for key, value in obj.items():
        name = lowered.get(key.lower())
        # Go prefers an exact-case match; with duplicates the last one wins either way.
        if name is not None and (name not in picked or key == name):
            picked[name] = value
    return picked


def as_str(value: Any, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or isinstance(value, FloatLiteral):
        raise _type_error(value, where, "string")
    return value


def as_bool(value: Any, where: str) -> bool | None:
    if value is None:
        return None
    if not isinstance(value, bool):
        raise _type_error(value, where, "bool")
    return value


def as_int(value: Any, where: str) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or isinstance(value, FloatLiteral):
        raise _type_error(value, where, "int64")
    if not INT64_MIN <= value <= INT64_MAX:
        raise _type_error(value, where, "int64")
    return value


def as_float32(value: Any, where: str) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, int | FloatLiteral):
        raise _type_error(value, where, "float32")
    try:
        return shortest_float32(float(value))
    except (OverflowError, struct.error):
        raise _type_error(value, where, "float32") from None


def shortest_float32(x: float) -> float:
    """Round to float32 and back to the shortest decimal that survives, as Go prints float32."""
    f32 = struct.unpack("f", struct.pack("f", x))[0]
    for digits in range(1, 10):
        candidate = float(f"{f32:.{digits}g}")
        if struct.unpack("f", struct.pack("f", candidate))[0] == f32:
            return candidate
    return float(f32)


def number(x: float) -> int | float:
    """Go prints a whole float32 without a fraction: 1.0 goes out as 1."""
    return int(x) if x == int(x) and abs(x) < 2**53 else x

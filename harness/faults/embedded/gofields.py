"""Fill Toxiproxy's structs from decoded JSON the way Go's encoding/json does.

Go visits an object's keys in body order (each duplicate too), matches them to fields
case-insensitively, leaves a field alone for `null`, and ignores unknown keys. A value of the
wrong type does not stop it: the field is skipped, the first such error is kept (Go's
`saveError`), and every other field is still set. Toxiproxy decodes a toxic update straight
into the live toxic, so the fields that fit stay applied even when the request fails.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Mapping
from typing import Any

from .errors import ApiError, bad_body
from .gojson import FloatLiteral, pairs_of, shortest_float32

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

# Turns one JSON value into a field's value, or raises the ApiError Go would report for it.
Convert = Callable[[Any], Any]


def _go_kind(value: Any, numeric_target: bool) -> str:
    """How Go names a JSON value in a type error; it quotes the literal only for number targets."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, FloatLiteral | int):
        return f"number {value}" if numeric_target else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def type_error(value: Any, where: str, go_type: str, *, numeric: bool = False) -> ApiError:
    """`where` is Go's "Struct.field.path"; an empty one means the top-level value itself."""
    kind = _go_kind(value, numeric)
    if not where:
        return bad_body(f"json: cannot unmarshal {kind} into Go value of type {go_type}")
    return bad_body(f"json: cannot unmarshal {kind} into Go struct field {where} of type {go_type}")


class StructDecoder:
    """One Go decode: fills structs field by field and keeps the first error in body order."""

    def __init__(self) -> None:
        self.error: ApiError | None = None

    def save(self, exc: ApiError) -> None:
        if self.error is None:
            self.error = exc

    def fill(
        self, obj: Any, target: dict[str, Any], fields: Mapping[str, Convert], go_type: str, where: str = ""
    ) -> None:
        """Set `target[field]` for each key of `obj` that names a field and whose value fits."""
        if not isinstance(obj, dict):
            self.save(type_error(obj, where, go_type))
            return
        by_folded = {name.lower(): name for name in fields}
        for key, value in pairs_of(obj):
            name = by_folded.get(key.lower())
            if name is None or value is None:
                continue
            try:
                target[name] = fields[name](value)
            except ApiError as exc:
                self.save(exc)

    def check(self) -> None:
        """Raise the first error, as Go's Decode returns it once the whole body is decoded."""
        if self.error is not None:
            raise self.error


def as_str(value: Any, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or isinstance(value, FloatLiteral):
        raise type_error(value, where, "string")
    return value


def as_bool(value: Any, where: str) -> bool | None:
    if value is None:
        return None
    if not isinstance(value, bool):
        raise type_error(value, where, "bool")
    return value


def as_int(value: Any, where: str, go_type: str = "int64") -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):  # FloatLiteral is a str
        raise type_error(value, where, go_type, numeric=isinstance(value, FloatLiteral))
    if not INT64_MIN <= value <= INT64_MAX:
        raise type_error(value, where, go_type, numeric=True)
    return value


def as_float32(value: Any, where: str) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, int | FloatLiteral):
        raise type_error(value, where, "float32")
    try:
        parsed = float(value)
        if math.isinf(parsed):
            raise OverflowError(value)
        return shortest_float32(parsed)
    except (OverflowError, struct.error):
        raise type_error(value, where, "float32", numeric=True) from None

"""Request-body and query checks: each failure is a 400 that names the offending field."""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web

from ..common.body import is_utf8, read_whole
from .errors import RipplingError, invalid

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
CURRENCY = re.compile(r"[A-Z]{3}")
MAX_AMOUNT = Decimal("1000000000")
MAX_PAGE = 100


async def read_object(request: web.Request) -> dict[str, Any]:
    """The JSON object body; a 400 naming `body` otherwise."""
    raw = await read_whole(request)
    if not raw.strip():
        raise invalid("body", "a JSON object is required")
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise invalid("body", f"invalid JSON: {type(exc).__name__}"[:200]) from None
    if not isinstance(value, dict):
        raise invalid("body", "must be a JSON object")
    return value


def only(body: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        name = unknown[0][:100]
        if not name.strip():  # a blank key cannot name itself
            raise invalid("body", f"unknown field {name!r}")
        raise invalid(name, "unknown field")


def text(body: dict[str, Any], name: str, *, required: bool = False, max_len: int = 200) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise invalid(name, "is required")
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > max_len or not _printable(value):
        raise invalid(name, f"must be a non-empty printable string of at most {max_len} characters")
    return value.strip()


def _printable(value: str) -> bool:
    """No control characters, and text that is valid UTF-8 (a lone surrogate is not)."""
    return is_utf8(value) and value.isprintable()


def email(body: dict[str, Any], name: str = "work_email") -> str:
    value = text(body, name, required=True, max_len=254)
    assert value is not None
    if not EMAIL.fullmatch(value):
        raise invalid(name, "must be an email address")
    return value.lower()


def choice(body: dict[str, Any], name: str, options: tuple[str, ...], default: str | None = None) -> str:
    value = body.get(name, default)
    if not isinstance(value, str) or value.upper() not in options:
        raise invalid(name, f"must be one of {', '.join(options)}")
    return value.upper()


def day(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) != 10:
        raise invalid(name, "must be a date, YYYY-MM-DD")
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise invalid(name, "must be a date, YYYY-MM-DD") from None


def amount(body: dict[str, Any], name: str = "amount") -> str:
    """Money as decimal text ("1250.00") or a JSON number: positive, at most two places."""
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise invalid(name, 'is required: a decimal string such as "1250.00"')
    raw = value if isinstance(value, str) else repr(value)
    if len(raw) > 40:
        raise invalid(name, "is too long")
    try:
        number = Decimal(raw.strip())
    except InvalidOperation:
        raise invalid(name, 'must be a decimal such as "1250.00"') from None
    if not number.is_finite() or not Decimal(0) < number <= MAX_AMOUNT:
        raise invalid(name, f"must be more than 0 and at most {MAX_AMOUNT}")
    if number != number.quantize(Decimal("0.01")):
        raise invalid(name, "must have at most two decimal places")
    return str(number.quantize(Decimal("0.01")))


def currency(body: dict[str, Any]) -> str:
    value = body.get("currency", "USD")
    if not isinstance(value, str) or not CURRENCY.fullmatch(value):
        raise invalid("currency", "must be a three-letter upper-case ISO 4217 code")
    return value


def limit(query: Any) -> int:
    raw = query.get("limit")
    if raw is None:
        return 50
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 4) or not 1 <= int(raw) <= MAX_PAGE:
        raise invalid("limit", f"must be an integer from 1 to {MAX_PAGE}")
    return int(raw)


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def cursor(query: Any) -> int:
    """The offset an opaque `cursor` (from `next_link`) stands for; 0 without one."""
    raw = query.get("cursor")
    if raw is None:
        return 0
    try:
        if len(raw) > 40:
            raise ValueError
        decoded = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode("ascii")
        prefix, _, number = decoded.partition(":")
        if prefix != "offset" or not (number.isdigit() and len(number) <= 9):
            raise ValueError
        return int(number)
    except (ValueError, binascii.Error, UnicodeError):
        raise invalid("cursor", "is not a cursor this API handed out") from None


def one(query: Any, name: str) -> str | None:
    """A filter given at most once, non-empty."""
    values = query.getall(name, [])
    if not values:
        return None
    if len(values) > 1:
        raise invalid(name, "must be given once")
    value = values[0].strip()
    if not value or len(value) > 254 or not _printable(value):
        raise invalid(name, "must be a non-empty printable value of at most 254 characters")
    return str(value)


def known_params(query: Any, allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(query) - set(allowed))
    if unknown:
        raise RipplingError(400, "validation_error", f"unknown query parameter {unknown[0][:100]!r}", "query")

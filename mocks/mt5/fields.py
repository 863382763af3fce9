"""Request parameters the MT5 way: query string and (for user/add and user/update) a JSON body.

Names match case-insensitively and without underscores, so `pass_main` in a query and `PassMain`
in a body are the same field. The JSON body is parsed whatever the Content-Type says, because
mt5-sdk posts JSON labelled `application/x-www-form-urlencoded`. Every bad value is
`3 Invalid parameters`; no exception from here reaches aiohttp.
"""

from __future__ import annotations

import json
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from aiohttp import web

from ..common.body import read_whole
from .retcodes import INVALID_PARAMETERS, MT5Error

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal(10) ** 12
MAX_LOGIN = 2**63 - 1
_UNSIGNED = re.compile(r"[0-9]{1,19}")
_SIGNED = re.compile(r"-?[0-9]{1,19}")


def key(name: str) -> str:
    return name.replace("_", "").lower()


def bad() -> MT5Error:
    return MT5Error(INVALID_PARAMETERS)


def _scalar(value: Any) -> str:
    """A JSON body value as the string a query would have carried; objects and lists are refused."""
    if isinstance(value, bool) or value is None or isinstance(value, dict | list):
        raise bad()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


async def read_body(request: web.Request) -> dict[str, str]:
    """A POST's JSON object body, keys normalised; empty when there is none. HTTP 400 when it is not JSON."""
    if request.method != "POST":
        return {}
    raw = await read_whole(request)  # HTTPRequestEntityTooLarge past client_max_size: the gateway answers 413
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        raise MT5Error(INVALID_PARAMETERS, status=400) from None
    if not isinstance(body, dict):
        raise MT5Error(INVALID_PARAMETERS, status=400)
    return {key(str(k)): _scalar(v) for k, v in body.items()}


class Params:
    """Query parameters, then body fields over them; typed getters raise `3 Invalid parameters`."""

    def __init__(self, query: dict[str, str], body: dict[str, str] | None = None) -> None:
        self.values = {key(k): v for k, v in query.items()}
        self.values.update(body or {})

    @classmethod
    async def of(cls, request: web.Request, with_body: bool = False) -> Params:
        try:
            query = {k: v for k, v in request.query.items()}
        except (UnicodeDecodeError, ValueError):
            raise bad() from None
        return cls(query, await read_body(request) if with_body else None)

    def has(self, name: str) -> bool:
        return key(name) in self.values

    def text(self, name: str, *, required: bool = True, max_len: int = 128, default: str = "") -> str:
        value = self.values.get(key(name))
        if value is None:
            if required:
                raise bad()
            return default
        if len(value) > max_len or any(ord(c) < 32 for c in value):
            raise bad()
        if required and not value.strip():
            raise bad()
        return value

    def integer(self, name: str, *, low: int = 0, high: int = MAX_LOGIN, default: int | None = None) -> int:
        raw = self.values.get(key(name))
        if raw is None:
            if default is None:
                raise bad()
            return default
        if not _SIGNED.fullmatch(raw):
            raise bad()
        value = int(raw)
        if not low <= value <= high:
            raise bad()
        return value

    def login(self, name: str = "login") -> int:
        raw = self.values.get(key(name), "")
        if not _UNSIGNED.fullmatch(raw):
            raise bad()
        return self.integer(name, low=1)

    def logins(self, name: str = "login") -> set[int]:
        """A comma-separated list of logins (deal/get_batch, position/get_batch)."""
        raw = self.values.get(key(name), "")
        parts = [p.strip() for p in raw.split(",")]
        if not raw or len(parts) > 1000 or not all(_UNSIGNED.fullmatch(p) for p in parts):
            raise bad()
        found = {int(p) for p in parts}
        if not all(1 <= login <= MAX_LOGIN for login in found):
            raise bad()
        return found

    def amount(self, name: str) -> Decimal:
        """Money to the cent (half up), non-zero and below 10^12 in size."""
        raw = self.values.get(key(name))
        if raw is None or len(raw) > 40:
            raise bad()
        try:
            value = Decimal(raw.strip())
        except InvalidOperation:
            raise bad() from None
        # copy_abs, not abs(): abs() rounds in the decimal context and overflows past its Emax (1e999999999)
        if not value.is_finite() or value.copy_abs() >= MAX_AMOUNT:
            raise bad()
        value = value.quantize(CENT, rounding=ROUND_HALF_UP)
        if value == 0:
            raise bad()
        return value

"""MT5 retcodes: every answer carries `"retcode": "<code> <text>"`, and clients parse the leading integer.

The codes are the ones seen in community clients (next-venues-and-contract.md §2); MetaQuotes does
not publish the texts, so the texts here are the mock's own and a client must never match on them.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

DONE = 0
INVALID_PARAMETERS = 3
NO_PERMISSIONS = 8
NOT_FOUND = 13
LOGINS_EXHAUSTED = 3002
LOGIN_EXISTS = 3004
INVALID_PASSWORD = 3006
NO_MONEY = 10019

TEXTS: dict[int, str] = {
    DONE: "Done",
    INVALID_PARAMETERS: "Invalid parameters",
    NO_PERMISSIONS: "Not enough permissions",
    NOT_FOUND: "Not found",
    LOGINS_EXHAUSTED: "Logins exhausted",
    LOGIN_EXISTS: "Login already exists",
    INVALID_PASSWORD: "Invalid password",
    NO_MONEY: "No money",
}

# A request on a connection without a session: HTTP 403 and code 8, like missing rights, but with its
# own text. A client tells the two apart by re-doing the handshake: a second 403 is the rights.
NOT_AUTHENTICATED = f"{NO_PERMISSIONS} Not authenticated"


def retcode(code: int) -> str:
    return f"{code} {TEXTS[code]}"


class MT5Error(Exception):
    """An MT5 error answer: its code, and the HTTP status it travels with (200 for most)."""

    def __init__(self, code: int, status: int = 200, text: str | None = None) -> None:
        super().__init__(text or retcode(code))
        self.code = code
        self.status = status
        self.retcode = text or retcode(code)


def answer(payload: Any = None, **extra: Any) -> web.Response:
    """A `0 Done` answer; `payload` goes under `answer` when given (user/get, deal/get_batch …)."""
    body: dict[str, Any] = {"retcode": retcode(DONE), **extra}
    if payload is not None:
        body["answer"] = payload
    return web.json_response(body)


def failure(error: MT5Error) -> web.Response:
    return web.json_response({"retcode": error.retcode}, status=error.status)

"""The mock's error answer, `{"error", "message", "status", "field"?}`: one shape for every failure.

Rippling's public documentation does not pin an error body for these calls, so this is the mock's own
(README, divergences); what matters to a middleware is the status and a message naming the field.
"""

from __future__ import annotations

from aiohttp import web


class RipplingError(Exception):
    """Raised by a handler or the gateway; the gateway turns it into the error answer."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers: dict[str, str] = {}

    def response(self) -> web.Response:
        return error_response(self.status, self.code, self.message, self.field, self.headers)


def error_response(
    status: int, code: str, message: str, field: str | None = None, headers: dict[str, str] | None = None
) -> web.Response:
    body: dict[str, object] = {"error": code, "message": message, "status": status}
    if field is not None:
        body["field"] = field
    return web.json_response(body, status=status, headers=headers)


def invalid(field: str, message: str) -> RipplingError:
    return RipplingError(400, "validation_error", f"{field}: {message}", field)


def not_found(what: str, field: str = "id") -> RipplingError:
    return RipplingError(404, "not_found", f"no {what} with that id in this company", field)


def default_code(status: int) -> tuple[str, str]:
    """The code and message a forced `status` fault answers with."""
    if status == 429:
        return "rate_limited", "Too many requests: retry after the Retry-After header's seconds."
    if status == 401:
        return "unauthorized", "The access token is invalid or expired."
    if status >= 500:
        return "server_error", f"The server answered {status} (a fault armed on the mock)."
    return "request_error", f"The server answered {status} (a fault armed on the mock)."

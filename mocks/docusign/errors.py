"""DocuSign's error answer, `{"errorCode", "message"}`, with DocuSign's codes where they are known.

Seen in DocuSign's documentation and SDK issue threads, with these texts: AUTHORIZATION_INVALID_TOKEN
(401), INVALID_REQUEST_BODY, INVALID_REQUEST_PARAMETER (the missing `voidedReason` message); by
name only: ENVELOPE_DOES_NOT_EXIST, USER_LACKS_MEMBERSHIP, UNSPECIFIED_ERROR. The README says which
of the others are recalled but unconfirmed, and which are this mock's own.
"""

from __future__ import annotations

from aiohttp import web

PARAMETER = "The request contained at least one invalid parameter."
BODY = "The request body is missing or improperly formatted."


class DocuSignError(Exception):
    """Raised by a handler; the gateway turns it into the error answer."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message

    def response(self) -> web.Response:
        return error_response(self.status, self.code, self.message)


def error_response(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"errorCode": code, "message": message}, status=status)


def bad_body(detail: str = "") -> DocuSignError:
    return DocuSignError(400, "INVALID_REQUEST_BODY", f"{BODY} {detail}".strip())


def bad_parameter(detail: str) -> DocuSignError:
    return DocuSignError(400, "INVALID_REQUEST_PARAMETER", f"{PARAMETER} {detail}")


def no_envelope() -> DocuSignError:
    return DocuSignError(
        400,
        "ENVELOPE_DOES_NOT_EXIST",
        "The envelope specified either does not exist or you have no rights to it.",
    )


def default_code(status: int) -> tuple[str, str]:
    """The code and message a forced `status` fault answers with when it names none."""
    if status == 400:
        return "INVALID_REQUEST_PARAMETER", PARAMETER
    if status == 401:
        return "AUTHORIZATION_INVALID_TOKEN", "The access token provided is expired, revoked or malformed."
    if status == 429:
        return (
            "HOURLY_APIINVOCATION_LIMIT_EXCEEDED",
            "The maximum number of hourly API invocations has been exceeded.",
        )
    return "UNSPECIFIED_ERROR", f"The server answered {status} (a fault armed on the mock)."

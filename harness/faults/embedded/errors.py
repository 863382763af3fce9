"""Toxiproxy's API errors: the exact messages and status codes clients match on."""

from __future__ import annotations


class ApiError(Exception):
    """An error the HTTP API reports as `{"error": message, "status": code}`."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class BindError(ApiError):
    """A listener that could not bind: Toxiproxy reports these as 500 with the OS's words."""

    def __init__(self, message: str) -> None:
        super().__init__(message, 500)


def bad_body(reason: str) -> ApiError:
    return ApiError(f"bad request body: {reason}", 400)


def missing_field(field: str, suffix: str = "") -> ApiError:
    return ApiError(f"missing required field: {field}{suffix}", 400)


PROXY_NOT_FOUND = "proxy not found"
TOXIC_NOT_FOUND = "toxic not found"
PROXY_EXISTS = "proxy already exists"
TOXIC_EXISTS = "toxic already exists"
INVALID_STREAM = "stream was invalid, can be either upstream or downstream"
INVALID_TOXIC_TYPE = "invalid toxic type"

"""A running TT mock, and a client that calls it the way TT's documented clients do."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mocks.tt import TTConfig, TTMock
from tests.mocks.venue_thread import VenueThread


class TTClient:
    """Token from /ttid/{env}/token (form-encoded, x-api-key), then Bearer + x-api-key + requestId."""

    def __init__(self, base: str, env: str, app_key: str, app_secret: str, timeout: float = 5) -> None:
        self.env = env
        self.app_key = app_key
        self.app_secret = app_secret
        self.http = httpx.Client(base_url=base, timeout=timeout, follow_redirects=True)
        self.token: str | None = None
        self.token_response: dict[str, Any] = {}

    def close(self) -> None:
        self.http.close()

    @staticmethod
    def request_id() -> str:
        return f"stackuat-firm--{uuid.uuid4()}"

    def get_token(self) -> httpx.Response:
        r = self.http.post(
            f"/ttid/{self.env}/token",
            content=f"grant_type=user_app&app_key={self.app_key}:{self.app_secret}",
            headers={"x-api-key": self.app_key, "Content-Type": "application/x-www-form-urlencoded"},
        )
        if r.status_code == 200:
            self.token_response = r.json()
            self.token = self.token_response["access_token"]
        return r

    def headers(self) -> dict[str, str]:
        headers = {"x-api-key": self.app_key}
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def get(self, service: str, path: str, **params: Any) -> httpx.Response:
        params.setdefault("requestId", self.request_id())
        return self.http.get(f"/{service}/{self.env}/{path}", params=params, headers=self.headers())

    def post(self, service: str, path: str, body: Any) -> httpx.Response:
        return self.http.post(
            f"/{service}/{self.env}/{path}",
            params={"requestId": self.request_id()},
            json=body,
            headers=self.headers(),
        )


@pytest.fixture
def tt() -> Iterator[VenueThread]:
    # A generous rate so tests that are not about limits are never throttled; the limit tests
    # set the plan's rate back through the control API.
    venue = TTMock(seed=11, config=TTConfig(rate_per_s=10_000, rate_per_day=10**8))
    with VenueThread(venue) as vt:
        yield vt


@pytest.fixture
def control(tt: VenueThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=tt.control_url, timeout=5) as client:
        yield client


def make_client(tt: VenueThread, timeout: float = 5) -> TTClient:
    venue = tt.venue
    assert isinstance(venue, TTMock)
    return TTClient(venue.url, venue.config.env, venue.config.app_key, venue.config.app_secret, timeout)


@pytest.fixture
def client(tt: VenueThread) -> Iterator[TTClient]:
    c = make_client(tt)
    try:
        assert c.get_token().status_code == 200
        yield c
    finally:
        c.close()

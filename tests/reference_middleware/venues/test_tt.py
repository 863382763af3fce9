"""The middleware's TT client against the TT mock: token lifecycle, 429 handling, paging, bad bodies."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import httpx
import pytest

from mocks.tt import TTMock
from reference_middleware.config import Config
from reference_middleware.venues.tt import TTClient, TTError
from tests.mocks.venue_thread import VenueThread

T = TypeVar("T")


@pytest.fixture
def tt() -> Iterator[VenueThread]:
    with VenueThread(TTMock(seed=5)) as venue:
        yield venue


def _client(venue: VenueThread, mutants: str = "") -> tuple[TTClient, list[int]]:
    mock = venue.venue
    assert isinstance(mock, TTMock)
    cfg = Config.from_env(
        {
            "REFMW_DATABASE_URL": "postgresql://unused",
            "REFMW_RITHMIC_URL": "ws://127.0.0.1:1",
            "REFMW_RITHMIC_USER": "u",
            "REFMW_RITHMIC_PASSWORD": "p",
            "REFMW_TT_URL": venue.url,
            "REFMW_TT_ENV": mock.config.env,
            "REFMW_TT_APP_KEY": mock.config.app_key,
            "REFMW_TT_APP_SECRET": mock.config.app_secret,
            "REFMW_STRIPE_WEBHOOK_SECRET": "whsec_x",
            "REFMW_MUTANTS": mutants,
        }
    )
    client = TTClient(cfg)
    statuses: list[int] = []

    async def record(response: httpx.Response) -> None:
        statuses.append(response.status_code)

    client.http.event_hooks["response"].append(record)
    return client, statuses


def _run(client: TTClient, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
    """Run one async scenario on a fresh loop, bounded, and always close the client on that loop."""

    async def scenario() -> T:
        try:
            return await asyncio.wait_for(coro, timeout)
        finally:
            await client.close()

    return asyncio.run(scenario())


def _configure(venue: VenueThread, **settings: Any) -> None:
    httpx.post(f"{venue.control_url}/tt/config", json=settings).raise_for_status()


def test_the_token_is_refreshed_before_it_expires(tt: VenueThread) -> None:
    _configure(tt, token_ttl_s=1.0, rate_per_s=100)
    client, statuses = _client(tt)

    async def work() -> None:
        deadline = time.monotonic() + 3.5
        while time.monotonic() < deadline:
            await client.request("GET", "ttaccount", "accounts")
            await asyncio.sleep(0.1)

    _run(client, work())
    assert client.token_fetches >= 3, "a 1 s token must be renewed during 3.5 s of calls"
    assert 401 not in statuses, "the token was used after it expired"


def _arm(venue: VenueThread, fault: str, count: int, **params: Any) -> None:
    body = {"fault": fault, "params": params, "count": count}
    httpx.post(f"{venue.control_url}/faults", json=body).raise_for_status()


def test_a_401_refreshes_the_token_once_and_repeats_the_call(tt: VenueThread) -> None:
    _arm(tt, "early_token_expiry", 1)
    client, statuses = _client(tt)
    body = _run(client, client.request("GET", "ttaccount", "accounts"))
    assert body["accounts"] and statuses.count(401) == 1 and client.token_fetches == 2


def test_the_never_refreshed_mutant_stays_unauthorized(tt: VenueThread) -> None:
    client, _ = _client(tt, "tt_token_never_refreshed")

    async def work() -> list[str]:
        await client.token()
        _arm(tt, "early_token_expiry", 1)
        errors = []
        for _ in range(2):
            try:
                await client.request("GET", "ttaccount", "accounts")
            except TTError as exc:
                errors.append(str(exc))
        return errors

    errors = _run(client, work())
    assert len(errors) == 2 and all("401" in e for e in errors), errors
    assert client.token_fetches == 1


def test_retry_after_is_honoured(tt: VenueThread) -> None:
    client, statuses = _client(tt)

    async def work() -> float:
        await client.token()
        _arm(tt, "rate_limit_storm", 2, retry_after=1)
        started = time.monotonic()
        await client.request("GET", "ttaccount", "accounts")
        return time.monotonic() - started

    elapsed = _run(client, work())
    assert statuses.count(429) == 2 and elapsed >= 1.9


def test_the_ignore_429_mutant_hammers_and_gives_up(tt: VenueThread) -> None:
    client, statuses = _client(tt, "tt_ignore_429")

    async def work() -> float:
        await client.token()
        _arm(tt, "rate_limit_storm", 5, retry_after=1)
        started = time.monotonic()
        with pytest.raises(TTError, match="429"):
            await client.request("GET", "ttaccount", "accounts")
        return time.monotonic() - started

    elapsed = _run(client, work())
    assert statuses.count(429) == 3 and elapsed < 0.9


def test_fills_are_read_page_by_page_without_gaps_or_repeats(tt: VenueThread) -> None:
    _configure(tt, page_size=100, rate_per_s=100)
    seeded = httpx.post(f"{tt.control_url}/tt/fills", json={"count": 450}).json()
    client, statuses = _client(tt)

    async def work() -> tuple[list[dict[str, Any]], int, list[dict[str, Any]], int]:
        fills, cursor = await client.fills_since(0)
        more, again = await client.fills_since(cursor)
        return fills, cursor, more, again

    fills, cursor, more, again = _run(client, work())
    ids = [f["fillId"] for f in fills]
    assert len(ids) == len(set(ids)) == 450
    assert cursor == seeded["last_transact_time"] + 1
    assert statuses.count(200) >= 6  # the token and five pages
    assert more == [] and again == cursor


def test_a_malformed_body_is_an_error_not_a_crash(tt: VenueThread) -> None:
    client, _ = _client(tt)

    async def work() -> tuple[str, str]:
        await client.token()
        _arm(tt, "malformed_json", 1)
        with pytest.raises(TTError, match="malformed JSON"):
            await client.request("GET", "ttaccount", "accounts")
        during = client.status()["status"]
        await client.request("GET", "ttaccount", "accounts")
        return during, client.status()["status"]

    assert _run(client, work()) == ("down", "up")

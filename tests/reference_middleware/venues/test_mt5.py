"""The middleware's MT5 client against the MT5 mock: the handshake both ways, one session per connection,
recovery from a lost session, and balance operations booked once however often the answer is lost."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Coroutine, Iterator
from decimal import Decimal
from typing import Any, TypeVar

import httpx
import pytest

from mocks.mt5 import DEFAULT_MANAGER, DEFAULT_PASSWORD, MT5Config, MT5Mock
from reference_middleware.venues.mt5 import MT5AuthError, MT5Client, MT5Error, MT5OutcomeUnknown
from tests.mocks.mt5.conftest import arm, fired, ledger
from tests.mocks.venue_thread import VenueThread

T = TypeVar("T")
USER = 500000  # the first seeded user


@pytest.fixture
def mt5() -> Iterator[VenueThread]:
    with VenueThread(MT5Mock(seed=5)) as vt:
        yield vt


@pytest.fixture
def control(mt5: VenueThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=mt5.control_url, timeout=5) as client:
        yield client


def _client(vt: VenueThread, password: str = DEFAULT_PASSWORD, **options: Any) -> MT5Client:
    return MT5Client(vt.url, DEFAULT_MANAGER, password, **options)


def _run(client: MT5Client, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
    """Run one async scenario on a fresh loop, bounded, and always close the client on that loop."""

    async def scenario() -> T:
        try:
            return await asyncio.wait_for(coro, timeout)
        finally:
            await client.close()

    return asyncio.run(scenario())


def _with_comment(control: httpx.Client, comment: str) -> list[dict[str, Any]]:
    return [d for d in ledger(control)["deals"] if d["comment"] == comment]


def test_users_and_deals_on_one_session(mt5: VenueThread, control: httpx.Client) -> None:
    client = _client(mt5)

    async def work() -> None:
        added = await client.user_add("Bea Trader", "real\\pro", 100, "Main#123", investor_password="Inv#123")
        assert added.login == 500003 and added.balance == Decimal("0.00")
        assert await client.user_get(added.login) == added
        assert await client.user_get(799999) is None
        updated = await client.user_update(added.login, Leverage=200)
        assert updated.leverage == 200 and updated.name == "Bea Trader"
        deposit = await client.deposit(added.login, "1000.50", comment="bea-dep")
        await client.withdraw(added.login, Decimal("200.25"))
        await client.credit(added.login, 300)
        account = await client.user_get(added.login)
        assert account is not None
        assert (account.balance, account.credit) == (Decimal("800.25"), Decimal("300.00"))
        deals = await client.deals(added.login)
        assert [(d.action, d.amount) for d in deals] == [
            (2, Decimal("1000.50")),
            (2, Decimal("-200.25")),
            (3, Decimal("300.00")),
        ]
        assert deals[0].deal == deposit.deal and deals[0].comment == "bea-dep"
        assert deals[1].comment.startswith("refmw-")  # a unique comment made up for the lookup
        assert client.handshakes == 1  # one keep-alive connection carried every call

    _run(client, work())
    assert len(control.get("/events", params={"kind": "auth_ok"}).json()["events"]) == 1


def test_a_wrong_password_is_refused(mt5: VenueThread) -> None:
    client = _client(mt5, password="Manager#1001")
    with pytest.raises(MT5AuthError) as info:
        _run(client, client.ping())
    assert info.value.code == 3006


def test_an_impostor_server_is_refused(mt5: VenueThread, control: httpx.Client) -> None:
    arm(control, "handshake_failure", params={"stage": "server_proof"}, count=1)
    client = _client(mt5)

    async def work() -> None:
        with pytest.raises(MT5AuthError, match="proof"):
            await client.user_get(USER)
        assert client.handshakes == 0
        assert await client.user_get(USER) is not None  # a genuine server on the next try

    _run(client, work())
    # nothing but the handshake went to the impostor's session
    sessions = control.get("/events", params={"kind": "auth_ok"}).json()["events"]
    assert len(sessions) == 2


def test_recovers_from_lost_sessions(mt5: VenueThread, control: httpx.Client) -> None:
    arm(control, "session_lost", params={"after": 2}, count=3)
    client = _client(mt5)

    async def work() -> None:
        for _ in range(4):
            await client.ping()
        await client.deposit(USER, 10, comment="after-losses")
        assert await client.user_get(USER) is not None

    _run(client, work())
    assert fired(control, "session_lost") == 3
    assert client.handshakes == 3  # the third close came with the last answer: nothing needed a fourth
    assert len(_with_comment(control, "after-losses")) == 1


def test_recovers_from_a_session_the_server_forgot(mt5: VenueThread, control: httpx.Client) -> None:
    client = _client(mt5)

    async def work() -> None:
        await client.ping()
        await asyncio.to_thread(lambda: control.post("/reset").raise_for_status())  # 403 on the next call
        await client.deposit(USER, 5, comment="after-reset")

    _run(client, work())
    assert client.handshakes == 2
    assert len(_with_comment(control, "after-reset")) == 1


def test_the_retry_trap_books_one_deal(mt5: VenueThread, control: httpx.Client) -> None:
    arm(control, "answer_lost", count=1)
    client = _client(mt5)
    outcome = _run(client, client.deposit(USER, "250", comment="trap-1"))
    assert outcome.recovered and outcome.attempts == 1
    booked = _with_comment(control, "trap-1")
    assert [d["deal"] for d in booked] == [outcome.deal]
    assert fired(control, "answer_lost") == 1


def test_a_naive_retry_through_the_same_client_books_two(mt5: VenueThread, control: httpx.Client) -> None:
    """The same trap, with trade/balance sent as if it were safe to repeat: two deals."""
    arm(control, "answer_lost", count=1)
    client = _client(mt5)
    params = {"login": USER, "type": 2, "balance": "250", "comment": "naive-1"}
    _run(client, client.call("/api/trade/balance", params, safe=True))
    assert len(_with_comment(control, "naive-1")) == 2


def test_a_request_lost_on_the_way_in_is_sent_again(mt5: VenueThread, control: httpx.Client) -> None:
    arm(control, "answer_lost", params={"execute": False}, count=1)
    client = _client(mt5, settle_s=0.05)
    outcome = _run(client, client.deposit(USER, "75", comment="lost-in-1"))
    assert not outcome.recovered and outcome.attempts == 2
    assert [d["deal"] for d in _with_comment(control, "lost-in-1")] == [outcome.deal]


def test_a_timed_out_deal_is_found_once_it_lands(mt5: VenueThread, control: httpx.Client) -> None:
    """The server books after the client gave up waiting; the settle look finds it, no retry."""
    arm(control, "slow_answer", params={"delay_ms": 1500, "path": "/api/trade/balance"}, count=1)
    client = _client(mt5, timeout_s=1.0, settle_s=1.5)
    outcome = _run(client, client.deposit(USER, "42", comment="slow-1"))
    assert outcome.recovered and outcome.attempts == 1
    assert [d["deal"] for d in _with_comment(control, "slow-1")] == [outcome.deal]


def test_an_answer_lost_every_time_is_still_one_deal(mt5: VenueThread, control: httpx.Client) -> None:
    arm(control, "answer_lost")  # until cleared
    client = _client(mt5)
    outcome = _run(client, client.withdraw(USER, "1", comment="always-lost"))
    assert outcome.recovered
    assert len(_with_comment(control, "always-lost")) == 1


def test_error_retcodes_are_not_retried(mt5: VenueThread, control: httpx.Client) -> None:
    client = _client(mt5)

    async def work() -> None:
        with pytest.raises(MT5Error) as info:
            await client.withdraw(USER, "10000000")
        assert info.value.code == 10019
        arm(control, "no_rights", params={"path": "/api/trade/balance"})
        with pytest.raises(MT5Error) as denied:
            await client.deposit(USER, 1)
        assert (denied.value.code, denied.value.status) == (8, 403)
        assert not isinstance(denied.value, MT5OutcomeUnknown)

    _run(client, work())
    assert client.handshakes == 2  # one more handshake to tell lost session from missing rights
    assert len(ledger(control)["deals"]) == 3


def test_over_tls(control: httpx.Client) -> None:
    with VenueThread(MT5Mock(seed=5, config=MT5Config(tls=True))) as vt:
        venue = vt.venue
        assert isinstance(venue, MT5Mock) and venue.cert_path is not None
        client = _client(vt, verify=ssl.create_default_context(cafile=str(venue.cert_path)))
        account = _run(client, client.user_get(USER))
        assert account is not None and account.login == USER

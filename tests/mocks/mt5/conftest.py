"""A running MT5 mock, and a manager client that does the handshake from the documented formula.

The hash is written out here from next-venues-and-contract.md §2, not imported from the mock, so
the tests check the mock against the reference rather than against itself.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mocks.mt5 import DEFAULT_MANAGER, DEFAULT_PASSWORD, MT5Mock
from tests.mocks.venue_thread import VenueThread


def reference_hash(password: str) -> bytes:
    return hashlib.md5(hashlib.md5(password.encode("utf-16-le")).digest() + b"WebAPI").digest()


class Manager:
    """One keep-alive connection (a pool of one), so every call rides the handshake's session."""

    def __init__(
        self, url: str, login: int = DEFAULT_MANAGER, password: str = DEFAULT_PASSWORD, **kwargs: Any
    ) -> None:
        self.login = login
        self.password = password
        self.http = httpx.Client(
            base_url=url,
            timeout=kwargs.pop("timeout", 5),
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            **kwargs,
        )
        self.server_proof_ok: bool | None = None

    def close(self) -> None:
        self.http.close()

    def start(self) -> httpx.Response:
        return self.get(
            "/api/auth/start", version=4000, agent="stack-uat-tests", login=self.login, type="manager"
        )

    def handshake(self, password: str | None = None) -> httpx.Response:
        """auth/start then auth/answer; records whether the server's cli_rand_answer checked out."""
        started = self.start()
        assert started.status_code == 200, started.text
        srv_rand = bytes.fromhex(started.json()["srv_rand"])
        hashed = reference_hash(self.password if password is None else password)
        cli_rand = os.urandom(16)
        r = self.get(
            "/api/auth/answer",
            srv_rand_answer=hashlib.md5(hashed + srv_rand).hexdigest(),
            cli_rand=cli_rand.hex(),
        )
        if r.status_code == 200 and r.json()["retcode"] == "0 Done":
            self.server_proof_ok = r.json()["cli_rand_answer"] == hashlib.md5(hashed + cli_rand).hexdigest()
        return r

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.http.get(path, params=params)

    def post(self, path: str, body: Any, **params: Any) -> httpx.Response:
        return self.http.post(path, json=body, params=params)

    def balance(self, login: int, kind: int, amount: str, comment: str) -> httpx.Response:
        return self.get("/api/trade/balance", login=login, type=kind, balance=amount, comment=comment)


def retcode(r: httpx.Response) -> str:
    value: str = r.json()["retcode"]
    return value


def arm(control: httpx.Client, fault: str, **body: object) -> dict[str, object]:
    r = control.post("/faults", json={"fault": fault, **body})
    assert r.status_code == 201, r.text
    result: dict[str, object] = r.json()
    return result


def fired(control: httpx.Client, fault: str) -> int:
    events = control.get("/events", params={"kind": "fault_fired"}).json()["events"]
    return len([e for e in events if e["fault"] == fault])


def ledger(control: httpx.Client) -> dict[str, Any]:
    body: dict[str, Any] = control.get("/ledger").json()
    return body


@pytest.fixture
def mt5() -> Iterator[VenueThread]:
    with VenueThread(MT5Mock(seed=7)) as vt:
        yield vt


@pytest.fixture
def control(mt5: VenueThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=mt5.control_url, timeout=5) as client:
        yield client


@pytest.fixture
def manager(mt5: VenueThread) -> Iterator[Manager]:
    m = Manager(mt5.url)
    try:
        r = m.handshake()
        assert retcode(r) == "0 Done" and m.server_proof_ok
        yield m
    finally:
        m.close()


@pytest.fixture
def seeded(mt5: VenueThread) -> list[int]:
    """The seeded users' logins."""
    venue = mt5.venue
    assert isinstance(venue, MT5Mock)
    return sorted(venue.ledger.users)

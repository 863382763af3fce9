"""The handshake (both proofs), 3006 for a wrong password or unknown manager, connection-bound sessions."""

from __future__ import annotations

import hashlib
import time

import httpx
import pytest

from mocks.mt5 import password_hash
from tests.mocks.mt5.conftest import Manager, reference_hash, retcode
from tests.mocks.venue_thread import VenueThread


def test_the_hash_is_the_documented_one_on_raw_digests() -> None:
    for password in ("Manager#1000", "pässwörd€", ""):
        assert password_hash(password) == reference_hash(password)
    # hex intermediates are a different (wrong) hash
    hex_hash = hashlib.md5(hashlib.md5("pw".encode("utf-16-le")).hexdigest().encode() + b"WebAPI").digest()
    assert password_hash("pw") != hex_hash


def test_handshake_with_the_right_password(mt5: VenueThread) -> None:
    m = Manager(mt5.url)
    try:
        started = m.start()
        assert started.status_code == 200
        body = started.json()
        assert body["retcode"] == "0 Done" and len(bytes.fromhex(body["srv_rand"])) == 16
        assert retcode(m.get("/api/test/access")) == "8 Not authenticated"  # started, not yet answered
        answered = m.handshake()
        assert answered.status_code == 200 and retcode(answered) == "0 Done"
        assert m.server_proof_ok is True  # the server proved it knows the password too
        access = m.get("/api/test/access")
        assert access.status_code == 200 and access.json() == {"retcode": "0 Done"}
    finally:
        m.close()


def test_srv_rand_differs_per_handshake(mt5: VenueThread) -> None:
    m = Manager(mt5.url)
    try:
        rands = {m.start().json()["srv_rand"] for _ in range(5)}
        assert len(rands) == 5
    finally:
        m.close()


def test_wrong_password_is_3006_and_the_session_stays_closed(mt5: VenueThread, control: httpx.Client) -> None:
    m = Manager(mt5.url)
    try:
        r = m.handshake(password="Manager#1001")
        assert r.status_code == 200 and r.json() == {"retcode": "3006 Invalid password"}
        denied = m.get("/api/user/get", login=500000)
        assert denied.status_code == 403 and retcode(denied) == "8 Not authenticated"
        # a failed answer used up the srv_rand: answering again without a new start is refused
        again = m.get("/api/auth/answer", srv_rand_answer="0" * 32, cli_rand="0" * 32)
        assert again.status_code == 403
        assert retcode(m.handshake()) == "0 Done"
        assert m.get("/api/test/access").status_code == 200
    finally:
        m.close()
    failed = control.get("/events", params={"kind": "auth_failed"}).json()["events"]
    assert [e["retcode"] for e in failed] == ["3006 Invalid password", "8 Not authenticated"]


def test_unknown_manager_looks_like_a_wrong_password(mt5: VenueThread) -> None:
    known, unknown = Manager(mt5.url), Manager(mt5.url, login=4242)
    try:
        started = unknown.start()
        assert started.status_code == 200 and set(started.json()) == {"retcode", "srv_rand"}
        assert unknown.handshake().json() == known.handshake(password="wrong").json()
        assert unknown.get("/api/test/access").status_code == 403
    finally:
        known.close()
        unknown.close()


def test_non_ascii_password_of_a_manager_added_through_control(
    mt5: VenueThread, control: httpx.Client
) -> None:
    r = control.post("/mt5/config", json={"managers": {"1001": "pässwörd€"}})
    assert r.status_code == 200 and r.json()["managers"] == {"1000": "***", "1001": "***"}
    m = Manager(mt5.url, login=1001, password="pässwörd€")
    try:
        assert retcode(m.handshake()) == "0 Done" and m.server_proof_ok
    finally:
        m.close()
    control.post("/mt5/config", json={"managers": {"1001": None}})
    gone = Manager(mt5.url, login=1001, password="pässwörd€")
    try:
        assert retcode(gone.handshake()) == "3006 Invalid password"
    finally:
        gone.close()


def test_a_second_connection_without_handshake_is_refused(mt5: VenueThread, manager: Manager) -> None:
    with httpx.Client(base_url=mt5.url, timeout=5) as other:
        for path in ("/api/test/access", "/api/user/get?login=500000", "/api/trade/balance"):
            r = other.get(path)
            assert r.status_code == 403 and r.json() == {"retcode": "8 Not authenticated"}
    assert manager.get("/api/test/access").status_code == 200  # the authenticated one is untouched


def test_auth_answer_must_come_on_the_connection_of_auth_start(mt5: VenueThread) -> None:
    first, second = Manager(mt5.url), Manager(mt5.url)
    try:
        srv_rand = bytes.fromhex(first.start().json()["srv_rand"])
        proof = hashlib.md5(reference_hash(first.password) + srv_rand).hexdigest()
        r = second.get("/api/auth/answer", srv_rand_answer=proof, cli_rand="ab" * 16)
        assert r.status_code == 403 and retcode(r) == "8 Not authenticated"
    finally:
        first.close()
        second.close()


def test_the_session_dies_with_its_connection(mt5: VenueThread, control: httpx.Client) -> None:
    m = Manager(mt5.url)
    assert retcode(m.handshake()) == "0 Done"
    assert [s["authenticated"] for s in control.get("/mt5/sessions").json()["sessions"]] == [True]
    m.close()
    deadline = time.monotonic() + 5
    while control.get("/mt5/sessions").json()["sessions"] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert control.get("/mt5/sessions").json()["sessions"] == []


@pytest.mark.parametrize(
    "params",
    [
        {"version": 4000, "agent": "a", "login": 1000, "type": "client"},
        {"version": 4000, "agent": "a", "login": "abc", "type": "manager"},
        {"version": 4000, "agent": "a", "type": "manager"},
        {"version": 4000, "agent": "a", "login": -1, "type": "manager"},
    ],
)
def test_bad_auth_start(mt5: VenueThread, params: dict[str, str | int]) -> None:
    with httpx.Client(base_url=mt5.url, timeout=5) as http:
        r = http.get("/api/auth/start", params=params)
        assert r.status_code == 200 and r.json() == {"retcode": "3 Invalid parameters"}


@pytest.mark.parametrize(
    ("srv_rand_answer", "cli_rand"), [("xyz", "ab" * 16), ("ab" * 16, "ab" * 8), ("ab" * 16, "zz" * 16)]
)
def test_malformed_auth_answer(mt5: VenueThread, srv_rand_answer: str, cli_rand: str) -> None:
    m = Manager(mt5.url)
    try:
        m.start()
        r = m.get("/api/auth/answer", srv_rand_answer=srv_rand_answer, cli_rand=cli_rand)
        assert r.json() == {"retcode": "3 Invalid parameters"}
        assert m.get("/api/test/access").status_code == 403
    finally:
        m.close()

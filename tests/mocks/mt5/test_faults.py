"""Every MT5 fault, armed through the control API and observed by a manager on a real socket."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.mocks.mt5.conftest import Manager, arm, fired, ledger, retcode
from tests.mocks.venue_thread import VenueThread


@pytest.mark.parametrize("code", [3006, 3])
def test_handshake_failure_at_start(mt5: VenueThread, control: httpx.Client, code: int) -> None:
    arm(control, "handshake_failure", params={"stage": "start", "code": code}, count=1)
    m = Manager(mt5.url)
    try:
        r = m.start()
        assert r.status_code == 200 and "srv_rand" not in r.json() and retcode(r).startswith(f"{code} ")
        assert retcode(m.handshake()) == "0 Done"  # one firing only
    finally:
        m.close()
    assert fired(control, "handshake_failure") == 1


def test_handshake_failure_at_answer_with_the_right_password(mt5: VenueThread, control: httpx.Client) -> None:
    arm(control, "handshake_failure", count=1)  # stage "answer", code 3006 by default
    m = Manager(mt5.url)
    try:
        assert m.handshake().json() == {"retcode": "3006 Invalid password"}
        assert m.get("/api/test/access").status_code == 403
        assert retcode(m.handshake()) == "0 Done" and m.server_proof_ok
    finally:
        m.close()


def test_an_impostor_server_fails_its_proof(mt5: VenueThread, control: httpx.Client) -> None:
    arm(control, "handshake_failure", params={"stage": "server_proof"}, count=1)
    m = Manager(mt5.url)
    try:
        assert retcode(m.handshake()) == "0 Done"
        assert m.server_proof_ok is False  # a careful client stops here
    finally:
        m.close()
    assert fired(control, "handshake_failure") == 1


def test_session_lost_after_n_requests(mt5: VenueThread, manager: Manager, control: httpx.Client) -> None:
    arm(control, "session_lost", params={"after": 2}, count=1)
    first = manager.get("/api/test/access")  # the session's first request
    assert first.status_code == 200 and first.headers.get("Connection") is None
    second = manager.get("/api/test/access")
    assert second.status_code == 200 and second.headers["Connection"] == "close"
    # the next request rides a new connection, which has no session
    lost = manager.get("/api/test/access")
    assert lost.status_code == 403 and retcode(lost) == "8 Not authenticated"
    assert retcode(manager.handshake()) == "0 Done"
    for _ in range(3):  # fired once: the new session keeps its connection
        assert manager.get("/api/test/access").status_code == 200
    assert fired(control, "session_lost") == 1
    assert len(control.get("/events", params={"kind": "session_closed"}).json()["events"]) == 1


def test_no_rights_on_one_endpoint(manager: Manager, control: httpx.Client, seeded: list[int]) -> None:
    arm(control, "no_rights", params={"path": "/api/trade/balance"})
    r = manager.balance(seeded[0], 2, "10", "denied")
    assert r.status_code == 403 and r.json() == {"retcode": "8 Not enough permissions"}
    assert retcode(manager.get("/api/user/get", login=seeded[0])) == "0 Done"  # other endpoints untouched
    assert len(ledger(control)["deals"]) == 3
    control.delete("/faults", params={"fault": "no_rights"})
    assert retcode(manager.balance(seeded[0], 2, "10", "allowed")) == "0 Done"


@pytest.mark.parametrize(
    ("code", "text"),
    [(3, "Invalid parameters"), (13, "Not found"), (3004, "Login already exists"), (10019, "No money")],
)
def test_forced_retcode_executes_nothing(
    manager: Manager, control: httpx.Client, seeded: list[int], code: int, text: str
) -> None:
    arm(control, "retcode_error", params={"code": code, "path": "/api/trade/balance"}, count=1)
    r = manager.balance(seeded[0], 2, "10", "forced")
    assert r.status_code == 200 and r.json() == {"retcode": f"{code} {text}"}
    assert len(ledger(control)["deals"]) == 3
    assert retcode(manager.balance(seeded[0], 2, "10", "after")) == "0 Done"
    assert fired(control, "retcode_error") == 1


def test_forced_3004_on_user_add(manager: Manager, control: httpx.Client) -> None:
    arm(control, "retcode_error", params={"code": 3004, "path": "/api/user/add"}, count=1)
    user = {"Name": "N", "Group": "g", "Leverage": 1, "PassMain": "p"}
    assert manager.post("/api/user/add", user).json() == {"retcode": "3004 Login already exists"}
    assert len(ledger(control)["users"]) == 3


def test_slow_answer(mt5: VenueThread, manager: Manager, control: httpx.Client) -> None:
    arm(control, "slow_answer", params={"delay_ms": 400, "path": "/api/test/access"}, count=1)
    started = time.monotonic()
    assert manager.get("/api/test/access").status_code == 200
    assert time.monotonic() - started >= 0.39
    assert manager.get("/api/test/access").status_code == 200
    assert fired(control, "slow_answer") == 1  # once: the second request was not held


def test_slow_handshake_trips_a_read_timeout(mt5: VenueThread, control: httpx.Client) -> None:
    arm(control, "slow_answer", params={"delay_ms": 1000, "path": "/api/auth/start"}, count=1)
    impatient = Manager(mt5.url, timeout=0.2)
    try:
        with pytest.raises(httpx.ReadTimeout):
            impatient.start()
    finally:
        impatient.close()


def test_answer_lost_books_the_deal_and_a_naive_retry_books_it_again(
    manager: Manager, control: httpx.Client, seeded: list[int]
) -> None:
    arm(control, "answer_lost", count=1)
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):  # FIN or RST: no answer either way
        manager.balance(seeded[0], 2, "100", "naive-1")
    booked = [d for d in ledger(control)["deals"] if d["comment"] == "naive-1"]
    assert len(booked) == 1  # booked, though the client never heard of it
    # the naive client redoes the handshake on a new connection and sends the same call again
    assert retcode(manager.handshake()) == "0 Done"
    assert retcode(manager.balance(seeded[0], 2, "100", "naive-1")) == "0 Done"
    assert len([d for d in ledger(control)["deals"] if d["comment"] == "naive-1"]) == 2
    assert fired(control, "answer_lost") == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"fault": "handshake_failure", "params": {"stage": "middle"}}, "params.stage"),
        ({"fault": "handshake_failure", "params": {"code": 0}}, "params.code"),
        ({"fault": "retcode_error", "params": {"code": 3006}}, "params.code"),
        ({"fault": "session_lost", "params": {"after": 0}}, "params.after"),
        ({"fault": "slow_answer", "params": {"delay_ms": -1}}, "params.delay_ms"),
        ({"fault": "answer_lost", "params": {"path": 5}}, "params.path"),
        ({"fault": "no_rights", "params": {"endpoint": "/api"}}, "params.endpoint"),
        ({"fault": "deal_lost"}, "fault"),
        # once armed as None: a 500 when it fired (KeyError, TypeError); found by the fuzz suites
        ({"fault": "retcode_error", "params": {"code": None}}, "params.code"),
        ({"fault": "slow_answer", "params": {"delay_ms": None}}, "params.delay_ms"),
    ],
)
def test_fault_parameters_are_checked(control: httpx.Client, body: dict[str, object], field: str) -> None:
    r = control.post("/faults", json=body)
    assert r.status_code == 400 and r.json()["field"] == field


def test_the_catalogue(control: httpx.Client) -> None:
    names = {k["name"] for k in control.get("/faults").json()["catalogue"]}
    assert names == {
        "handshake_failure",
        "session_lost",
        "no_rights",
        "retcode_error",
        "slow_answer",
        "answer_lost",
    }

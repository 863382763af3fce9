"""Password rotation on the Rithmic gateway: the old password logs in during the grace period, is refused
after it exactly like a wrong one (the event says "revoked"), the new one logs in; reset restores it."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from async_rithmic import SysInfraType

from mocks.rithmic import RithmicGateway
from mocks.rithmic.handlers import LOGIN_REJECTED
from mocks.rithmic.runner import GatewayThread
from tests.mocks.rithmic.conftest import RawClient, make_client, run, shutdown

GRACE_S = 0.4


def events(gt: GatewayThread, kind: str) -> list[dict[str, Any]]:
    return gt.call(lambda: gt.gateway.events.since(0, kind))


async def raw_login(gt: GatewayThread, creds: dict[str, Any], password: str) -> list[str]:
    raw = await RawClient.open(gt.url)
    try:
        return list((await raw.login({**creds, "password": password})).rp_code)
    finally:
        await raw.close()


async def real_login(gt: GatewayThread, creds: dict[str, Any], password: str) -> None:
    """Log in on the ticker plant with async-rithmic, then log out; raises if the login is refused."""
    client = make_client(gt.url, creds, password=password)
    try:
        await asyncio.wait_for(client.connect(plants=[SysInfraType.TICKER_PLANT]), 15)
    finally:
        await shutdown(client)


def test_old_password_works_in_grace_then_is_revoked_and_the_new_one_works(gateway: GatewayThread) -> None:
    creds = gateway.gateway.describe()
    old = creds["password"]
    with httpx.Client(base_url=gateway.control_url, timeout=5) as control:
        rotated = control.post("/rithmic/credentials/rotate", json={"grace_s": GRACE_S})
        assert rotated.status_code == 200, rotated.text
        body = rotated.json()
        new = body["value"]
        assert body["credential"] == "password" and body["generation"] == 1
        assert new != old and new.startswith("pw-")
        assert body["previous_valid_until"] == pytest.approx(time.time() + GRACE_S, abs=0.3)
        assert gateway.gateway.describe()["password"] == new  # describe() reports the current value

        async def scenario() -> None:
            assert await raw_login(gateway, creds, old) == ["0"]  # still in grace
            await real_login(gateway, creds, new)
            await asyncio.sleep(max(body["previous_valid_until"] - time.time(), 0) + 0.05)
            assert await raw_login(gateway, creds, old) == LOGIN_REJECTED
            assert await raw_login(gateway, creds, "wrong") == LOGIN_REJECTED  # the same answer
            client = make_client(gateway.url, creds, password=old)
            with pytest.raises(AttributeError):  # async-rithmic's way of saying "login refused"
                await asyncio.wait_for(client.connect(plants=[SysInfraType.TICKER_PLANT]), 15)
            await shutdown(client)
            await real_login(gateway, creds, new)

        run(scenario())
        assert control.get("/rithmic/credentials").json() == {
            "name": "password",
            "generation": 1,
            "previous_valid_until": None,
        }
        rotations = control.get("/events", params={"kind": "credential_rotated"}).json()["events"]
    logins = [(e["credential"], e["generation"]) for e in events(gateway, "login")]
    assert logins == [("previous", 0), ("current", 1), ("current", 1)]
    rejected = [(e["credential"], e["generation"]) for e in events(gateway, "login_rejected")]
    assert rejected == [("revoked", 0), ("wrong", None), ("revoked", 0)]
    assert [(e["credential"], e["generation"], e["grace_s"]) for e in rotations] == [("password", 1, GRACE_S)]


def test_reset_restores_generation_zero(gateway: GatewayThread) -> None:
    creds = gateway.gateway.describe()
    with httpx.Client(base_url=gateway.control_url, timeout=5) as control:
        first = control.post("/rithmic/credentials/rotate", json={"grace_s": 0}).json()
        second = control.post("/rithmic/credentials/rotate").json()  # default grace
        assert (first["generation"], second["generation"]) == (1, 2)
        assert second["previous_valid_until"] == pytest.approx(time.time() + 30, abs=5)
        assert len({creds["password"], first["value"], second["value"]}) == 3
        assert control.post("/reset").status_code == 204
        assert control.get("/rithmic/credentials").json()["generation"] == 0
    assert gateway.gateway.describe()["password"] == creds["password"]

    async def scenario() -> None:
        assert await raw_login(gateway, creds, second["value"]) == LOGIN_REJECTED
        await real_login(gateway, creds, creds["password"])

    run(scenario())
    assert [(e["credential"], e["generation"]) for e in events(gateway, "login_rejected")] == [
        ("wrong", None)
    ]
    assert [(e["credential"], e["generation"]) for e in events(gateway, "login")] == [("current", 0)]


def test_the_rotated_values_follow_the_seed() -> None:
    values = []
    for _ in range(2):
        with GatewayThread(RithmicGateway(seed=3)) as gt, httpx.Client(base_url=gt.control_url) as control:
            values.append([control.post("/rithmic/credentials/rotate").json()["value"] for _ in range(2)])
    assert values[0] == values[1] and values[0][0] != values[0][1]


@pytest.mark.parametrize(
    ("content", "field"),
    [
        ('{"grace_s": -1}', "grace_s"),
        ('{"grace_s": 3601}', "grace_s"),
        ('{"grace_s": "5"}', "grace_s"),
        ('{"grace_s": null}', "grace_s"),
        ('{"grace_s": 1, "also": 2}', "also"),
        ("[1]", "body"),
        ("{not json", "body"),
    ],
)
def test_bad_rotate_bodies_are_400_naming_the_field(gateway: GatewayThread, content: str, field: str) -> None:
    with httpx.Client(base_url=gateway.control_url, timeout=5) as control:
        reply = control.post("/rithmic/credentials/rotate", content=content)
        assert reply.status_code == 400 and reply.json()["field"] == field
        shown = control.get("/rithmic/credentials")
    assert shown.json()["generation"] == 0
    assert gateway.gateway.describe()["password"] not in shown.text


def test_other_users_keep_their_passwords_and_their_events_carry_no_generation() -> None:
    with GatewayThread(RithmicGateway(seed=4, traders=1)) as gt:
        creds = gt.gateway.describe()
        trader = {**creds, "user": "trader0001"}
        trader_password = gt.gateway.users["trader0001"]
        with httpx.Client(base_url=gt.control_url, timeout=5) as control:
            new = control.post("/rithmic/credentials/rotate", json={"grace_s": 0}).json()["value"]
            shown = control.get("/rithmic/credentials").text
        assert new not in shown and creds["password"] not in shown

        async def scenario() -> None:
            assert await raw_login(gt, trader, trader_password) == ["0"]
            assert await raw_login(gt, trader, new) == LOGIN_REJECTED  # not theirs
            assert await raw_login(gt, creds, new) == ["0"]

        run(scenario())
        logins = events(gt, "login")
        assert [e["user"] for e in logins] == ["trader0001", "uat-trader"]
        assert "credential" not in logins[0] and "generation" not in logins[0]
        assert (logins[1]["credential"], logins[1]["generation"]) == ("current", 1)
        assert "credential" not in events(gt, "login_rejected")[0]

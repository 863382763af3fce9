"""Every TT fault, armed through the control API and observed by a client."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from tests.mocks.tt.conftest import TTClient, make_client
from tests.mocks.venue_thread import VenueThread


def arm(control: httpx.Client, fault: str, **body: object) -> dict[str, object]:
    r = control.post("/faults", json={"fault": fault, **body})
    assert r.status_code == 201, r.text
    result: dict[str, object] = r.json()
    return result


def fired(control: httpx.Client, fault: str) -> int:
    return len(
        [
            e
            for e in control.get("/events", params={"kind": "fault_fired"}).json()["events"]
            if e["fault"] == fault
        ]
    )


def test_429_storm_with_retry_after_then_recovery(client: TTClient, control: httpx.Client) -> None:
    arm(control, "rate_limit_storm", params={"retry_after": 1}, count=2)
    answers = [client.get("ttpds", "instruments") for _ in range(2)]
    assert [r.status_code for r in answers] == [429, 429]
    assert answers[0].headers["Retry-After"] == "1"
    # a client honouring Retry-After is served once the storm has passed
    time.sleep(int(answers[1].headers["Retry-After"]))
    assert client.get("ttpds", "instruments").status_code == 200
    assert fired(control, "rate_limit_storm") == 2


def test_timed_429_storm_ends_by_itself(client: TTClient, control: httpx.Client) -> None:
    arm(control, "rate_limit_storm", duration_ms=300)
    assert client.get("ttpds", "instruments").status_code == 429
    time.sleep(0.35)
    assert client.get("ttpds", "instruments").status_code == 200


def test_5xx_on_one_service_only(client: TTClient, control: httpx.Client) -> None:
    arm(control, "server_error", params={"status": 502, "path": "/ttledger"}, count=1)
    assert client.get("ttpds", "instruments").status_code == 200  # other paths untouched
    assert client.get("ttledger", "fills").status_code == 502
    assert client.get("ttledger", "fills").status_code == 200


def test_5xx_on_the_token_service(tt: VenueThread, control: httpx.Client) -> None:
    arm(control, "server_error", params={"path": "/ttid"}, count=1)
    c = make_client(tt)
    try:
        assert c.get_token().status_code == 503
        assert c.get_token().status_code == 200
    finally:
        c.close()


def test_early_token_expiry(client: TTClient, control: httpx.Client) -> None:
    assert client.token_response["seconds_until_expiry"] == 7200
    arm(control, "early_token_expiry", count=1)
    r = client.get("ttaccount", "accounts")
    assert r.status_code == 401 and "expired" in r.json()["message"]
    # the token stays dead; only a new one helps
    assert client.get("ttaccount", "accounts").status_code == 401
    assert client.get_token().status_code == 200
    assert client.get("ttaccount", "accounts").status_code == 200


@pytest.mark.parametrize("mode", ["truncated", "garbage", "html"])
def test_malformed_json(client: TTClient, control: httpx.Client, mode: str) -> None:
    arm(control, "malformed_json", params={"mode": mode}, count=1)
    r = client.get("ttaccount", "accounts")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json")
    with pytest.raises(ValueError):  # JSONDecodeError, or UnicodeDecodeError for the garbage bytes
        json.loads(r.content)
    assert len(client.get("ttaccount", "accounts").json()["accounts"]) == 3


def test_slow_body_trips_a_read_timeout(tt: VenueThread, client: TTClient, control: httpx.Client) -> None:
    arm(control, "slow_body", params={"duration_ms": 1200, "chunks": 3}, count=1)
    impatient = make_client(tt, timeout=0.2)
    impatient.token = client.token
    try:
        with pytest.raises(httpx.ReadTimeout):
            impatient.get("ttaccount", "accounts")
    finally:
        impatient.close()
    assert client.get("ttaccount", "accounts").status_code == 200


def test_slow_body_arrives_whole_for_a_patient_client(client: TTClient, control: httpx.Client) -> None:
    control.post("/tt/fills", json={"count": 50})
    expected = client.get("ttledger", "fills").json()
    arm(control, "slow_body", params={"duration_ms": 400, "chunks": 4}, count=1)
    started = time.monotonic()
    r = client.get("ttledger", "fills")
    assert time.monotonic() - started >= 0.35
    assert r.json() == expected


def test_fault_param_bounds_are_checked(control: httpx.Client) -> None:
    for body, field in (
        ({"fault": "server_error", "params": {"status": 404}}, "params.status"),
        ({"fault": "malformed_json", "params": {"mode": "xml"}}, "params.mode"),
        ({"fault": "slow_body", "params": {"chunks": 0}}, "params.chunks"),
        ({"fault": "rate_limit_storm", "params": {"retry_after": "1"}}, "params.retry_after"),
    ):
        r = control.post("/faults", json=body)
        assert r.status_code == 400 and r.json()["field"] == field


def test_reset_restores_config_tokens_and_data(client: TTClient, control: httpx.Client) -> None:
    control.post("/tt/config", json={"redirect": True, "token_ttl_s": 5})
    control.post("/tt/fills", json={"count": 5})
    client.post("ttaccount", "account", {"name": "NEW"})
    arm(control, "server_error")
    assert control.post("/reset").status_code == 204
    config = control.get("/tt/config").json()
    assert config["redirect"] is False and config["token_ttl_s"] == 7200
    assert client.get("ttaccount", "accounts").status_code == 401  # tokens are gone
    assert client.get_token().status_code == 200
    assert len(client.get("ttaccount", "accounts").json()["accounts"]) == 3
    assert client.get("ttledger", "fills").json()["fills"] == []

"""Usage-plan rate limits: 3/s by default, 429 with a configurable body, per-day caps."""

from __future__ import annotations

import time

import httpx

from tests.mocks.tt.conftest import TTClient


def burst(client: TTClient, n: int) -> list[httpx.Response]:
    return [client.get("ttpds", "instruments") for _ in range(n)]


def test_free_plan_allows_three_per_second(client: TTClient, control: httpx.Client) -> None:
    config = control.post("/tt/config", json={"rate_per_s": None, "rate_per_day": None}).json()
    assert config["plan"] == "free" and config["limits"]["per_second"] == 3
    time.sleep(1.0)  # the token request above counted against this second
    started = time.monotonic()
    answers = burst(client, 8)
    assert time.monotonic() - started < 1.0, "the burst must fit in one window for this test to mean anything"
    assert [r.status_code for r in answers] == [200] * 3 + [429] * 5
    assert answers[-1].json() == {"message": "Too Many Requests"}
    assert "Retry-After" not in answers[-1].headers
    time.sleep(1.05)
    assert client.get("ttpds", "instruments").status_code == 200


def test_plan_and_body_are_configurable(client: TTClient, control: httpx.Client) -> None:
    control.post(
        "/tt/config",
        json={
            "rate_per_s": None,
            "plan": "medium",
            "rate_limit_body": {"message": "Limit Exceeded"},
            "rate_limit_retry_after": 2,
        },
    )
    time.sleep(1.0)
    answers = burst(client, 14)
    codes = [r.status_code for r in answers]
    assert codes.count(200) == 10 and codes[:10] == [200] * 10
    assert answers[-1].json() == {"message": "Limit Exceeded"}
    assert answers[-1].headers["Retry-After"] == "2"


def test_daily_cap(client: TTClient, control: httpx.Client) -> None:
    control.post("/tt/config", json={"rate_per_day": 3})
    # the token request in the fixture came before the cap was lowered, and counted
    codes = [r.status_code for r in burst(client, 4)]
    assert codes == [200, 200, 429, 429]


def test_limits_are_per_app_key_and_other_paths_still_answer(client: TTClient, control: httpx.Client) -> None:
    control.post("/tt/config", json={"rate_per_s": 2})
    time.sleep(1.0)
    assert [r.status_code for r in burst(client, 3)] == [200, 200, 429]
    # a request with a wrong key is refused for the key, not throttled
    r = client.http.get("/ttpds/ext_uat_cert/instruments", headers={"x-api-key": "other"})
    assert r.status_code == 403


def test_bad_config_patches_name_the_field(control: httpx.Client) -> None:
    for body, field in (
        ({"plan": "gold"}, "plan"),
        ({"token_ttl_s": 0}, "token_ttl_s"),
        ({"rate_per_s": 0}, "rate_per_s"),
        ({"rate_per_s": True}, "rate_per_s"),
        ({"redirect": "yes"}, "redirect"),
        ({"app_secret": "x"}, "app_secret"),
        ({"colour": 1}, "colour"),
        ([], "body"),
    ):
        r = control.post("/tt/config", json=body)
        assert r.status_code == 400 and r.json()["field"] == field, (body, r.text)
    # a patch with one bad field changes nothing
    control.post("/tt/config", json={"redirect": True, "plan": "gold"})
    assert control.get("/tt/config").json()["redirect"] is False
    assert control.get("/tt/config").json()["app_secret"] == "***"

"""The control-API extras: Zaps and switches, the task history, replays, retry and limits, reset."""

from __future__ import annotations

import httpx

from mocks.zapier import ZapierMock
from tests.mocks.venue_thread import VenueThread

from .conftest import FAST_RETRY, ONE_STEP, Receiver, Zapier, wait_until


def test_info_and_zaps_list_the_hooks(zapier: Zapier) -> None:
    info = zapier.control("GET", "/zapier").json()
    assert info["account_id"] == "777" and info["hooks"] == {"pay": zapier.hook()}
    assert info["env"] == ["target"] and info["retry"]["gaps_ms"] == [20, 40]
    (zap,) = zapier.control("GET", "/zapier/zaps").json()["zaps"]
    assert zap["id"] == "pay" and zap["enabled"] is True and zap["url"] == zapier.hook()
    assert [s["name"] for s in zap["steps"]] == ["notify"]


def test_switch_errors(zapier: Zapier) -> None:
    assert zapier.control("POST", "/zapier/zaps/nope/disable").json()["field"] == "zap_id"
    r = zapier.control("POST", "/zapier/zaps/pay/pause")
    assert r.status_code == 404 and r.json()["field"] == "action"


def test_replay_sends_the_same_payload_again_as_a_new_run(zapier: Zapier, receiver: Receiver) -> None:
    zapier.trigger({"customer": {"email": "ann@firm.test"}, "amount": 10})
    (run,) = zapier.settle(1)
    r = zapier.control("POST", f"/zapier/runs/{run['run_id']}/replay")
    assert r.status_code == 201
    again = r.json()
    assert again["run_id"] != run["run_id"] and again["replay_of"] == run["run_id"]
    assert again["trigger"] == run["trigger"]
    zapier.settle(2)
    wait_until(lambda: len(receiver.to("/notify")) == 2)
    first, second = receiver.to("/notify")
    assert first.raw == second.raw  # the non-idempotent middleware's trap: the same request twice
    one = zapier.control("GET", f"/zapier/runs/{again['run_id']}").json()
    assert one["state"] == "success" and one["replay_of"] == run["run_id"]


def test_replay_refusals(zapier: Zapier) -> None:
    assert zapier.control("POST", "/zapier/runs/nope/replay").status_code == 404
    zapier.trigger({"amount": 1})
    (run,) = zapier.settle(1)
    zapier.control("POST", "/zapier/zaps/pay/disable")
    r = zapier.control("POST", f"/zapier/runs/{run['run_id']}/replay")
    assert r.status_code == 409 and "turned off" in r.json()["error"]


def test_runs_filter_and_ledger(zapier: Zapier, receiver: Receiver) -> None:
    receiver.script["/notify"] = [500, 500, 500]
    zapier.trigger({"amount": 1})
    zapier.settle(1)
    zapier.trigger({"amount": 2})
    zapier.settle(2)
    assert [r["trigger"]["amount"] for r in zapier.runs(state="errored")] == [1]
    assert [r["trigger"]["amount"] for r in zapier.runs(zap="pay", state="success")] == [2]
    r = zapier.control("GET", "/zapier/runs?state=done")
    assert r.status_code == 400 and r.json()["field"] == "state"
    ledger = zapier.control("GET", "/ledger").json()
    assert [len(run["attempts"]) for run in ledger["runs"]] == [3, 1] and ledger["orders"] == []


def test_retry_and_limits_are_set_or_refused_naming_the_field(zapier: Zapier) -> None:
    r = zapier.control("PUT", "/zapier/retry", {"max_attempts": 0})
    assert r.status_code == 400 and r.json()["field"] == "retry.max_attempts"
    assert zapier.control("PUT", "/zapier/retry", {"max_attempts": 5}).json()["max_attempts"] == 5
    r = zapier.control("PUT", "/zapier/limits", {"burst": 0})
    assert r.status_code == 400 and r.json()["field"] == "burst"
    r = zapier.control("PUT", "/zapier/limits", {"speed": 1})
    assert r.status_code == 400 and r.json()["field"] == "speed"
    assert zapier.control("PUT", "/zapier/limits", {"burst": 2, "refill_per_s": 0}).json()["burst"] == 2
    assert [zapier.trigger({}).status_code for _ in range(3)] == [200, 200, 429]


def test_reset_restores_switches_limits_and_the_same_ids(zapier: Zapier) -> None:
    first = zapier.trigger({"amount": 1}).json()["id"]
    zapier.settle(1)
    zapier.control("POST", "/zapier/zaps/pay/disable")
    zapier.control("PUT", "/zapier/limits", {"burst": 1, "refill_per_s": 0})
    zapier.arm("drop", count=5)
    assert zapier.control("POST", "/reset").status_code == 204
    assert zapier.runs() == [] and zapier.control("GET", "/faults").json()["armed"] == []
    assert zapier.trigger({"amount": 1}).json()["id"] == first  # enabled again, same seeded id
    assert zapier.trigger({"amount": 2}).status_code == 200  # the burst is back too
    assert [r["state"] for r in zapier.settle(2)] == ["success", "success"]


def test_zaps_loaded_through_the_control_api_run_and_survive_a_reset(receiver: Receiver) -> None:
    """A mock started without a config (as `uat mocks up` starts it) gets its Zaps later, once the
    URLs its steps call are known; a bad file is refused naming the field, and changes nothing."""
    with VenueThread(ZapierMock(seed=4)) as vt, httpx.Client(timeout=10) as http:
        zapier = Zapier(vt, http)
        assert zapier.trigger({"amount": 1}).status_code == 404  # no Zaps yet
        text = ONE_STEP.format(limits="jitter_ms = 0", retry=FAST_RETRY)
        bad = zapier.control("PUT", "/zapier/zaps", {"config": text, "set": {}})
        assert bad.status_code == 400 and bad.json()["field"] == "config.zaps[0].steps[0].url", bad.text
        assert zapier.control("PUT", "/zapier/zaps", {"config": 3}).json()["field"] == "config"
        assert zapier.control("GET", "/zapier/zaps").json()["zaps"] == []
        loaded = zapier.control("PUT", "/zapier/zaps", {"config": text, "set": {"target": receiver.url}})
        assert loaded.status_code == 200 and [z["id"] for z in loaded.json()["zaps"]] == ["pay"]
        assert zapier.venue.account_id == "777"
        assert zapier.control("POST", "/reset").status_code == 204
        assert zapier.trigger({"customer": {"email": "bo@firm.test"}, "amount": 5}).status_code == 200
        (run,) = zapier.settle(1)
        assert run["state"] == "success"
        wait_until(lambda: len(receiver.to("/notify")) == 1)

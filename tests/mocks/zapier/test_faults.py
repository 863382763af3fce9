"""Each fault armed through the shared control API: status, slow, duplicate, delay, drop."""

from __future__ import annotations

import time

from .conftest import Receiver, Zapier, wait_until


def test_status_fault_answers_429_with_retry_after_then_clears(zapier: Zapier) -> None:
    zapier.arm("status", count=1, status=429, retry_after_s=7)
    r = zapier.trigger({"amount": 1})
    assert r.status_code == 429 and r.headers["Retry-After"] == "7"
    assert zapier.trigger({"amount": 2}).status_code == 200
    (run,) = zapier.settle(1)
    assert run["trigger"] == {"amount": 2}  # the refused trigger made no run
    fired = zapier.control("GET", "/events?kind=fault_fired").json()["events"]
    assert [(e["fault"], e["hook"]) for e in fired] == [("status", "paid")]


def test_status_fault_5xx_only_for_its_hook(zapier: Zapier) -> None:
    zapier.arm("status", count=1, status=503, hook="other")
    assert zapier.trigger({"amount": 1}).status_code == 200
    assert zapier.control("DELETE", "/faults?fault=status").json() == {"cleared": 1}  # still armed
    zapier.arm("status", count=2, status=502)
    assert [zapier.trigger({}).status_code for _ in range(3)] == [502, 502, 200]


def test_slow_fault_delays_the_answer(zapier: Zapier) -> None:
    zapier.arm("slow", delay_ms=300)
    began = time.monotonic()
    assert zapier.trigger({"amount": 1}).status_code == 200
    assert time.monotonic() - began >= 0.3
    assert zapier.settle(1)[0]["state"] == "success"


def test_duplicate_runs_one_trigger_twice(zapier: Zapier, receiver: Receiver) -> None:
    zapier.arm("duplicate")
    r = zapier.trigger({"amount": 5})
    runs = zapier.settle(2)
    first, twin = sorted(runs, key=lambda x: x["duplicate_of"] or "")
    assert first["run_id"] == r.json()["id"] and twin["duplicate_of"] == first["run_id"]
    assert first["faults"] == twin["faults"] == ["duplicate"]
    wait_until(lambda: len(receiver.to("/notify")) == 2)
    first_hit, second_hit = receiver.to("/notify")
    assert first_hit.raw == second_hit.raw


def test_delay_holds_a_run_so_a_later_trigger_overtakes_it(zapier: Zapier, receiver: Receiver) -> None:
    zapier.arm("delay", hold_ms=300)
    zapier.trigger({"amount": 1})
    zapier.trigger({"amount": 2})
    wait_until(lambda: len(receiver.to("/notify")) == 2)
    assert [h.json["amount"] for h in receiver.to("/notify")] == [2, 1]
    held = next(r for r in zapier.settle(2) if r["trigger"]["amount"] == 1)
    assert held["faults"] == ["delay"] and held["finished_at"] - held["received_at"] >= 0.3


def test_drop_acknowledges_then_loses_the_run_until_replayed(zapier: Zapier, receiver: Receiver) -> None:
    zapier.arm("drop")
    r = zapier.trigger({"amount": 3})
    assert r.status_code == 200 and r.json()["status"] == "success"
    (run,) = zapier.runs()
    assert run["state"] == "dropped" and run["faults"] == ["drop"] and run["attempts"] == []
    time.sleep(0.1)
    assert receiver.to("/notify") == []
    replay = zapier.control("POST", f"/zapier/runs/{run['run_id']}/replay")
    assert replay.status_code == 201 and replay.json()["replay_of"] == run["run_id"]
    wait_until(lambda: len(receiver.to("/notify")) == 1)
    assert receiver.to("/notify")[0].json["amount"] == 3


def test_unknown_fault_and_bad_params_are_400_naming_the_field(zapier: Zapier) -> None:
    r = zapier.control("POST", "/faults", {"fault": "reorder"})
    assert r.status_code == 400 and r.json()["field"] == "fault" and "drop" in r.json()["error"]
    r = zapier.control("POST", "/faults", {"fault": "status", "params": {"status": 700}})
    assert r.status_code == 400 and r.json()["field"] == "params.status"
    catalogue = {k["name"] for k in zapier.control("GET", "/faults").json()["catalogue"]}
    assert catalogue == {"status", "slow", "duplicate", "delay", "drop"}

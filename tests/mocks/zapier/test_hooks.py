"""The catch hook: 200 at once and the run later, payload shapes, 404/410/400/413, the token bucket."""

from __future__ import annotations

import time
from collections.abc import Callable

from .conftest import Receiver, Zapier, wait_until


def test_answers_200_at_once_then_runs_the_step(zapier: Zapier, receiver: Receiver) -> None:
    receiver.script["/notify"] = []
    r = zapier.trigger({"customer": {"email": "ann@firm.test"}, "amount": 125})
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "success" and body["id"] == body["attempt"] == body["request_id"]
    runs = zapier.settle(1)
    assert [run["run_id"] for run in runs] == [body["id"]] and runs[0]["state"] == "success"
    (hit,) = receiver.to("/notify")
    assert hit.json == {"email": "ann@firm.test", "amount": 125}  # one placeholder keeps its type
    assert hit.headers["Content-Type"] == "application/json"


def test_the_answer_does_not_wait_for_a_slow_step(zapier: Zapier, receiver: Receiver) -> None:
    zapier.control("PUT", "/zapier/retry", {"max_attempts": 1, "timeout_ms": 300})
    receiver.delays["/notify"] = 1.0
    began = time.monotonic()
    r = zapier.trigger({"amount": 1})
    assert r.status_code == 200 and zapier.runs()[0]["state"] in ("queued", "running")
    assert time.monotonic() - began < 0.5
    assert zapier.settle(1)[0]["state"] == "errored"


def test_form_body_and_query_join_the_payload(zapier: Zapier, receiver: Receiver) -> None:
    r = zapier.http.post(zapier.hook() + "?source=q&amount=1", data={"amount": "7", "tag": "x"})
    assert r.status_code == 200
    (run,) = zapier.settle(1)
    assert run["trigger"] == {"source": "q", "amount": "7", "tag": "x"}
    assert receiver.to("/notify")[0].json["amount"] == "7"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    assert zapier.http.post(zapier.hook(), content=b"tag=a&tag=b&e=", headers=form).status_code == 200
    assert zapier.settle(2)[1]["trigger"] == {"tag": ["a", "b"], "e": ""}  # a repeated field is a list


def test_an_array_body_is_one_run_per_object(zapier: Zapier) -> None:
    r = zapier.trigger([{"amount": 1}, {"amount": 2}, {"amount": 3}])
    assert r.status_code == 200
    runs = zapier.settle(3)
    assert sorted(run["trigger"]["amount"] for run in runs) == [1, 2, 3]
    assert runs[0]["run_id"] == r.json()["id"]


def test_bad_bodies_are_400_naming_the_field(zapier: Zapier) -> None:
    post = zapier.http.post
    cases = {
        b"{nope": "body",
        b"[1, 2]": "body[0]",
        b"42": "body",
        b'{"a": NaN}': "body",
        b"[" * 100 + b"]" * 100: "body",
        b"\xff\xfe": "body",
    }
    for raw, field in cases.items():
        r = post(zapier.hook(), content=raw, headers={"Content-Type": "application/json"})
        assert r.status_code == 400 and r.json()["field"] == field, (raw, r.text)
    r = post(zapier.hook(), content=b"x" * (1024 * 1024 + 1))
    assert r.status_code == 413 and r.json()["field"] == "body"
    assert zapier.runs() == []


def test_unknown_hook_or_account_is_404(zapier: Zapier) -> None:
    assert zapier.trigger({}, hook="nope").status_code == 404
    r = zapier.http.post(f"{zapier.vt.url}/hooks/catch/999/paid/", json={})
    assert r.status_code == 404 and r.json()["field"] == "hook_id"
    assert zapier.http.delete(zapier.hook()).status_code == 405
    assert zapier.http.post(zapier.hook().rstrip("/"), json={"amount": 1}).status_code == 200


def test_a_turned_off_zap_answers_410(zapier: Zapier) -> None:
    r = zapier.control("POST", "/zapier/zaps/pay/disable")
    assert r.status_code == 200 and r.json()["enabled"] is False
    assert zapier.trigger({"amount": 1}).status_code == 410
    zapier.control("POST", "/zapier/zaps/pay/enable")
    assert zapier.trigger({"amount": 1}).status_code == 200


def test_a_burst_past_the_bucket_is_429_with_retry_after(make_zapier: Callable[..., Zapier]) -> None:
    zapier = make_zapier(limits="burst = 5\nrefill_per_s = 0.5")
    statuses = [zapier.trigger({"amount": n}).status_code for n in range(8)]
    assert statuses == [200] * 5 + [429] * 3
    r = zapier.trigger({"amount": 9})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    zapier.settle(5)
    assert len(zapier.runs()) == 5  # a refused trigger is never a run


def test_a_full_queue_is_429_never_a_lost_trigger(
    make_zapier: Callable[..., Zapier], receiver: Receiver
) -> None:
    zapier = make_zapier(limits="queue_size = 2\nworkers = 1")
    zapier.arm("delay", count=2, hold_ms=300)
    assert [zapier.trigger({"amount": n}).status_code for n in range(3)] == [200, 200, 429]
    zapier.settle(2)
    assert zapier.trigger({"amount": 3}).status_code == 200
    zapier.settle(3)
    wait_until(lambda: len(receiver.to("/notify")) == 3)

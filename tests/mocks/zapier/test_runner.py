"""Running the steps: templating across steps, retries, exhaustion, 410 halts, turning off mid-run, order."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs

from .conftest import FAST_RETRY, Receiver, Zapier, wait_until

CHAIN = (
    """
account_id = "777"
[limits]
jitter_ms = 0
"""
    + FAST_RETRY
    + """
[[zaps]]
id = "onboard"
hook = "paid"
  [[zaps.steps]]
  name = "contract"
  url = "{{env.target}}/contract"
  headers = { Authorization = "Bearer {{env.token}}", X-Customer = "{{trigger.customer.id}}" }
  body.email = "{{trigger.customer.email}}"
  body.roles = "{{trigger.roles}}"
  body.note = "paid {{trigger.amount}} by {{trigger.customer.email}}"
  [[zaps.steps]]
  name = "provision"
  method = "PUT"
  url = "{{env.target}}/provision/{{steps.contract.envelopeId}}"
  encoding = "form"
  body.envelope = "{{steps.contract.envelopeId}}"
  body.first_role = "{{trigger.roles.0}}"
  body.missing = "{{trigger.nope.deeper}}"
  body.paid = "{{trigger.paid}}"
  [[zaps.steps]]
  name = "worker"
  url = "{{env.target}}/worker"
  body.envelope = "{{steps.contract.envelopeId}}"
  body.provisioned = "{{steps.provision}}"
  body.nothing = "{{trigger.nope}}"
"""
)
TRIGGER = {"customer": {"id": "cus_1", "email": "ann@firm.test"}, "roles": ["Trader", "Risk"], "amount": 9.5,
           "paid": True}  # fmt: skip


def chain(make_zapier: Callable[..., Zapier]) -> Zapier:
    return make_zapier(CHAIN, token="s3cret")


def test_steps_render_from_the_trigger_and_earlier_answers(
    make_zapier: Callable[..., Zapier], receiver: Receiver
) -> None:
    zapier = chain(make_zapier)
    receiver.answers["/contract"] = {"envelopeId": "env-42", "status": "sent"}
    receiver.answers["/provision/env-42"] = {"trader": "T-1"}
    assert zapier.trigger(TRIGGER).status_code == 200
    (run,) = zapier.settle(1)
    assert run["state"] == "success" and run["steps_done"] == ["contract", "provision", "worker"]
    (contract,) = receiver.to("/contract")
    assert contract.headers["Authorization"] == "Bearer s3cret" and contract.headers["X-Customer"] == "cus_1"
    assert contract.json == {"email": "ann@firm.test", "roles": ["Trader", "Risk"],
                             "note": "paid 9.5 by ann@firm.test"}  # fmt: skip
    (provision,) = receiver.to("/provision/env-42")
    assert provision.method == "PUT"
    assert provision.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = parse_qs(provision.raw.decode(), keep_blank_values=True)
    assert form == {"envelope": ["env-42"], "first_role": ["Trader"], "missing": [""], "paid": ["true"]}
    (worker,) = receiver.to("/worker")
    assert worker.json == {"envelope": "env-42", "provisioned": {"trader": "T-1"}, "nothing": None}
    assert [(a["step"], a["status"]) for a in run["attempts"]] == [
        ("contract", 200), ("provision", 200), ("worker", 200)
    ]  # fmt: skip
    assert all(a["latency_ms"] >= 0 and a["url"].startswith("http://127.0.0.1:") for a in run["attempts"])


def test_a_500_is_retried_with_backoff_then_succeeds(zapier: Zapier, receiver: Receiver) -> None:
    receiver.script["/notify"] = [500, 503]
    zapier.trigger({"amount": 1})
    (run,) = zapier.settle(1)
    assert run["state"] == "success"
    assert [a["status"] for a in run["attempts"]] == [500, 503, 200]
    hits = receiver.to("/notify")
    assert len(hits) == 3 and hits[2].at - hits[1].at >= hits[1].at - hits[0].at >= 0.015  # 20 ms, 40 ms
    assert '"error": 500' in run["attempts"][0]["response"]


def test_exhausted_retries_end_errored_and_later_steps_never_run(
    make_zapier: Callable[..., Zapier], receiver: Receiver
) -> None:
    zapier = chain(make_zapier)
    receiver.script["/contract"] = [500, 500, 500]
    zapier.trigger(TRIGGER)
    (run,) = zapier.settle(1)
    assert run["state"] == "errored" and "3 attempt(s)" in run["error"] and "HTTP 500" in run["error"]
    assert [a["attempt"] for a in run["attempts"]] == [1, 2, 3] and run["steps_done"] == []
    assert len(receiver.to("/contract")) == 3 and receiver.to("/worker") == []
    events = zapier.control("GET", "/events?kind=run_finished").json()["events"]
    assert [e["state"] for e in events] == ["errored"]


def test_a_transport_error_is_a_failed_attempt(zapier: Zapier, make_zapier: Callable[..., Zapier]) -> None:
    dead = make_zapier(target="http://127.0.0.1:9")  # discard port: nothing listens
    dead.trigger({"amount": 1})
    (run,) = dead.settle(1)
    assert run["state"] == "errored" and [a["status"] for a in run["attempts"]] == [None, None, None]
    assert "Cannot connect" in run["attempts"][0]["response"]


def test_a_410_halts_the_run_without_retries(zapier: Zapier, receiver: Receiver) -> None:
    receiver.script["/notify"] = [410]
    zapier.trigger({"amount": 1})
    (run,) = zapier.settle(1)
    assert run["state"] == "halted" and "410" in run["error"] and len(receiver.to("/notify")) == 1


def test_turning_the_zap_off_mid_run_halts_before_the_next_step(
    make_zapier: Callable[..., Zapier], receiver: Receiver
) -> None:
    zapier = chain(make_zapier)
    receiver.answers["/contract"] = {"envelopeId": "e1"}
    receiver.delays["/contract"] = 0.3
    zapier.trigger(TRIGGER)
    wait_until(lambda: len(receiver.to("/contract")) == 1)
    zapier.control("POST", "/zapier/zaps/onboard/disable")
    (run,) = zapier.settle(1)
    assert run["state"] == "halted" and run["steps_done"] == ["contract"] and "turned off" in run["error"]
    assert receiver.to("/provision/e1") == []


def test_a_url_rendered_off_loopback_is_refused_not_sent(
    make_zapier: Callable[..., Zapier], receiver: Receiver
) -> None:
    text = CHAIN.replace("{{env.target}}/contract", "{{trigger.where}}/contract")
    zapier = make_zapier(text, token="t")
    zapier.trigger({**TRIGGER, "where": "http://203.0.113.9"})
    (run,) = zapier.settle(1)
    assert run["state"] == "errored" and "contract" in run["error"] and "url" in run["error"]
    assert run["attempts"] == [] and receiver.hits == []


def test_runs_of_different_triggers_may_finish_out_of_order(
    make_zapier: Callable[..., Zapier], receiver: Receiver
) -> None:
    zapier = make_zapier(limits="jitter_ms = 200\nworkers = 8", seed=3)
    for n in range(8):
        assert zapier.trigger({"amount": n}).status_code == 200
    zapier.settle(8)
    wait_until(lambda: len(receiver.to("/notify")) == 8)
    arrived = [h.json["amount"] for h in receiver.to("/notify")]
    assert sorted(arrived) == list(range(8)) and arrived != list(range(8))

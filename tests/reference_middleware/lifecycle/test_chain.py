"""The funded trader's chain end to end against the real topology: Stripe -> outbox -> Zap ->
DocuSign -> Connect (or the poll) -> MT5, Rippling -> payouts -> cancellation."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from decimal import Decimal

import pytest

from ..conftest import Env, wait_for
from .world import Funded, ctl, start


@pytest.fixture
def world(env: Env) -> Env:
    start(env)
    return env


def test_the_whole_chain_from_checkout_to_cancellation(world: Env) -> None:
    began = time.monotonic()
    trader = Funded.checkout(world)
    sent = trader.wait(lambda v: v["contract"]["status"] == "sent")
    assert sent["contract"]["envelope_id"] and sent["notified"], (sent, world.log())
    assert not trader.trading()
    refused = world.order(account=trader.account)
    assert refused.status_code == 422 and "trading disabled" in refused.json()["reason"], refused.text

    assert trader.sign(sent["contract"]["envelope_id"]) == 200
    done = trader.wait(lambda v: v["provisioned"], 30)
    took = time.monotonic() - began
    print(f"\nfunded checkout -> provisioned in {took:.2f}s")
    assert done["provisioned"] and done["contract"]["status"] == "completed", (done, world.log())
    assert done["contract"]["signed_at"] and done["last_error"] is None
    assert [u["login"] for u in trader.mt5_users()] == [done["mt5_login"]]
    assert trader.deposits() == [Decimal("25000.00")] and done["deposit"] == "25000.00"
    assert [w["id"] for w in trader.workers()] == [done["rippling_worker_id"]]
    assert (
        trader.workers()[0]["worker_type"] == "CONTRACTOR"
        and trader.workers()[0]["external_id"] == trader.customer
    )
    assert trader.trading()
    assert world.order(account=trader.account).status_code == 202

    # payouts: refused above the balance booked, idempotent by payout id
    base = f"{world.base}/v1/lifecycle/payouts"
    too_much = world.http.post(
        base, json={"customer": trader.customer, "payout_id": f"{trader.customer}-x", "amount": "25000.01"}
    )
    assert too_much.status_code == 409 and too_much.json()["field"] == "amount"
    payout = {"customer": trader.customer, "payout_id": f"{trader.customer}-1", "amount": "1250.00"}
    first = world.http.post(base, json=payout)
    assert first.status_code == 202 and first.json()["status"] in ("pending", "withdrawn", "paid"), first.text
    assert world.http.post(base, json=payout).json()["payout_id"] == payout["payout_id"]
    paid = trader.wait(lambda v: v["payouts"] and v["payouts"][0]["status"] == "paid")
    assert paid["payouts"][0]["mt5_deal"] and paid["payouts"][0]["rippling_pay_item"], paid
    assert [Decimal(d["amount"]) for d in trader.mt5_deals("payout:")] == [Decimal("-1250.00")]
    items = trader.pay_items()
    assert len(items) == 1 and items[0]["id"] == paid["payouts"][0]["rippling_pay_item"]

    # cancellation: trading off, the MT5 user disabled, the worker terminated
    sent_cancel = world.stripe_send(["customer.subscription.deleted"], trader.customer)
    assert all(d["status"] == 200 for d in sent_cancel["deliveries"])
    assert not trader.trading()
    wait_for(trader.workers, lambda ws: ws[0]["status"] == "TERMINATED", 15)
    assert trader.workers()[0]["status"] == "TERMINATED", world.log()
    assert [u["enabled"] for u in trader.mt5_users()] == [False]
    assert trader.view()["cancelled"] is True


def test_a_forged_connect_event_is_refused_and_changes_nothing(world: Env) -> None:
    trader = Funded.checkout(world)
    sent = trader.wait(lambda v: v["contract"]["status"] == "sent")
    envelope = sent["contract"]["envelope_id"]
    body = json.dumps(
        {
            "event": "envelope-completed",
            "data": {"envelopeId": envelope, "envelopeSummary": {"status": "completed"}},
        }
    ).encode()
    forged = base64.b64encode(hmac.new(b"not-the-key", body, hashlib.sha256).digest()).decode()
    url = f"{world.base}/v1/webhooks/docusign"
    for headers in ({}, {"X-DocuSign-Signature-1": forged}):
        answer = world.http.post(url, content=body, headers={"Content-Type": "application/json", **headers})
        assert answer.status_code == 401, answer.text
    time.sleep(1.0)
    view = trader.view()
    assert view["contract"]["status"] == "sent" and not view["provisioned"] and not trader.trading()
    assert trader.mt5_users() == []
    # the same body signed with the account's key (the second of a rotation) is taken
    key = world.mocks["docusign"]["hmac_keys"][0]
    good = base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()
    headers = {"X-DocuSign-Signature-1": forged, "X-DocuSign-Signature-2": good}
    assert world.http.post(url, content=body, headers=headers).status_code == 200


def test_a_replayed_zap_run_gives_one_contract_and_one_of_everything(world: Env) -> None:
    trader = Funded.checkout(world)
    first = trader.wait(lambda v: v["contract"]["status"] == "sent")["contract"]["envelope_id"]
    run = wait_for(trader.runs, lambda rs: any(r["state"] == "success" for r in rs), 10)[0]
    world.http.post(f"{ctl(world, 'zapier')}/zapier/runs/{run['run_id']}/replay").raise_for_status()
    envelopes = wait_for(trader.envelopes, lambda es: len(es) == 2 and es[1]["status"] == "voided", 15)
    statuses = {e["envelope_id"]: e["status"] for e in envelopes}
    assert statuses[first] == "sent" and sorted(statuses.values()) == ["sent", "voided"], (
        statuses,
        world.log(),
    )
    for envelope in statuses:
        trader.sign(envelope)  # the voided one cannot be signed (409)
    done = trader.wait(lambda v: v["provisioned"], 30)
    assert done["contract"]["envelope_id"] == first
    time.sleep(1.5)  # a second round would have started by now
    assert len(trader.mt5_users()) == 1 and len(trader.deposits()) == 1 and len(trader.workers()) == 1


def test_an_answer_lost_after_the_deposit_was_booked_books_it_once(world: Env) -> None:
    trader = Funded.checkout(world)
    world.arm(ctl(world, "mt5"), "answer_lost", {"path": "/api/trade/balance"}, count=1)
    done = trader.signed_and_provisioned()
    assert world.fired(ctl(world, "mt5"), "answer_lost"), "the fault never fired"
    assert trader.deposits() == [Decimal("25000.00")], (trader.mt5_deals(""), done)


def test_a_connect_event_lost_for_good_is_caught_by_the_poll(world: Env) -> None:
    trader = Funded.checkout(world)
    world.arm(ctl(world, "docusign"), "never_delivered", {"event": "envelope-completed"})
    done = trader.signed_and_provisioned()
    assert world.fired(ctl(world, "docusign"), "never_delivered"), "the fault never fired"
    assert done["contract"]["status"] == "completed" and trader.trading()

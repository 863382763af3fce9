"""Each lifecycle mutant breaks its own case; the healthy build passes every one (mutant_cases.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

from ..conftest import Env, wait_for
from ..mutant_cases import Outcome, Scenario, case_tests
from .world import Funded, ctl, prepare


def _deposit_once_after_a_lost_answer(env: Env) -> Outcome:
    trader = Funded.checkout(env)
    env.arm(ctl(env, "mt5"), "answer_lost", {"path": "/api/trade/balance"}, count=1)
    trader.signed_and_provisioned()
    deposits = trader.deposits()
    return len(deposits) == 1, f"deposit deals {deposits}"


def _no_trading_before_the_signature(env: Env) -> Outcome:
    trader = Funded.checkout(env)
    view = trader.wait(lambda v: v["contract"]["status"] == "sent")
    trading = trader.trading()
    return not trading and view["contract"][
        "status"
    ] == "sent", f"trading {trading} with the contract unsigned"


def _forged_completion_refused(env: Env) -> Outcome:
    trader = Funded.checkout(env)
    envelope = trader.wait(lambda v: v["contract"]["status"] == "sent")["contract"]["envelope_id"]
    body = json.dumps(
        {
            "event": "envelope-completed",
            "data": {"envelopeId": envelope, "envelopeSummary": {"status": "completed"}},
        }
    ).encode()
    forged = base64.b64encode(hmac.new(b"forger", body, hashlib.sha256).digest()).decode()
    answer = env.http.post(
        f"{env.base}/v1/webhooks/docusign", content=body, headers={"X-DocuSign-Signature-1": forged}
    )
    view = trader.wait(lambda v: v["provisioned"], 3)
    trading = trader.trading()
    ok = answer.status_code == 401 and not view["provisioned"] and not trading
    return (
        ok,
        f"forged event answered {answer.status_code}; provisioned {view['provisioned']}, trading {trading}",
    )


def _one_worker_after_a_slow_create(env: Env) -> Outcome:
    trader = Funded.checkout(env)
    env.arm(ctl(env, "rippling"), "slow", {"delay_ms": 1500, "path": "/workers"}, count=1)
    trader.signed_and_provisioned()
    time.sleep(1.0)  # a create the client gave up on lands meanwhile
    workers = trader.workers()
    return len(workers) == 1, f"{len(workers)} Rippling worker(s)"


def _replay_provisions_once(env: Env) -> Outcome:
    trader = Funded.checkout(env)
    trader.wait(lambda v: v["contract"]["status"] == "sent")
    run = wait_for(trader.runs, lambda rs: any(r["state"] == "success" for r in rs), 10)[0]
    env.http.post(f"{ctl(env, 'zapier')}/zapier/runs/{run['run_id']}/replay").raise_for_status()
    envelopes = wait_for(trader.envelopes, lambda es: len(es) == 2, 10)
    first = trader.view()["contract"]["envelope_id"]
    trader.sign(first)
    trader.wait(lambda v: v["provisioned"], 20)
    for envelope in envelopes:
        if envelope["envelope_id"] != first:
            trader.sign(envelope["envelope_id"])  # 409 when it was voided
    time.sleep(3.0)
    counts = (len(trader.mt5_users()), len(trader.deposits()), len(trader.workers()))
    return counts == (1, 1, 1), f"MT5 users, deposits, workers: {counts}"


def _lost_event_caught_by_the_poll(env: Env) -> Outcome:
    trader = Funded.checkout(env)
    env.arm(ctl(env, "docusign"), "never_delivered", {"event": "envelope-completed"})
    envelope = trader.wait(lambda v: v["contract"]["status"] == "sent")["contract"]["envelope_id"]
    trader.sign(envelope)
    view = trader.wait(lambda v: v["provisioned"], 6)
    return view["provisioned"], f"provisioned {view['provisioned']}, contract {view['contract']['status']}"


def _prepare(env: Env) -> None:
    prepare(env)


SCENARIOS = {
    "balance_retry_blind": Scenario(_deposit_once_after_a_lost_answer, before_start=_prepare),
    "trading_before_signature": Scenario(_no_trading_before_the_signature, before_start=_prepare),
    "docusign_hmac_unchecked": Scenario(_forged_completion_refused, before_start=_prepare),
    "rippling_create_blind": Scenario(
        _one_worker_after_a_slow_create, {"REFMW_LIFECYCLE_TIMEOUT_S": "1"}, before_start=_prepare
    ),
    "zap_replay_provisions_twice": Scenario(_replay_provisions_once, before_start=_prepare),
    "docusign_no_poll": Scenario(
        _lost_event_caught_by_the_poll, {"REFMW_DOCUSIGN_POLL_S": "0.5"}, before_start=_prepare
    ),
}

test_healthy_build_passes, test_mutant_is_exposed = case_tests(
    SCENARIOS, slow=frozenset({"docusign_no_poll", "zap_replay_provisions_twice", "rippling_create_blind"})
)

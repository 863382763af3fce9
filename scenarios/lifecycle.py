"""The trader lifecycle: funded traders taken from a Stripe checkout through the bus (Zapier), the
contract (DocuSign), MT5, the deposit and payroll (Rippling), with each hop failing, duplicated,
reordered or delayed. Every trader must end with exactly one of each record, the money must add up,
nothing may be booked twice, and nobody may trade before signing."""

from __future__ import annotations

from typing import Any

from harness.scenario import FaultStep, Scenario, action, down, protocol

CORE = (
    "lifecycle_provisioned_once",
    "lifecycle_balances",
    "lifecycle_no_double_deal",
    "lifecycle_no_trading_before_signature",
)
COMPLETED = "envelope-completed"


def onboard(*, at: float = 0.0, **params: Any) -> FaultStep:
    """Funded traders taken through the chain (harness/scenario/lifecycle.py has the parameters)."""
    return action("lifecycle", "lifecycle", at=at, **params)


def _lifecycle(id_: str, title: str, description: str, *schedule: object, **extra: object) -> Scenario:
    fields: dict[str, object] = {
        "suite": "lifecycle",
        "venue": "lifecycle",
        "fault_class": "lifecycle",
        "severity": "critical",
        "checks": CORE,
        "workload": "quiet",
        "traders": 1,
        "steady_s": 0.5,
        "recovery_s": 0.5,
        **extra,
    }
    return Scenario(id=id_, title=title, description=description, schedule=schedule, **fields)  # type: ignore[arg-type]


SCENARIOS = (
    _lifecycle(
        "LIFECYCLE-ONBOARD-AND-PAY-OUT",
        "Three funded traders onboarded through the whole chain, then paid out",
        "Three funded checkouts go through the bus, the contract, MT5, the deposit and payroll, with no "
        "fault. Each must end with one contract, one MT5 login, one deposit and one worker, trade only "
        "after signing, and get one withdrawal and one pay item for a payout.",
        onboard(traders=3),
        action("lifecycle", "lifecycle_payout", at=0.1, amount="1500.00"),
    ),
    _lifecycle(
        "LIFECYCLE-ZAP-REPLAYED",
        "An operator replays every onboarding Zap run",
        "After each trader's Zap has run, it is replayed from the bus's task history, so DocuSign gets a "
        "second envelope for the same trader. The middleware must keep one contract (voiding the other) "
        "and provision each trader once.",
        onboard(traders=2, replay=True),
    ),
    _lifecycle(
        "LIFECYCLE-ZAP-RUN-DUPLICATED",
        "The bus runs one trigger twice",
        "The bus acknowledges a funded checkout once but runs its Zap twice (Zapier promises at least "
        "once). Two envelopes reach the middleware for one trader; it must end with one of everything.",
        protocol("zapier", "duplicate", count=2),
        onboard(at=0.1, traders=2),
    ),
    _lifecycle(
        "LIFECYCLE-BUS-RATE-LIMITED",
        "The bus answers 429 to the middleware's first triggers",
        "Zapier throttles the catch hook (429 with Retry-After 1 s) for the first three triggers. The "
        "middleware must retry, honouring Retry-After, and every trader must still be onboarded once.",
        protocol("zapier", "status", count=3, status=429, retry_after_s=1),
        onboard(at=0.1, traders=2),
    ),
    _lifecycle(
        "LIFECYCLE-BUS-UNREACHABLE",
        "The bus is unreachable for 3 s while traders pay",
        "The Zapier proxy is down when two funded checkouts arrive. The middleware must keep the "
        "hand-off and deliver it once the bus is back: nobody paid may be left without a contract.",
        down("zapier", for_s=3.0),
        onboard(at=0.1, traders=2, background=True),  # the proxy must come back while it waits
    ),
    _lifecycle(
        "LIFECYCLE-ZAP-REORDERED",
        "The bus holds one run back so that a later trader overtakes it",
        "Zapier promises no order: the first trader's run waits 1.5 s while the second's goes through. "
        "Each trader must be provisioned with their own contract, login and worker.",
        protocol("zapier", "delay", count=1, hold_ms=1500),
        onboard(at=0.1, traders=2),
    ),
    _lifecycle(
        "LIFECYCLE-CONNECT-DUPLICATED-AND-REORDERED",
        "DocuSign delivers the signature twice, and its events out of order",
        "The `envelope-completed` event is delivered twice and the `envelope-delivered` event is held "
        "until after it. The middleware must provision each trader once and never move a signed contract "
        "back.",
        protocol("docusign", "duplicate", count=2, event=COMPLETED),
        protocol("docusign", "reorder", count=2, event="envelope-delivered"),
        onboard(at=0.1, traders=2),
    ),
    _lifecycle(
        "LIFECYCLE-CONNECT-FORGED",
        "A forged 'envelope completed' reaches the middleware before the trader signs",
        "Someone posts `envelope-completed` for each unsigned contract with an HMAC made with the wrong "
        "key. It must be refused: the trader may not trade and nothing may be provisioned until the real "
        "signature, after which all of it must follow.",
        onboard(traders=2, forge=True),
        severity="blocker",
    ),
    _lifecycle(
        "LIFECYCLE-CONNECT-EVENT-LOST",
        "The signature's Connect event never arrives",
        "Each trader signs, but DocuSign never sends `envelope-completed`. The middleware must find out "
        "by polling the envelope's status, and provision within the bound.",
        protocol("docusign", "never_delivered", count=2, event=COMPLETED),
        onboard(at=0.1, traders=2),
    ),
    _lifecycle(
        "LIFECYCLE-CONNECT-BAD-SIGNATURE-RETRIED",
        "DocuSign's first delivery of each signature fails its HMAC, the retry is good",
        "The first attempt of `envelope-completed` is signed with a wrong key and must be refused; "
        "Connect retries it signed right, and that one must be taken: one provisioning per trader.",
        protocol("docusign", "bad_signature", count=2, event=COMPLETED, attempts=1),
        onboard(at=0.1, traders=2),
    ),
    _lifecycle(
        "LIFECYCLE-MT5-DEPOSIT-ANSWER-LOST",
        "MT5 books the initial deposit, then its answer is lost",
        "The first `trade/balance` is executed at MT5 but the connection drops before the answer: the "
        "classic retry trap. The middleware must look the deal up before booking again: one deposit.",
        protocol("mt5", "answer_lost", count=1, path="/api/trade/balance"),
        onboard(at=0.1, traders=2),
    ),
    _lifecycle(
        "LIFECYCLE-MT5-PAYOUT-ANSWER-LOST",
        "MT5 books a payout's withdrawal, then its answer is lost",
        "After onboarding, the first payout's `trade/balance` is executed but its answer is lost. One "
        "withdrawal per payout, and balances equal deposits minus payouts.",
        onboard(traders=2),
        protocol("mt5", "answer_lost", at=0.1, count=1, path="/api/trade/balance"),
        action("lifecycle", "lifecycle_payout", at=0.2, amount="2500.00"),
    ),
    _lifecycle(
        "LIFECYCLE-MT5-SESSION-LOST",
        "MT5 drops the manager session and answers slowly during provisioning",
        "The Manager API closes the keep-alive connection after a request, twice, and answers a user "
        "request 1.5 s late. The middleware must log in again and finish each trader's provisioning "
        "once.",
        protocol("mt5", "session_lost", count=2, after=1),
        protocol("mt5", "slow_answer", count=1, delay_ms=1500, path="/api/user/"),
        onboard(at=0.1, traders=2),
    ),
    _lifecycle(
        "LIFECYCLE-RIPPLING-SLOW-CREATE",
        "Rippling creates the worker but answers after the middleware has given up",
        "The first two `POST /workers` take 8 s to answer, past any sensible client timeout, though "
        "each worker is created at once. The middleware must look the worker up before creating it "
        "again: one worker per trader.",
        protocol("rippling", "slow", count=2, delay_ms=8000, path="/workers", method="POST"),
        onboard(at=0.1, traders=2),
    ),
    _lifecycle(
        "LIFECYCLE-RIPPLING-THROTTLED",
        "Rippling answers 429 and then 503 to the first worker requests",
        "Payroll throttles (429, Retry-After 1 s) then fails (503) on the first requests. The middleware "
        "must retry and still create exactly one worker per trader.",
        protocol("rippling", "status", count=2, status=429, retry_after_s=1),
        protocol("rippling", "status", count=1, status=503),
        onboard(at=0.1, traders=2),
    ),
    _lifecycle(
        "LIFECYCLE-CONTRACT-DECLINED",
        "Funded traders decline the contract",
        "Two traders pay, then decline the contract at DocuSign. They must never trade, and nothing may "
        "be provisioned for them: no MT5 login, no deposit, no worker.",
        onboard(traders=2, sign="decline"),
        checks=("lifecycle_provisioned_once", "lifecycle_no_trading_before_signature"),
    ),
    _lifecycle(
        "LIFECYCLE-CANCELLED",
        "Funded traders paid out, then cancelled",
        "Two traders are onboarded and paid out, then cancel their subscription. They must stop trading "
        "at once, and be disabled at MT5 and terminated in payroll, with balances still adding up.",
        onboard(traders=2),
        action("lifecycle", "lifecycle_payout", at=0.1, amount="1000.00"),
        action("lifecycle", "lifecycle_cancel", at=0.2),
        checks=(*CORE, "lifecycle_cancelled"),
    ),
)

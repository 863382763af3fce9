"""Webhook and TT checkers on hand-made sends, events, admin views and TT fault events."""

from __future__ import annotations

from typing import Any

from harness import resources
from harness.adapters import AccountView
from harness.checks import CHECKERS
from harness.checks.webhooks import expected_enabled

from .conftest import MakeCtx


def _event(eid: str, kind: str, customer: str, created: int, **obj: Any) -> dict[str, Any]:
    return {"id": eid, "type": kind, "created": created, "data": {"object": {"customer": customer, **obj}}}


def _send(
    customer: str, deliveries: list[tuple[str, int]], faults: tuple[str, ...] = (), **views: Any
) -> dict[str, Any]:
    return {
        "customer": customer,
        "faults": list(faults),
        "deliveries": [{"event_id": e, "status": s, "attempt": 1} for e, s in deliveries],
        "accounts": views,
    }


def test_exactly_once_counts_payments_per_invoice(make_ctx: MakeCtx) -> None:
    events = [_event("evt_1", "invoice.paid", "cus_a", 1, id="in_1")]
    once = _send(
        "cus_a",
        [("evt_1", 200), ("evt_1", 200)],
        ("duplicate",),
        A1=AccountView("A1", payment_invoices=("in_1",)),
    )
    extras = {"stripe_events": events, "webhook_sends": [once]}
    assert CHECKERS["webhook_exactly_once"](make_ctx(extras=extras)).passed
    twice = dict(once, accounts={"A1": AccountView("A1", payment_invoices=("in_1", "in_1"))})
    verdict = CHECKERS["webhook_exactly_once"](
        make_ctx(extras={"stripe_events": events, "webhook_sends": [twice]})
    )
    assert not verdict.passed and verdict.category == "webhook handling"
    assert (
        verdict.evidence[0]["event_id"] == "evt_1" and verdict.evidence[0]["problem"] == "2 payments recorded"
    )


def test_exactly_once_fails_an_event_never_accepted_and_offending_sql_rows(make_ctx: MakeCtx) -> None:
    events = [_event("evt_1", "checkout.session.completed", "cus_a", 1)]
    refused = _send("cus_a", [("evt_1", 500)])
    verdict = CHECKERS["webhook_exactly_once"](
        make_ctx(extras={"stripe_events": events, "webhook_sends": [refused]})
    )
    assert not verdict.passed and verdict.evidence[0]["problem"] == "never accepted"
    fine = _send("cus_a", [("evt_1", 200)])
    extras = {"stripe_events": events, "webhook_sends": [fine]}
    reference_sql = resources.real_path(resources.TARGETS, "reference.sql")
    verdict = CHECKERS["webhook_exactly_once"](
        make_ctx(extras=extras, psql=lambda sql: "evt_1|2\n", sql_file=reference_sql)
    )
    assert not verdict.passed and any("SQL webhook." in str(e.get("problem")) for e in verdict.evidence)
    assert CHECKERS["webhook_exactly_once"](
        make_ctx(extras=extras, psql=lambda sql: "", sql_file=reference_sql)
    ).passed


def test_authentic_refuses_forgeries_and_accepts_genuine_sends(make_ctx: MakeCtx) -> None:
    forged_refused = _send("cus_f", [("evt_f", 400)], ("bad_signature",))
    genuine = _send("cus_g", [("evt_g", 200)], ("rotated_secret",), A2={})
    assert CHECKERS["webhook_authentic"](make_ctx(extras={"webhook_sends": [forged_refused, genuine]})).passed
    forged_taken = _send("cus_f", [("evt_f", 200)], ("tampered_body",), A3={})
    verdict = CHECKERS["webhook_authentic"](make_ctx(extras={"webhook_sends": [forged_taken]}))
    assert not verdict.passed and verdict.evidence[0]["accounts_created"] == ["A3"]
    genuine_refused = _send("cus_g", [("evt_g", 400)], ("rotated_secret",))
    assert not CHECKERS["webhook_authentic"](make_ctx(extras={"webhook_sends": [genuine_refused]})).passed


def test_expected_state_is_decided_in_event_time() -> None:
    checkout = _event("e1", "checkout.session.completed", "c", 1)
    created = _event("e2", "customer.subscription.created", "c", 2, status="active")
    deleted = _event("e3", "customer.subscription.deleted", "c", 3, status="canceled")
    past_due = _event("e4", "customer.subscription.updated", "c", 4, status="past_due")
    assert expected_enabled([deleted, created, checkout]) is False
    assert expected_enabled([checkout, created]) is True
    assert expected_enabled([past_due, created]) is False  # the later event wins, whatever the delivery order
    assert expected_enabled([checkout]) is True
    assert expected_enabled([]) is None


def test_webhook_state_fails_an_order_dependent_end_state(make_ctx: MakeCtx) -> None:
    events = [
        _event("e3", "customer.subscription.deleted", "cus_r", 3, status="canceled"),
        _event("e1", "checkout.session.completed", "cus_r", 1),
    ]
    send = _send("cus_r", [("e3", 200), ("e1", 200)], A1=AccountView("A1", trading_enabled=False))
    assert CHECKERS["webhook_state"](
        make_ctx(extras={"stripe_events": events, "webhook_sends": [send]})
    ).passed
    wrong = dict(send, accounts={"A1": AccountView("A1", trading_enabled=True)})
    verdict = CHECKERS["webhook_state"](make_ctx(extras={"stripe_events": events, "webhook_sends": [wrong]}))
    assert not verdict.passed and verdict.evidence[0]["expected_trading_enabled"] is False


def test_tt_provisioned(make_ctx: MakeCtx) -> None:
    good = {"A1": AccountView("A1", tt_status="provisioned", tt_account_id="7")}
    assert CHECKERS["tt_provisioned"](make_ctx(extras={"admin": good})).passed
    bad = {**good, "A2": AccountView("A2", tt_status="failed")}
    verdict = CHECKERS["tt_provisioned"](make_ctx(extras={"admin": bad}))
    assert not verdict.passed and verdict.evidence[0]["account"] == "A2"


def test_tt_rate_limit_honoured_per_path(make_ctx: MakeCtx) -> None:
    def fired(*times: float, path: str = "/ttaccount") -> list[dict[str, Any]]:
        return [{"fault": "rate_limit_storm", "ts": t, "path": path} for t in times]

    patient = {
        "tt_fault_events": fired(10.0, 11.02, 12.05) + fired(10.1, path="/fills"),
        "tt_retry_after_s": 1,
    }
    assert CHECKERS["tt_rate_limit_honoured"](make_ctx(extras=patient)).passed
    hasty = {"tt_fault_events": fired(10.0, 10.01, 10.03), "tt_retry_after_s": 1}
    verdict = CHECKERS["tt_rate_limit_honoured"](make_ctx(extras=hasty))
    assert not verdict.passed and len(verdict.evidence) == 2


def test_tt_positions_reconcile(make_ctx: MakeCtx) -> None:
    same = {"tt_positions": {"A1": {"ESZ6": 4}}, "tt_ledger_positions": {"A1": {"ESZ6": 4}}}
    assert CHECKERS["tt_positions_reconcile"](make_ctx(extras=same)).passed
    short = {"tt_positions": {"A1": {"ESZ6": -2}}, "tt_ledger_positions": {"A1": {"ESZ6": 4}}}
    verdict = CHECKERS["tt_positions_reconcile"](make_ctx(extras=short))
    assert not verdict.passed
    assert verdict.evidence == [
        {"account": "A1", "symbol": "ESZ6", "tt_net_qty": 4, "middleware_net_qty": -2}
    ]

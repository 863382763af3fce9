"""No verdict without evidence: a checker given nothing to judge says so (no_evidence), a checker
that cannot run says why (skipped), and neither is ever a pass."""

from __future__ import annotations

import pytest

from harness.checks import CHECKERS, VERDICT_STATUSES, Verdict

from .conftest import FakeAdapter, MakeCtx, Recorder, fail, ok, timeline

DOWN = ("rithmic down", 10.0, 14.0, True)


def test_verdict_constructors_and_passed_follow_the_status() -> None:
    held = Verdict.ok("c", "3 orders, each once", [{"sql": "SELECT 1"}])
    broke = Verdict.fail("c", "1 order twice", [{"client_order_id": "x"}], "duplicate order")
    empty = Verdict.no_evidence("c", "no order of ours reached the venue")
    cannot = Verdict.skip("c", "not run: no access to the middleware's database")
    assert [v.status for v in (held, broke, empty, cannot)] == list(VERDICT_STATUSES)
    assert [v.passed for v in (held, broke, empty, cannot)] == [True, False, False, False]
    assert broke.category == "duplicate order" and broke.evidence == [{"client_order_id": "x"}]
    assert empty.to_json() == {
        "check": "c",
        "status": "no_evidence",
        "passed": False,
        "summary": "no order of ours reached the venue",
        "category": "",
        "diagnosis": None,
        "evidence": [],
    }


@pytest.mark.parametrize("name", sorted(CHECKERS))
def test_every_checker_on_an_empty_run_is_not_passed(make_ctx: MakeCtx, name: str) -> None:
    """Nothing placed, no fault, no webhook, no TT event, no database: nothing to judge."""
    verdict = CHECKERS[name](make_ctx(accounts={}))
    assert verdict.check == name
    assert verdict.status in ("no_evidence", "skipped"), verdict
    assert not verdict.passed and verdict.summary


def test_orders_refused_by_the_middleware_leave_the_order_checks_nothing_to_judge(make_ctx: MakeCtx) -> None:
    """A middleware that answers 503 to every order: nothing reaches the venue, nothing fills. The
    order checks cannot pass on that; recovery after a fault fails outright."""
    rec = Recorder()
    for i in range(20):
        rec.order(f"c{i}", 1.0 + i, fail(503))
    ctx = make_ctx(rec, timeline(DOWN), adapter=FakeAdapter())
    for name in ("no_duplicate_order", "no_lost_fill", "positions_reconcile"):
        verdict = CHECKERS[name](ctx)
        assert verdict.status == "no_evidence", verdict
    assert "no order of ours reached the venue" in CHECKERS["no_duplicate_order"](ctx).summary
    assert "no order of ours filled" in CHECKERS["no_lost_fill"](ctx).summary
    recovery = CHECKERS["recovery_slo"](ctx)
    assert recovery.status == "failed" and "never" in recovery.summary
    # every order had a definite answer (refused), so none is left unknown: that much holds
    assert CHECKERS["unknown_outcomes_resolve"](ctx).status == "passed"


def test_flat_positions_with_no_fill_are_no_evidence_but_a_phantom_position_fails(make_ctx: MakeCtx) -> None:
    rec = Recorder()
    rec.order("c1", 1.0, ok())
    resting = {"orders": [{"client_tag": "c1", "status": "open"}], "fills": []}
    flat = CHECKERS["positions_reconcile"](make_ctx(rec, ledger=resting))
    assert flat.status == "no_evidence"
    phantom = FakeAdapter({"A1": [{"symbol": "ESZ6", "net_qty": 1, "venue": "rithmic"}]})
    verdict = CHECKERS["positions_reconcile"](make_ctx(rec, ledger=resting, adapter=phantom))
    assert verdict.status == "failed", "a failure needs no minimum: the position itself is the evidence"


def test_availability_checks_need_an_outage_and_traffic_inside_it(make_ctx: MakeCtx) -> None:
    rec = Recorder()
    rec.order("before", 5.0, ok())
    rec.op("prober", "account", {"account": "A1"}, 5.0, ok({"id": "A1"}))
    no_outage = make_ctx(rec)
    for name in ("fast_fail", "admin_separation", "recovery_slo", "quotes_resume"):
        verdict = CHECKERS[name](no_outage)
        assert verdict.status == "no_evidence", verdict
    quiet_outage = make_ctx(rec, timeline(DOWN))  # down from 10 s to 14 s; nothing happened then or after
    assert CHECKERS["fast_fail"](quiet_outage).summary == "no order was sent while a venue was down"
    assert (
        CHECKERS["admin_separation"](quiet_outage).summary == "no admin read was made while a venue was down"
    )
    assert CHECKERS["recovery_slo"](quiet_outage).summary == "no order was sent after the last fault cleared"
    assert CHECKERS["quotes_resume"](quiet_outage).status == "no_evidence"


def test_tt_and_webhook_checks_need_their_events(make_ctx: MakeCtx) -> None:
    one_429 = {"tt_fault_events": [{"fault": "rate_limit_storm", "path": "/ttaccount", "ts": 1.0}]}
    verdict = CHECKERS["tt_rate_limit_honoured"](make_ctx(extras=one_429))
    assert verdict.status == "no_evidence" and "no retry to time" in verdict.summary
    no_position: dict[str, dict[str, dict[str, int]]] = {
        "tt_positions": {"A1": {}},
        "tt_ledger_positions": {"A1": {}},
    }
    assert CHECKERS["tt_positions_reconcile"](make_ctx(extras=no_position)).status == "no_evidence"
    forged_only = {
        "webhook_sends": [
            {
                "customer": "cus_1",
                "faults": ["bad_signature"],
                "deliveries": [{"event_id": "e1", "status": 400}],
            }
        ],
        "stripe_events": [],
    }
    assert CHECKERS["webhook_authentic"](make_ctx(extras=forged_only)).status == "passed"
    for name in ("webhook_exactly_once", "webhook_state"):  # no genuine event to judge the effect of
        assert CHECKERS[name](make_ctx(extras=forged_only)).status == "no_evidence", name

"""Availability checkers on hand-made histories and fault timelines."""

from __future__ import annotations

from harness.adapters import HealthView, Outcome
from harness.checks import CHECKERS
from harness.timeline import FaultWindow

from .conftest import MakeCtx, Recorder, fail, info, ok, timeline

DOWN = ("rithmic down", 10.0, 14.0, True)


def test_fast_fail_passes_fast_refusals_and_forgives_the_detection_grace(make_ctx: MakeCtx) -> None:
    rec = Recorder()
    rec.order("in-grace", 10.2, info(status=504, latency_ms=3000))  # in flight when it dropped: answered
    rec.order("c1", 11.5, fail(latency_ms=8))
    rec.order("after", 15.0, ok())
    verdict = CHECKERS["fast_fail"](make_ctx(rec, timeline(DOWN)))
    assert verdict.passed, verdict.summary


def test_fast_fail_fails_a_slow_refusal_an_accepted_order_and_a_hang(make_ctx: MakeCtx) -> None:
    rec = Recorder()
    rec.order("slow", 11.5, fail(latency_ms=2500))
    rec.order("accepted", 12.0, ok())
    rec.order("hung", 10.1, info(status=None, latency_ms=5000))  # even inside the grace: no answer at all
    verdict = CHECKERS["fast_fail"](make_ctx(rec, timeline(DOWN)))
    assert not verdict.passed and verdict.category == "recovery SLO breach"
    assert {e["client_order_id"] for e in verdict.evidence} == {"slow", "accepted", "hung"}
    assert all(e["fault"] == "rithmic down" for e in verdict.evidence)


def test_admin_separation(make_ctx: MakeCtx) -> None:
    rec = Recorder()
    rec.op("prober", "account", {"account": "A1"}, 11.0, ok({"id": "A1"}))
    assert CHECKERS["admin_separation"](make_ctx(rec, timeline(DOWN))).passed
    rec.op("prober", "account", {"account": "A1"}, 12.0, fail(503))
    verdict = CHECKERS["admin_separation"](make_ctx(rec, timeline(DOWN)))
    assert not verdict.passed and verdict.evidence[0]["status"] == 503


def test_recovery_slo(make_ctx: MakeCtx) -> None:
    rec = Recorder()
    rec.order("c1", 15.0, ok())
    assert CHECKERS["recovery_slo"](make_ctx(rec, timeline(DOWN))).passed
    late = Recorder()
    late.order("c1", 14.5, fail())
    verdict = CHECKERS["recovery_slo"](make_ctx(late, timeline(DOWN)))
    assert not verdict.passed and "never" in verdict.summary


def test_trading_resumes_inside_the_marked_window_while_another_fault_holds(make_ctx: MakeCtx) -> None:
    logons = ("cqg logon_result", 10.0, 22.0, False)
    tl = timeline(logons, ("cqg down", 10.5, 12.5, True))
    tl.windows.append(FaultWindow("cqg restored", "protocol", "cqg", False, 16.0, 22.0, venue_up=True))
    rec = Recorder()
    rec.order("before", 15.0, ok())  # before the window: not judged
    rec.order("in-1", 16.5, fail(503))
    rec.order("in-2", 17.0, ok())
    assert CHECKERS["trading_resumes"](make_ctx(rec, tl)).passed
    locked_out = Recorder()
    locked_out.order("before", 15.0, ok())
    locked_out.order("in-1", 16.5, fail(503))
    locked_out.order("in-2", 21.0, fail(503))
    locked_out.order("after", 23.0, ok())  # once the logon outage is over: too late
    verdict = CHECKERS["trading_resumes"](make_ctx(locked_out, tl))
    assert not verdict.passed and verdict.evidence[0]["orders_sent"] == 2
    assert not CHECKERS["trading_resumes"](make_ctx(Recorder(), tl)).passed  # nothing sent: no evidence
    unmarked = CHECKERS["trading_resumes"](make_ctx(rec, timeline(logons)))
    assert unmarked.status == "no_evidence"


def _health(age: float | None) -> Outcome:
    return Outcome("ok", 200, {"status": "ok"}, 5.0, view=HealthView(True, age))


def test_quotes_resume_needs_fresh_quotes_that_stay_fresh(make_ctx: MakeCtx) -> None:
    fault = ("rithmic forced_logout", 10.0, 11.0, False)
    rec = Recorder()
    for at, age in ((11.2, 1.2), (11.6, 3.0), (12.0, 0.1), (12.4, 0.2)):
        rec.op("prober", "health", {}, at, _health(age))
    verdict = CHECKERS["quotes_resume"](make_ctx(rec, timeline(fault)))
    assert verdict.passed, verdict.summary
    frozen = Recorder()
    for at, age in ((11.2, 1.2), (11.6, 1.6), (12.0, 2.0), (12.4, 2.4)):  # young at first, then only older
        frozen.op("prober", "health", {}, at, _health(age))
    verdict = CHECKERS["quotes_resume"](make_ctx(frozen, timeline(fault)))
    assert not verdict.passed and verdict.evidence[0]["last_quote_age_s"] == 2.4

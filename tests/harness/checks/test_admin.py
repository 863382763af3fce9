"""The admin-state checkers on hand-made histories: database fault windows, deployments, health."""

from __future__ import annotations

from harness.adapters import HealthView, OrderView, Outcome
from harness.checks import CHECKERS, Deployment
from harness.target import Slo
from harness.timeline import FaultWindow, Timeline

from .conftest import MakeCtx, Recorder, fail, info, ok


def db_timeline(*windows: tuple[str, float, float, bool], target: str = "postgres") -> Timeline:
    tl = Timeline(started=0.0)
    for name, start, end, unreachable in windows:
        tl.windows.append(FaultWindow(name, "network", target, False, start, end, unreachable=unreachable))
    return tl


def health(database_ok: bool | None, status: int = 200) -> Outcome:
    return Outcome("ok", status, {"database": database_ok}, 5.0, view=HealthView(True, None, database_ok))


DOWN = ("postgres down", 10.0, 15.0, True)
LOCK = ("postgres row_lock (lock=accounts)", 10.0, 15.0, False)


def test_acked_orders_durable_holds_at_the_venue_or_definitively_failed(make_ctx: MakeCtx) -> None:
    rec = Recorder()
    rec.order("at-venue", 9.0, ok(status=202))
    rec.order("failed", 9.5, ok(status=202))
    rec.order("refused", 9.6, fail(503))  # never acknowledged: not the check's business
    orders = {"at-venue": OrderView("filled", 1), "failed": OrderView("failed")}
    ledger = {"orders": [{"client_tag": "at-venue"}], "fills": []}
    verdict = CHECKERS["acked_orders_durable"](make_ctx(rec, ledger=ledger, orders=orders))
    assert verdict.passed, verdict.summary
    assert "2 acknowledged" in verdict.summary


def test_acked_orders_durable_fails_an_order_forgotten_across_a_restart(make_ctx: MakeCtx) -> None:
    rec = Recorder()
    rec.order("kept", 9.0, ok(status=202))
    rec.order("forgotten", 9.8, ok(status=202))
    rec.order("limbo", 9.9, ok(status=202))
    orders = {
        "kept": OrderView("working"),
        "forgotten": OrderView.missing({"error": "no such order"}),
        "limbo": OrderView("pending"),  # known, but neither at the venue nor given up
    }
    ledger = {"orders": [{"client_tag": "kept"}, {"client_tag": "forgotten"}], "fills": []}
    crash = Deployment("crash", signalled_at=10.0, exit_code=-9)
    verdict = CHECKERS["acked_orders_durable"](
        make_ctx(rec, ledger=ledger, orders=orders, deployments=[crash])
    )
    assert verdict.status == "failed" and verdict.category == "data loss"
    by_coid = {e["client_order_id"]: e for e in verdict.evidence}
    assert set(by_coid) == {"forgotten", "limbo"}
    assert by_coid["forgotten"]["problem"] == "the middleware has no record of it"
    assert by_coid["forgotten"]["at_venue"] and by_coid["forgotten"]["restarts_after"] == 1


def test_db_bounded_answers_counts_requests_in_flight_when_the_fault_began(make_ctx: MakeCtx) -> None:
    rec = Recorder()
    rec.order("fast-refusal", 11.0, fail(503, latency_ms=1100))
    rec.op("prober", "account", {"account": "A1"}, 12.0, ok({"id": "A1"}, latency_ms=40))
    rec.order("before", 9.0, ok(latency_ms=20))  # done before the window: not judged
    verdict = CHECKERS["db_bounded_answers"](make_ctx(rec, db_timeline(LOCK)))
    assert verdict.passed and "2 request(s)" in verdict.summary
    rec.order("queued-behind-lock", 9.9, ok(latency_ms=5200))  # in flight when the lock was taken
    rec.order("hung", 12.5, info(status=None, latency_ms=10000))
    verdict = CHECKERS["db_bounded_answers"](make_ctx(rec, db_timeline(LOCK)))
    assert verdict.status == "failed" and verdict.category == "unbounded wait"
    assert [e["client_order_id"] for e in verdict.evidence] == ["hung", "queued-behind-lock"]
    assert verdict.evidence[0]["problem"] == "no answer at all"


def test_db_bounded_answers_ignores_venue_faults_and_honours_the_slo(make_ctx: MakeCtx) -> None:
    rec = Recorder()
    rec.order("slow", 11.0, ok(latency_ms=2500))
    venue = db_timeline(("rithmic down", 10.0, 15.0, True), target="rithmic")
    assert CHECKERS["db_bounded_answers"](make_ctx(rec, venue)).status == "no_evidence"
    tight = Slo(answer_ms=2000)
    assert CHECKERS["db_bounded_answers"](make_ctx(rec, db_timeline(LOCK), slo=tight)).status == "failed"
    assert CHECKERS["db_bounded_answers"](make_ctx(rec, db_timeline(LOCK))).passed


def test_admin_recovers_within_the_slo_and_stays_up(make_ctx: MakeCtx) -> None:
    rec = Recorder()
    for at, outcome in ((15.5, fail(503)), (16.0, ok({"id": "A1"})), (17.0, ok({"id": "A1"}))):
        rec.op("prober", "account", {"account": "A1"}, at, outcome)
    verdict = CHECKERS["admin_recovers"](make_ctx(rec, db_timeline(DOWN)))
    assert verdict.passed and "1.0 s after" in verdict.summary
    rec.op("prober", "account", {"account": "A1"}, 18.0, fail(503))  # down again at the end: never recovered
    verdict = CHECKERS["admin_recovers"](make_ctx(rec, db_timeline(DOWN)))
    assert verdict.status == "failed" and "never" in verdict.summary
    late = Recorder()
    late.op("prober", "account", {"account": "A1"}, 16.0, fail(503))
    late.op("prober", "account", {"account": "A1"}, 40.0, ok({"id": "A1"}))
    verdict = CHECKERS["admin_recovers"](make_ctx(late, db_timeline(DOWN)))
    assert verdict.status == "failed" and "25.0 s" in verdict.summary


def test_health_truthful_wants_the_database_reported_down_after_the_grace(make_ctx: MakeCtx) -> None:
    rec = Recorder()
    rec.op("prober", "health", {}, 10.5, health(True))  # within the 3 s to notice: forgiven
    rec.op("prober", "health", {}, 13.5, health(False))
    rec.op(
        "prober", "health", {}, 14.0, Outcome("fail", 503, {"status": "degraded"}, 5.0)
    )  # unhealthy: truthful
    rec.op("prober", "health", {}, 16.0, health(True))
    verdict = CHECKERS["health_truthful"](make_ctx(rec, db_timeline(DOWN)))
    assert verdict.passed, verdict.summary
    rec.op("prober", "health", {}, 14.5, health(True))
    verdict = CHECKERS["health_truthful"](make_ctx(rec, db_timeline(DOWN)))
    assert verdict.status == "failed" and verdict.category == "observability"
    assert [e["at"] for e in verdict.evidence] == [14.5]


def test_health_truthful_needs_an_outage_and_the_database_back_up(make_ctx: MakeCtx) -> None:
    rec = Recorder()
    rec.op("prober", "health", {}, 14.0, health(False))
    lock_only = db_timeline(LOCK)  # reachable, only locked: nothing to report
    assert CHECKERS["health_truthful"](make_ctx(rec, lock_only)).status == "no_evidence"
    rec.op("prober", "health", {}, 20.0, health(False))  # still "down" long after it came back
    verdict = CHECKERS["health_truthful"](make_ctx(rec, db_timeline(DOWN)))
    assert verdict.status == "failed" and "never reported it up again" in verdict.summary


def test_drained_on_shutdown_wants_an_answer_for_every_request_in_flight(make_ctx: MakeCtx) -> None:
    graceful = Deployment("graceful", signalled_at=10.0, exit_code=0, log_lines=("shutdown: done",))
    rec = Recorder()
    rec.order("drained", 9.8, ok(latency_ms=400))
    rec.order("refused-after", 10.2, fail(None, latency_ms=2))  # connection refused: never left
    verdict = CHECKERS["drained_on_shutdown"](make_ctx(rec, deployments=[graceful]))
    assert verdict.passed and "1 request(s)" in verdict.summary
    rec.order("cut", 9.9, Outcome("info", None, None, 300.0, "RemoteProtocolError: disconnected"))
    verdict = CHECKERS["drained_on_shutdown"](make_ctx(rec, deployments=[graceful]))
    assert verdict.status == "failed" and verdict.category == "deployment"
    assert [e["client_order_id"] for e in verdict.evidence] == ["cut"]
    crash = Deployment("crash", signalled_at=10.0, exit_code=-9)  # a crash is not judged on draining
    assert CHECKERS["drained_on_shutdown"](make_ctx(rec, deployments=[crash])).status == "no_evidence"


def test_bad_release_caught(make_ctx: MakeCtx) -> None:
    caught = Deployment("bad_release", 5.0, 0, 5.5, ready_at=9.0, bad_release_ready=False)
    assert CHECKERS["bad_release_caught"](make_ctx(deployments=[caught])).passed
    shipped = Deployment("bad_release", 5.0, 0, 5.5, ready_at=9.0, bad_release_ready=True)
    verdict = CHECKERS["bad_release_caught"](make_ctx(deployments=[shipped]))
    assert verdict.status == "failed" and "passed a release built to fail it" in verdict.summary
    stuck = Deployment("bad_release", 5.0, 0, 5.5, ready_at=None, bad_release_ready=False)
    assert CHECKERS["bad_release_caught"](make_ctx(deployments=[stuck])).status == "failed"


def gauge(value: float | None) -> Outcome:
    return Outcome("ok", 200, {"refmw_database_up": value, "database_up": value}, 4.0)


def test_metrics_truthful_wants_the_gauge_at_zero_during_the_outage_and_up_after(make_ctx: MakeCtx) -> None:
    rec = Recorder()
    for at, value in ((11.0, 1.0), (13.5, 0.0), (14.5, 0.0), (16.0, 1.0)):  # 11.0: within the grace
        rec.op("prober", "metrics", {}, at, gauge(value))
    verdict = CHECKERS["metrics_truthful"](make_ctx(rec, db_timeline(DOWN)))
    assert verdict.passed and "2 metrics scrape(s)" in verdict.summary
    rec.op("prober", "metrics", {}, 14.8, gauge(1.0))
    rec.op("prober", "metrics", {}, 14.9, gauge(None))  # no gauge in the scrape: says nothing
    verdict = CHECKERS["metrics_truthful"](make_ctx(rec, db_timeline(DOWN)))
    assert verdict.status == "failed" and [e["problem"] for e in verdict.evidence] == [
        "said the database was up",
        "no answer",
    ]


def test_truthful_judges_only_answers_made_before_the_fault_began_to_lift(make_ctx: MakeCtx) -> None:
    """The window's end is stamped once the toxic is gone; an answer made while it was being removed
    may rightly see the database back, so only answers before `lifting` are judged."""
    timeline = db_timeline(DOWN)
    timeline.windows[0].lifting = 14.9
    rec = Recorder()
    rec.op("prober", "metrics", {}, 13.5, gauge(0.0))
    rec.op("prober", "metrics", {}, 14.9, gauge(1.0))  # asked as the lifting began: not judged
    rec.op("prober", "metrics", {}, 16.0, gauge(1.0))
    verdict = CHECKERS["metrics_truthful"](make_ctx(rec, timeline))
    assert verdict.passed and "1 metrics scrape(s)" in verdict.summary, verdict.summary
    rec.op("prober", "metrics", {}, 14.8, gauge(1.0))  # answered 14.804, before the lifting: a lie
    verdict = CHECKERS["metrics_truthful"](make_ctx(rec, timeline))
    assert verdict.status == "failed" and [e["at"] for e in verdict.evidence] == [14.8]


def test_db_bounded_answers_adds_the_bound_to_what_the_operation_took_before_any_fault(
    make_ctx: MakeCtx,
) -> None:
    """On a loaded box orders took 1.5 s before anything broke: the fault may add 3 s to that."""
    rec = Recorder()
    for i in range(20):
        rec.order(f"before-{i}", 1.0 + i * 0.1, ok(latency_ms=1500 if i == 19 else 200))
    rec.order("slow-but-bounded", 12.0, ok(latency_ms=4400))
    verdict = CHECKERS["db_bounded_answers"](make_ctx(rec, db_timeline(LOCK)))
    assert verdict.passed and "at most 1500 ms" in verdict.summary, verdict.summary
    rec.order("past-it", 12.5, ok(latency_ms=4600))
    verdict = CHECKERS["db_bounded_answers"](make_ctx(rec, db_timeline(LOCK)))
    assert verdict.status == "failed"
    assert [(e["client_order_id"], e["bound_ms"]) for e in verdict.evidence] == [("past-it", 4500.0)]

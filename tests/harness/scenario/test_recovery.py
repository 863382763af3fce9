"""When the steady and recovery phases may end early: the middleware is visibly working, counted from
the phase's start (steady) or from the faults' clearing (recovery)."""

from __future__ import annotations

import threading
import time

from harness.adapters import HealthView, Outcome
from harness.scenario.recovery import (
    MIN_RECOVERY_S,
    MIN_STEADY_S,
    accepted_since,
    not_driven,
    recovered,
    refused_everything,
    wait_for_evidence,
    wait_for_reacceptance,
    wait_for_recovery,
    wait_for_steady,
)
from scenarios import SCENARIOS
from tests.harness.checks.conftest import Recorder, fail, info, ok

CLEARED = 10.0


def health(
    healthy: bool = True, database_ok: bool | None = True, quote_age_s: float | None = None
) -> Outcome:
    return Outcome("ok", 200, {"status": "ok"}, 3.0, view=HealthView(healthy, quote_age_s, database_ok))


def gauge(value: float) -> Outcome:
    return Outcome("ok", 200, {"database_up": value}, 3.0)


def healthy_run(rec: Recorder, *, metrics: bool = False) -> None:
    rec.op("prober", "health", {}, 10.2, health())
    rec.op("prober", "account", {"account": "A-1"}, 10.2, ok({"id": "A-1"}))
    if metrics:
        rec.op("prober", "metrics", {}, 10.3, gauge(1.0))
    for trader in ("t1", "t2"):
        rec.op(trader, "place_order", {"client_order_id": f"{trader}-1"}, 10.4, ok(status=202))
        rec.op(trader, "place_order", {"client_order_id": f"{trader}-2"}, 10.7, ok(status=202))


def test_recovered_once_every_trader_and_the_prober_see_it_after_the_clearing() -> None:
    rec = Recorder()
    healthy_run(rec)
    assert recovered(rec.history, CLEARED, ["t1", "t2"], metrics=False)
    assert not recovered(rec.history, CLEARED, ["t1", "t2", "t3"], metrics=False)  # t3 placed nothing
    assert not recovered(rec.history, CLEARED, ["t1", "t2"], metrics=True)  # no scrape yet
    assert not recovered(rec.history, 10.5, ["t1", "t2"], metrics=False)  # one order each after 10.5


def test_not_recovered_while_the_last_answers_still_fail() -> None:
    rec = Recorder()
    healthy_run(rec)
    rec.op("t1", "place_order", {"client_order_id": "t1-3"}, 10.9, fail(503))
    assert not recovered(rec.history, CLEARED, ["t1", "t2"], metrics=False)
    rec.op("t1", "place_order", {"client_order_id": "t1-4"}, 11.0, ok(status=202))
    rec.op("t1", "place_order", {"client_order_id": "t1-5"}, 11.2, ok(status=202))
    assert recovered(rec.history, CLEARED, ["t1", "t2"], metrics=False)
    rec.op("prober", "health", {}, 11.3, health(database_ok=False))  # 200, but its database is down
    assert not recovered(rec.history, CLEARED, ["t1", "t2"], metrics=False)


def test_no_traders_needs_only_the_prober_and_the_gauge() -> None:
    rec = Recorder()
    rec.op("prober", "health", {}, 10.2, health())
    rec.op("prober", "account", {"account": "A-1"}, 10.2, ok({"id": "A-1"}))
    rec.op("prober", "metrics", {}, 10.3, gauge(0.0))
    assert recovered(rec.history, CLEARED, [], metrics=False)
    assert not recovered(rec.history, CLEARED, [], metrics=True)  # the gauge still says down
    rec.op("prober", "metrics", {}, 10.5, gauge(1.0))
    assert recovered(rec.history, CLEARED, [], metrics=True)
    assert not recovered(Recorder().history, CLEARED, [], metrics=False)  # nothing seen: not recovered


def test_the_phase_waits_at_least_the_minimum_and_at_most_its_length() -> None:
    rec = Recorder()
    healthy_run(rec)
    waited = wait_for_recovery(rec.history, lambda: CLEARED, ["t1", "t2"], metrics=False, at_most_s=3.0)
    assert MIN_RECOVERY_S <= waited < MIN_RECOVERY_S + 0.5
    broken = Recorder()
    broken.op("t1", "place_order", {"client_order_id": "t1-1"}, 10.4, fail(503))
    began = time.monotonic()
    waited = wait_for_recovery(broken.history, lambda: CLEARED, ["t1"], metrics=False, at_most_s=1.5)
    assert 1.5 <= waited < 2.0 and time.monotonic() - began < 2.0


def test_the_phase_ends_as_soon_as_recovery_shows_after_the_minimum() -> None:
    rec = Recorder()
    threading.Timer(1.5, healthy_run, args=(rec,)).start()  # the answers arrive 1.5 s in
    waited = wait_for_recovery(rec.history, lambda: CLEARED, ["t1", "t2"], metrics=False, at_most_s=5.0)
    assert 1.5 <= waited < 2.2


def test_market_data_must_be_seen_flowing_again_where_health_reports_it() -> None:
    rec = Recorder()
    healthy_run(rec)
    rec.op("prober", "health", {}, 10.8, health(quote_age_s=1.5))  # young, but from before the clearing
    assert not recovered(rec.history, CLEARED, ["t1", "t2"], metrics=False)
    rec.op("prober", "health", {}, 11.0, health(quote_age_s=0.05))  # a quote since: flowing again
    assert recovered(rec.history, CLEARED, ["t1", "t2"], metrics=False)
    rec.op("prober", "health", {}, 14.0, health(quote_age_s=3.5))  # after the clearing, but stale now
    assert not recovered(rec.history, CLEARED, ["t1", "t2"], metrics=False)


def steady(
    rec: Recorder, began: float, traders: list[str], at_most_s: float, faults_follow: bool = True
) -> float:
    return wait_for_steady(
        rec.history, began, traders, metrics=False, at_most_s=at_most_s, faults_follow=faults_follow
    )


def test_the_steady_phase_ends_at_its_minimum_once_the_middleware_works() -> None:
    rec = Recorder()
    healthy_run(rec)
    waited = wait_for_steady(
        rec.history, CLEARED, ["t1", "t2"], metrics=False, at_most_s=3.0, faults_follow=True
    )
    assert MIN_STEADY_S <= waited < MIN_STEADY_S + 0.5


def test_the_steady_phase_runs_its_whole_length_for_a_build_that_does_not_work() -> None:
    broken = Recorder()
    broken.op("prober", "health", {}, 10.2, health())
    broken.op("prober", "account", {"account": "A-1"}, 10.2, ok({"id": "A-1"}))
    for n in range(4):
        broken.op("t1", "place_order", {"client_order_id": f"t1-{n}"}, 10.3 + n / 10, fail(422))
    waited = wait_for_steady(
        broken.history, CLEARED, ["t1"], metrics=False, at_most_s=1.6, faults_follow=True
    )
    assert 1.6 <= waited < 2.0
    # answers from before the phase began are no baseline for it
    rec = Recorder()
    healthy_run(rec)
    waited = wait_for_steady(
        rec.history, 11.0, ["t1", "t2"], metrics=False, at_most_s=1.4, faults_follow=True
    )
    assert 1.4 <= waited < 1.8


def test_without_faults_the_steady_phase_is_the_workload_and_runs_whole() -> None:
    rec = Recorder()
    healthy_run(rec)
    waited = wait_for_steady(
        rec.history, CLEARED, ["t1", "t2"], metrics=False, at_most_s=1.7, faults_follow=False
    )
    assert 1.7 <= waited < 2.1


def test_an_order_accepted_since_the_clearing_is_what_recovery_slo_looks_for() -> None:
    rec = Recorder()
    rec.op("t1", "place_order", {"client_order_id": "t1-1"}, 9.0, ok(status=202))  # before the clearing
    rec.op("t1", "place_order", {"client_order_id": "t1-2"}, 10.5, fail(503))
    assert not accepted_since(rec.history, CLEARED)
    rec.op("t1", "place_order", {"client_order_id": "t1-3"}, 11.0, ok(status=202))
    assert accepted_since(rec.history, CLEARED)
    assert not accepted_since(rec.history, 11.5)


def test_the_phase_runs_on_to_the_slo_while_no_order_is_accepted() -> None:
    rec = Recorder()
    rec.op("t1", "place_order", {"client_order_id": "t1-1"}, 10.5, fail(503))
    clock = time.monotonic() - 10.0  # "now" is 10 s after the run started
    now = lambda: time.monotonic() - clock  # noqa: E731
    began = time.monotonic()
    waited = wait_for_reacceptance(rec.history, lambda: CLEARED, now, slo_s=1.2)
    assert 1.1 <= waited < 1.6 and time.monotonic() - began < 1.6  # the SLO's end, not the phase's
    assert wait_for_reacceptance(rec.history, lambda: CLEARED, now, slo_s=1.0) == 0.0  # already past


def test_the_phase_ends_once_an_order_is_accepted_within_the_slo() -> None:
    rec = Recorder()
    clock = time.monotonic() - 10.0
    now = lambda: time.monotonic() - clock  # noqa: E731
    threading.Timer(
        0.6, rec.op, args=("t1", "place_order", {"client_order_id": "t1-1"}, 10.6, ok(status=202))
    ).start()
    waited = wait_for_reacceptance(rec.history, lambda: CLEARED, now, slo_s=15.0)
    assert 0.5 <= waited < 1.2
    assert wait_for_reacceptance(rec.history, lambda: CLEARED, now, slo_s=15.0) < 0.05  # seen: no wait


def test_a_steady_phase_where_every_answered_order_was_refused_counts_the_refusals() -> None:
    rec = Recorder()
    rec.op("t1", "place_order", {"client_order_id": "old"}, 1.0, ok(status=202))  # before the phase
    rec.op("t1", "place_order", {"client_order_id": "a"}, 5.1, fail(503))
    rec.op("t2", "place_order", {"client_order_id": "b"}, 5.2, fail(503))
    rec.op("t2", "place_order", {"client_order_id": "c"}, 5.3, fail(422))
    assert refused_everything(rec.history, 5.0) == {"503": 2, "422": 1}


def test_one_accepted_or_one_unknown_order_means_the_faults_still_run() -> None:
    accepted = Recorder()
    accepted.op("t1", "place_order", {"client_order_id": "a"}, 5.1, fail(503))
    accepted.op("t2", "place_order", {"client_order_id": "b"}, 5.2, ok(status=202))
    assert refused_everything(accepted.history, 5.0) is None
    hung = Recorder()  # a timeout is not a refusal: a hanging build is judged by the whole run
    hung.op("t1", "place_order", {"client_order_id": "a"}, 5.1, fail(503))
    hung.op("t2", "place_order", {"client_order_id": "b"}, 5.2, info())
    assert refused_everything(hung.history, 5.0) is None
    assert refused_everything(Recorder().history, 5.0) is None  # nothing answered: nothing to say


def test_checks_not_driven_have_no_evidence_and_the_reason_names_the_refusals() -> None:
    scenario = SCENARIOS["RITHMIC-ORDER-PLANT-DROP"]
    why, verdicts = not_driven(scenario, {"503": 21})
    assert "21 x 503" in why and "not injected" in why
    assert [v.check for v in verdicts] == list(scenario.checks)
    assert {v.status for v in verdicts} == {"no_evidence"}
    assert all(v.evidence == [{"refused_in_steady_phase": {"503": 21}}] for v in verdicts)


def test_trading_on_for_evidence_costs_nothing_when_the_run_has_enough() -> None:
    polls: list[float] = []

    def thin() -> bool:
        polls.append(time.monotonic())
        return False

    waited = wait_for_evidence(thin, at_most_s=5.0)
    assert waited < 0.1 and len(polls) == 1


def test_a_run_already_found_thin_is_not_read_again_at_once() -> None:
    began = time.monotonic()
    polls: list[float] = []

    def thin() -> bool:
        polls.append(time.monotonic() - began)
        return False

    waited = wait_for_evidence(thin, at_most_s=5.0, known_thin=True)
    assert len(polls) == 1 and 0.5 <= polls[0] < 0.9 and 0.5 <= waited < 0.9, polls


def test_trading_on_for_evidence_ends_when_the_evidence_arrives_or_at_its_bound() -> None:
    arrives = time.monotonic() + 0.8
    waited = wait_for_evidence(lambda: time.monotonic() < arrives, at_most_s=5.0)
    assert 0.8 <= waited < 1.5  # polled twice a second, so no later than one poll after it came
    began = time.monotonic()
    waited = wait_for_evidence(lambda: True, at_most_s=1.2)
    assert 1.2 <= waited < 1.5 and time.monotonic() - began < 1.5

"""The security checkers over hand-made probes: each fails on the breach it names, passes only with
probes to judge, and says no evidence (or skips, with why) when there are none."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.checks import CHECKERS
from harness.security.evidence import SecurityEvidence
from harness.security.flood import FloodRecord, Shot
from harness.security.probes import Probe
from harness.security.sweep import Leak

from .conftest import MakeCtx, Recorder, ok


def _probe(group: str, expect: Any, status: int | None, body: str = "{}", **kw: Any) -> Probe:
    probe = Probe(group, f"{group} probe", "place_order", "POST", "/v1/orders", "none", expect, **kw)
    probe.status, probe.body = status, body
    return probe


def _judge(
    make_ctx: MakeCtx, check: str, evidence: SecurityEvidence | None, recorder: Recorder | None = None
) -> Any:
    extras = {"security": evidence} if evidence is not None else {}
    return CHECKERS[check](make_ctx(recorder, extras=extras))


def test_authentication_fails_on_a_served_request_and_an_order_that_reached_the_venue(
    make_ctx: MakeCtx,
) -> None:
    evidence = SecurityEvidence(
        probes=[
            _probe("authentication", "401", 401),
            _probe("authentication", "401", 202, order_tag="sec-1"),
        ],
        venue_orders={"sec-1": {"client_tag": "sec-1", "status": "open"}},
    )
    verdict = _judge(make_ctx, "auth_required", evidence)
    assert verdict.status == "failed" and "1 were served" in verdict.summary
    assert "1 order(s) placed without one reached the venue" in verdict.summary
    assert verdict.category == "security breach"


def test_a_403_is_not_a_401(make_ctx: MakeCtx) -> None:
    evidence = SecurityEvidence(probes=[_probe("authentication", "401", 403)])
    assert _judge(make_ctx, "auth_required", evidence).status == "failed"


def test_every_401_passes_and_no_probe_is_no_evidence(make_ctx: MakeCtx) -> None:
    passed = _judge(
        make_ctx, "auth_required", SecurityEvidence(probes=[_probe("authentication", "401", 401)])
    )
    assert passed.status == "passed"
    assert _judge(make_ctx, "auth_required", SecurityEvidence()).status == "no_evidence"
    assert _judge(make_ctx, "auth_required", None).status == "skipped"


def test_object_access_fails_when_the_victims_order_changed(make_ctx: MakeCtx) -> None:
    evidence = SecurityEvidence(
        probes=[_probe("object_access", "refused", 404)],
        victim_order="b-1",
        victim_before={"status": "open", "qty": 1},
        venue_orders={"b-1": {"status": "cancelled", "qty": 1}},
    )
    verdict = _judge(make_ctx, "object_access_scoped", evidence)
    assert verdict.status == "failed" and "B's resting order changed" in verdict.summary
    evidence.venue_orders["b-1"]["status"] = "open"
    passed = _judge(make_ctx, "object_access_scoped", evidence)
    assert passed.status == "passed" and "stood unchanged at the venue" in passed.summary
    evidence.victim_before = None  # never at the venue: the answers alone are judged, and it says so
    assert "only the answers could be judged" in _judge(make_ctx, "object_access_scoped", evidence).summary


def test_a_429_is_not_a_refusal_of_access(make_ctx: MakeCtx) -> None:
    evidence = SecurityEvidence(probes=[_probe("object_access", "refused", 429)])
    assert _judge(make_ctx, "object_access_scoped", evidence).status == "failed"


def test_a_reused_order_id_may_be_taken_but_must_not_show_the_other_account(make_ctx: MakeCtx) -> None:
    taken = _probe("object_access", "answered", 202, body='{"account": "A1"}', must_not_show="B2")
    leaked = _probe("object_access", "answered", 202, body='{"account": "B2"}', must_not_show="B2")
    assert _judge(make_ctx, "object_access_scoped", SecurityEvidence(probes=[taken])).status == "passed"
    assert _judge(make_ctx, "object_access_scoped", SecurityEvidence(probes=[leaked])).status == "failed"


def test_the_allowlist_must_serve_its_own_source_before_its_refusals_mean_anything(make_ctx: MakeCtx) -> None:
    refused_home = _probe("allowlist", "2xx", 403, source="127.0.0.2")
    away = _probe("allowlist", "refused", 403, source="127.0.0.3")
    verdict = _judge(make_ctx, "admin_allowlist_holds", SecurityEvidence(probes=[refused_home, away]))
    assert verdict.status == "failed" and "allowlisted address was not served" in verdict.summary


def test_a_spoofed_forwarding_header_that_is_trusted_fails_the_allowlist(make_ctx: MakeCtx) -> None:
    home = _probe("allowlist", "2xx", 200, source="127.0.0.2")
    spoofed = _probe("allowlist", "refused", 200, source="127.0.0.3")
    spoofed.name = "admin account from 127.0.0.3, claiming X-Forwarded-For: 127.0.0.2"
    verdict = _judge(make_ctx, "admin_allowlist_holds", SecurityEvidence(probes=[home, spoofed]))
    assert verdict.status == "failed" and "trusting a forwarding header" in verdict.summary
    skipped = _judge(
        make_ctx, "admin_allowlist_holds", SecurityEvidence(skipped={"allowlist": "none declared"})
    )
    assert skipped.status == "skipped" and "none declared" in skipped.summary


def test_errors_with_a_traceback_or_a_5xx_fail(make_ctx: MakeCtx) -> None:
    trace = 'Traceback (most recent call last):\n  File "/srv/app.py", line 3, in f'
    for probe in (_probe("errors", "answered", 400, body=trace), _probe("errors", "answered", 500)):
        assert (
            _judge(make_ctx, "errors_without_internals", SecurityEvidence(probes=[probe])).status == "failed"
        )
    clean = _probe("errors", "answered", 400, body='{"error": "at least 1 field is wrong"}')
    assert _judge(make_ctx, "errors_without_internals", SecurityEvidence(probes=[clean])).status == "passed"


def test_a_secret_found_fails_by_name_never_by_value(make_ctx: MakeCtx) -> None:
    evidence = SecurityEvidence(
        leaks=[Leak("mocks.rithmic.password", "log line 3", "login «mocks.rithmic.password»")],
        searched=10,
        secrets_known=3,
    )
    verdict = _judge(make_ctx, "secrets_not_leaked", evidence)
    assert verdict.status == "failed" and "mocks.rithmic.password" in verdict.summary
    nothing_searched = SecurityEvidence(secrets_known=3)
    assert _judge(make_ctx, "secrets_not_leaked", nothing_searched).status == "no_evidence"


def _flood(statuses: Sequence[int | None], retry: str | None = "1", seconds: float = 10.0) -> FloodRecord:
    shots = tuple(
        Shot(i * seconds / len(statuses), s, retry if s == 429 else None, 2.0) for i, s in enumerate(statuses)
    )
    return FloodRecord("A4", "positions", len(statuses) / seconds, 0.0, seconds, shots)


def test_a_flood_with_no_429_or_a_5xx_or_no_retry_after_fails(make_ctx: MakeCtx) -> None:
    for record, words in (
        (_flood([200] * 100), "no rate limit"),
        (_flood([429] * 90 + [503] * 10), "hurt the service"),
        (_flood([429] * 100, retry=None), "no valid Retry-After"),
    ):
        verdict = _judge(make_ctx, "flood_rate_limited", SecurityEvidence(flood=record))
        assert verdict.status == "failed" and words in verdict.summary, verdict.summary
    assert (
        _judge(make_ctx, "flood_rate_limited", SecurityEvidence(flood=_flood([200] * 10 + [429] * 90))).status
        == "passed"
    )


def test_a_flood_the_harness_could_not_send_is_no_evidence(make_ctx: MakeCtx) -> None:
    thin = _flood([429] * 10)
    thin = FloodRecord(thin.account, thin.operation, 500.0, thin.started, thin.ended, thin.shots)
    assert _judge(make_ctx, "flood_rate_limited", SecurityEvidence(flood=thin)).status == "no_evidence"


def test_the_other_traders_must_not_feel_the_flood(make_ctx: MakeCtx) -> None:
    evidence = SecurityEvidence(flood=_flood([429] * 100))  # A4 floods; the orders are A1's
    slow = _orders([900.0] * 120)
    verdict = _judge(make_ctx, "flood_isolated", evidence, slow)
    assert verdict.status == "failed" and "past the 500 ms SLO" in verdict.summary
    assert _judge(make_ctx, "flood_isolated", evidence, _orders([20.0] * 120)).status == "passed"
    assert _judge(make_ctx, "flood_isolated", evidence, Recorder()).status == "no_evidence"


def _orders(latencies: Sequence[float], account: str = "A1") -> Recorder:
    """Orders of `account` inside the flood's 10 s, one per latency."""
    recorder = Recorder()
    for i, latency in enumerate(latencies):
        recorder.order(
            f"o{i}",
            0.5 + i * 9.0 / len(latencies),
            ok({"status": "pending"}, latency_ms=latency, status=202),
            account=account,
        )
    return recorder


def test_a_few_slow_orders_of_120_are_not_a_breach_four_are(make_ctx: MakeCtx) -> None:
    """Of 120 orders, three over the SLO is what a p99 within it gives 12% of the time (one stall of
    the box, three traders at once); four, 3.3% of the time: past the 5% significance."""
    evidence = SecurityEvidence(flood=_flood([429] * 100))
    one = _judge(make_ctx, "flood_isolated", evidence, _orders([20.0] * 119 + [900.0]))
    assert one.status == "passed" and "p99 20 ms" in one.summary, one.summary
    three = _judge(make_ctx, "flood_isolated", evidence, _orders([20.0] * 117 + [900.0] * 3))
    assert three.status == "passed" and "3 of 120 over 500 ms" in three.summary, three.summary
    assert "not enough to show a breach" in three.summary and three.evidence[0]["orders_over_slo"] == 3
    four = _judge(make_ctx, "flood_isolated", evidence, _orders([20.0] * 116 + [900.0] * 4))
    assert four.status == "failed" and "p99 was 900 ms" in four.summary, four.summary
    assert "4 of 120 over 500 ms, which a p99 within the SLO gives 3.3% of the time" in four.summary


def test_too_few_orders_for_a_p99_are_no_evidence_however_slow(make_ctx: MakeCtx) -> None:
    """Of 99 orders the p99 would be the slowest: one stall of the box would decide the verdict."""
    verdict = _judge(
        make_ctx, "flood_isolated", SecurityEvidence(flood=_flood([429] * 100)), _orders([900.0] * 99)
    )
    assert verdict.status == "no_evidence" and "99 order(s)" in verdict.summary


def test_a_flood_served_well_past_the_documented_limit_fails(make_ctx: MakeCtx) -> None:
    record = _flood([200] * 60 + [429] * 40, seconds=1.0)  # 60/s served against a documented 20/s
    evidence = SecurityEvidence(flood=record, declared_rate_rps=20.0)
    verdict = _judge(make_ctx, "flood_rate_limited", evidence)
    assert verdict.status == "failed" and "past the documented limit of 20/s" in verdict.summary
    evidence.declared_rate_rps = 50.0
    assert _judge(make_ctx, "flood_rate_limited", evidence).status == "passed"


def test_the_flooding_accounts_own_orders_are_not_the_others(make_ctx: MakeCtx) -> None:
    recorder = _orders([900.0] * 120, account="A4")  # slow, but the flooder's own: nothing to judge
    verdict = _judge(make_ctx, "flood_isolated", SecurityEvidence(flood=_flood([429] * 100)), recorder)
    assert verdict.status == "no_evidence"

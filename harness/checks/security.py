"""The security checkers: each judges one group of probes (harness.security) the scenario sent to the
live middleware, the venue's view of any order a probe touched, the secrets sweep and the flood.
No probe sent is no evidence; a probe that could not be built for this target is a skip, with why."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from ..security.evidence import SecurityEvidence
from ..security.flood import valid_retry_after
from ..security.probes import Probe
from .base import CheckContext, Verdict, checker
from .percentile import judge_percentile, nearest_rank

CATEGORY = "security breach"
# What internals look like in an answer: a Python or JavaScript stack, a database driver's error.
TRACEBACK_MARKERS = {
    "a Python traceback": re.compile(r"Traceback \(most recent call last\)|File \"[^\"]+\.py\", line \d+"),
    "a JavaScript stack": re.compile(r"\bat [\w.<>$ ]+\(?[^()\s]+\.[cm]?js:\d+:\d+\)?|node_modules/"),
    "a database driver's error": re.compile(r"asyncpg\.exceptions|psycopg|SQLSTATE|\bpg_[a-z_]+\.c\b"),
}
MAX_LISTED = 40
Judge = Callable[["CheckContext", SecurityEvidence, str], Verdict]
# Acks of the other traders inside the flood before their p99 is judged: of fewer than 100, the
# p99 is the slowest one. 20 gates at three jobs saw 68 to 88 and failed 9 of them, each on one to
# three slow orders; the p99 is now also judged by how many orders are over the SLO (percentile.py).
MIN_OTHER_ACKS = 100


def security_checker(name: str) -> Callable[[Judge], Callable[[CheckContext], Verdict]]:
    """Register a checker of the security evidence: outside a security scenario it is skipped."""

    def register(judge: Judge) -> Callable[[CheckContext], Verdict]:
        @checker(name)
        def run(ctx: CheckContext) -> Verdict:
            found = ctx.extras.get("security")
            if not isinstance(found, SecurityEvidence):
                return Verdict.skip(
                    name, "the scenario gathered no security evidence (not a security scenario)"
                )
            return judge(ctx, found, name)

        return run

    return register


def _unmet(probes: Sequence[Probe]) -> list[dict[str, Any]]:
    return [p.to_json() for p in probes if not p.met][:MAX_LISTED]


def _skips(evidence: SecurityEvidence, *names: str) -> str:
    found = [f"{what}: {why}" for what, why in evidence.skipped.items() if any(n in what for n in names)]
    return ("; not probed: " + "; ".join(found)) if found else ""


@security_checker("auth_required")
def auth_required(ctx: CheckContext, evidence: SecurityEvidence, name: str) -> Verdict:
    probes = evidence.group("authentication")
    if not probes:
        return Verdict.no_evidence(name, "no authentication probe was sent" + _skips(evidence, "key"))
    slipped = _reached_venue(evidence, probes)
    bad = _unmet(probes)
    kinds = sorted({p.credential for p in probes})
    if bad or slipped:
        served = sum(1 for p in probes if p.status is not None and 200 <= p.status < 300)
        return Verdict.fail(
            name,
            f"{len(bad)} of {len(probes)} request(s) without a valid credential did not get 401"
            + (f"; {served} were served (2xx)" if served else "")
            + (f"; {len(slipped)} order(s) placed without one reached the venue" if slipped else ""),
            bad + slipped,
            CATEGORY,
        )
    return Verdict.ok(
        name,
        f"all {len(probes)} request(s) with credential {', '.join(kinds)} got 401 across "
        f"{len({p.operation for p in probes})} operation(s), and none reached the venue"
        + _skips(evidence, "key"),
    )


@security_checker("object_access_scoped")
def object_access_scoped(ctx: CheckContext, evidence: SecurityEvidence, name: str) -> Verdict:
    probes = evidence.group("roles", "object_access")
    if not probes:
        return Verdict.skip(name, "no object-level probe could be sent" + _skips(evidence, "object", "roles"))
    bad = _unmet(probes)
    slipped = _reached_venue(evidence, [p for p in probes if p.order_tag])
    changed = _victim_changed(evidence)
    if bad or slipped or changed:
        parts = []
        if bad:
            parts.append(
                f"{len(bad)} of {len(probes)} request(s) by trader A on trader B's objects were served"
            )
        if slipped:
            parts.append(f"{len(slipped)} order(s) A placed on B's account reached the venue")
        if changed:
            parts.append("B's resting order changed at the venue under A's requests")
        return Verdict.fail(name, "; ".join(parts), bad + slipped + changed, CATEGORY)
    witnessed = evidence.victim_before is not None and evidence.victim_order in evidence.venue_orders
    return Verdict.ok(
        name,
        f"all {len(probes)} request(s) by trader A on trader B's orders, positions, account and the back "
        "office's operations were refused, and "
        + (
            "B's order stood unchanged at the venue"
            if witnessed
            else "B's resting order never reached the venue, so only the answers could be judged"
        ),
    )


@security_checker("admin_allowlist_holds")
def admin_allowlist_holds(ctx: CheckContext, evidence: SecurityEvidence, name: str) -> Verdict:
    probes = evidence.group("allowlist")
    if not probes:
        reason = evidence.skipped.get("allowlist", "no allowlist probe was sent")
        return Verdict.skip(name, reason)
    admitted = [p for p in probes if p.expect == "2xx"]
    if admitted and not all(p.met for p in admitted):
        return Verdict.fail(
            name,
            "the back office's request from its allowlisted address was not served, so a refusal from "
            "elsewhere proves nothing: the allowlist the target file declares is not the middleware's",
            _unmet(admitted),
            CATEGORY,
        )
    bad = _unmet([p for p in probes if p.expect != "2xx"])
    if bad:
        spoofed = sum(1 for p in bad if p["probe"].find("claiming") >= 0)
        return Verdict.fail(
            name,
            f"{len(bad)} back-office request(s) from a source outside the allowlist were served"
            + (f", {spoofed} of them trusting a forwarding header the client wrote" if spoofed else ""),
            bad,
            CATEGORY,
        )
    return Verdict.ok(
        name,
        f"the back office was served from {admitted[0].source if admitted else 'its address'} and refused "
        f"from {probes[-1].source} in all {len(probes) - len(admitted)} tries, forwarding headers included",
    )


@security_checker("errors_without_internals")
def errors_without_internals(ctx: CheckContext, evidence: SecurityEvidence, name: str) -> Verdict:
    probes = evidence.group("errors")
    if not probes:
        return Verdict.no_evidence(name, "no malformed request was sent (the target declares no body or id)")
    unanswered = [p for p in probes if p.status is None or p.status >= 500]
    internals = [p for p in probes if _internals(p.body)]
    if unanswered or internals:
        rows = [p.to_json() | {"internals": _internals(p.body)} for p in [*unanswered, *internals]][
            :MAX_LISTED
        ]
        parts = []
        if unanswered:
            parts.append(f"{len(unanswered)} malformed request(s) got a 5xx or no answer")
        if internals:
            parts.append(f"{len(internals)} error answer(s) show internals (a stack trace, a driver's error)")
        return Verdict.fail(name, "; ".join(parts) + f", of {len(probes)} sent", rows, CATEGORY)
    return Verdict.ok(
        name,
        f"all {len(probes)} malformed, mistyped, oversized or odd request(s) got a 4xx without internals",
    )


@security_checker("secrets_not_leaked")
def secrets_not_leaked(ctx: CheckContext, evidence: SecurityEvidence, name: str) -> Verdict:
    if not evidence.secrets_known or not evidence.searched:
        return Verdict.no_evidence(
            name,
            f"{evidence.secrets_known} secret(s) known, "
            f"{evidence.searched} answer(s) and log line(s) searched",
        )
    if evidence.leaks:
        named = sorted({leak.secret for leak in evidence.leaks})
        return Verdict.fail(
            name,
            f"{len(evidence.leaks)} place(s) in the middleware's answers or log show a secret: "
            + ", ".join(named),
            [leak.to_json() for leak in evidence.leaks][:MAX_LISTED],
            CATEGORY,
        )
    return Verdict.ok(
        name,
        f"none of {evidence.secrets_known} secret(s) appears in {evidence.searched} answer(s), header(s) "
        "and log line(s) of the run",
    )


@security_checker("flood_rate_limited")
def flood_rate_limited(ctx: CheckContext, evidence: SecurityEvidence, name: str) -> Verdict:
    flood = evidence.flood
    if flood is None or not flood.shots:
        return Verdict.no_evidence(name, "no flood was sent")
    if flood.achieved_rps < flood.rate_rps / 2:
        return Verdict.no_evidence(
            name,
            f"the harness reached {flood.achieved_rps:.0f} of the {flood.rate_rps:.0f} requests a second it "
            "aimed at: too thin a flood to judge a rate limit by",
            [flood.to_json()],
        )
    limited = [s for s in flood.shots if s.status == 429]
    broken = [s for s in flood.shots if s.status is None or s.status >= 500]
    no_retry = [s for s in limited if not valid_retry_after(s.retry_after)]
    summary = flood.to_json() | {"429": len(limited)}
    if broken:
        return Verdict.fail(
            name,
            f"{len(broken)} of {len(flood.shots)} flood request(s) got a 5xx or no answer: the flood "
            "hurt the service instead of being refused",
            [summary, *(s.to_json() for s in broken[:MAX_LISTED])],
            CATEGORY,
        )
    if not limited:
        return Verdict.fail(
            name,
            f"no 429 in {len(flood.shots)} request(s) at {flood.achieved_rps:.0f}/s from one client: "
            "no rate limit",
            [summary],
            CATEGORY,
        )
    if no_retry:
        return Verdict.fail(
            name,
            f"{len(no_retry)} of {len(limited)} 429 answer(s) carry no valid Retry-After",
            [summary, *(s.to_json() for s in no_retry[:MAX_LISTED])],
            CATEGORY,
        )
    declared = evidence.declared_rate_rps
    served = len(flood.shots) - len(limited)
    served_rps = served / max(flood.ended - flood.started, 1e-3)
    if declared is not None and served_rps > declared * 1.5 + 10:
        return Verdict.fail(
            name,
            f"the flood was served at {served_rps:.0f}/s, past the documented limit of {declared:g}/s",
            [summary],
            CATEGORY,
        )
    return Verdict.ok(
        name,
        f"{len(limited)} of {len(flood.shots)} flood request(s) at {flood.achieved_rps:.0f}/s got 429 with a "
        f"Retry-After; {served_rps:.0f}/s were served",
        [summary],
    )


@security_checker("flood_isolated")
def flood_isolated(ctx: CheckContext, evidence: SecurityEvidence, name: str) -> Verdict:
    flood = evidence.flood
    if flood is None:
        return Verdict.no_evidence(name, "no flood was sent")
    acks = [
        (invoked, done)
        for invoked, done in ctx.history.completions("place_order")
        if invoked.value.get("account") != flood.account and flood.started <= invoked.time <= flood.ended
    ]
    if len(acks) < MIN_OTHER_ACKS:
        return Verdict.no_evidence(
            name,
            f"{len(acks)} order(s) of the other traders during the flood (at least {MIN_OTHER_ACKS} needed: "
            "the p99 of fewer is the slowest one)",
        )
    limited = [done for _, done in acks if done.status == 429]
    bound = ctx.slo.ack_p99_ms
    judged = judge_percentile([done.latency_ms or 0.0 for _, done in acks], bound)
    before = [
        done.latency_ms or 0.0
        for invoked, done in ctx.history.completions("place_order")
        if invoked.value.get("account") != flood.account and invoked.time < flood.started
    ]
    baseline = nearest_rank(before, 0.99) if before else None
    figures = {
        "orders_during_flood": judged.n,
        "ack_p99_ms": round(judged.observed, 1),
        "orders_over_slo": judged.over,
        "p_value": round(judged.p_value, 4),
        "ack_p99_before_ms": round(baseline, 1) if baseline is not None else None,
        "slo_ack_p99_ms": bound,
    }
    if limited:
        return Verdict.fail(
            name,
            f"{len(limited)} order(s) of other traders got 429 during one client's flood: its limit "
            "is not per key",
            [figures],
            CATEGORY,
        )
    before_text = f"; {baseline:.0f} ms before the flood" if baseline is not None else ""
    odds = (
        f"{judged.over} of {judged.n} over {bound:g} ms, which a p99 within the SLO gives "
        f"{judged.p_value:.1%} of the time"
    )
    if judged.breached:
        return Verdict.fail(
            name,
            f"the other traders' order ack p99 was {judged.observed:.0f} ms during the flood, past the "
            f"{bound:g} ms SLO ({odds}{before_text})",
            [figures],
            "recovery SLO breach",
        )
    shown = f"; {odds}: not enough to show a breach" if judged.over else ""
    return Verdict.ok(
        name,
        f"the other traders' {judged.n} order(s) during the flood were acknowledged with p99 "
        f"{judged.observed:.0f} ms (SLO {bound:g} ms{before_text}){shown}",
        [figures],
    )


def _reached_venue(evidence: SecurityEvidence, probes: Sequence[Probe]) -> list[dict[str, Any]]:
    return [
        {"probe": p.name, "venue_order": evidence.venue_orders[p.order_tag]}
        for p in probes
        if p.order_tag and p.order_tag in evidence.venue_orders
    ]


def _victim_changed(evidence: SecurityEvidence) -> list[dict[str, Any]]:
    before, victim = evidence.victim_before, evidence.victim_order
    after = evidence.venue_orders.get(victim)
    if before is None or after is None:
        return []
    keys = ("status", "qty", "filled_qty", "price", "limit_price")
    if all(before.get(k) == after.get(k) for k in keys):
        return []
    return [
        {
            "order": victim,
            "before": {k: before.get(k) for k in keys},
            "after": {k: after.get(k) for k in keys},
        }
    ]


def _internals(body: str) -> list[str]:
    return [what for what, pattern in TRACEBACK_MARKERS.items() if pattern.search(body)]

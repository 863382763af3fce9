"""Availability invariants: fail fast while a venue is down, keep admin up, recover in time."""

from __future__ import annotations

from .base import CheckContext, Verdict, checker

# Orders sent in the first moments of an outage may already be in flight to the venue; the
# middleware may take one order timeout to notice. This grace is stated in every verdict.
DETECTION_GRACE_S = 1.0


@checker("fast_fail")
def fast_fail(ctx: CheckContext) -> Verdict:
    """After the detection grace, every order is refused within the bound. From the very start of an
    outage, no order may hang: an order with no HTTP answer at all (the client gave up) is a hang."""
    bound = ctx.slo.fast_reject_ms
    slow = []
    considered = 0
    for window in ctx.timeline.down_windows():
        for invoked, done in ctx.history.completions("place_order"):
            if not window.covers(invoked.time):
                continue
            considered += 1
            graced = invoked.time < window.start + DETECTION_GRACE_S
            hung = done.type == "info" and done.status is None
            late = done.type == "ok" or (done.latency_ms or 0) > bound or done.type == "info"
            if hung or (late and not graced):
                slow.append(
                    {
                        "client_order_id": invoked.value["client_order_id"],
                        "outcome": done.type,
                        "status": done.status,
                        "latency_ms": done.latency_ms,
                        "error": done.error,
                        "at": invoked.time,
                        "fault": window.name,
                        "problem": "no answer at all (hung)" if hung else f"not refused within {bound:g} ms",
                    }
                )
    if slow:
        return Verdict.fail(
            "fast_fail",
            f"{len(slow)} of {considered} orders sent while the venue was down hung or were "
            f"not refused within {bound:g} ms",
            slow,
            "recovery SLO breach",
        )
    if not ctx.timeline.down_windows():
        return Verdict.no_evidence("fast_fail", "no venue was down during the run")
    if not considered:
        return Verdict.no_evidence("fast_fail", "no order was sent while a venue was down")
    return Verdict.ok(
        "fast_fail",
        f"{considered} order(s) sent while the venue was down: none hung, and all were refused "
        f"within {bound:g} ms (after a {DETECTION_GRACE_S:g} s detection grace)",
    )


@checker("admin_separation")
def admin_separation(ctx: CheckContext) -> Verdict:
    failures = []
    probes = 0
    for window in ctx.timeline.down_windows():
        for invoked, done in ctx.history.completions("account"):
            if window.covers(invoked.time):
                probes += 1
                if done.type != "ok":
                    failures.append(
                        {
                            "account": invoked.value.get("account"),
                            "status": done.status,
                            "error": done.error,
                            "at": invoked.time,
                            "fault": window.name,
                        }
                    )
    if failures:
        return Verdict.fail(
            "admin_separation",
            f"{len(failures)} of {probes} admin reads failed while an execution venue was down",
            failures,
            "recovery SLO breach",
        )
    if not ctx.timeline.down_windows():
        return Verdict.no_evidence("admin_separation", "no venue was down during the run")
    if not probes:
        return Verdict.no_evidence("admin_separation", "no admin read was made while a venue was down")
    return Verdict.ok("admin_separation", f"{probes} admin read(s) during venue outages all answered")


@checker("recovery_slo")
def recovery_slo(ctx: CheckContext) -> Verdict:
    cleared = ctx.timeline.last_end()
    if cleared is None:
        return Verdict.no_evidence("recovery_slo", "no fault window to recover from")
    bound = ctx.slo.recovery_s
    recovered_at = None
    after = [
        (invoked, done) for invoked, done in ctx.history.completions("place_order") if invoked.time >= cleared
    ]
    if not after:
        return Verdict.no_evidence("recovery_slo", "no order was sent after the last fault cleared")
    for invoked, done in after:
        if done.type == "ok":
            recovered_at = invoked.time
            break
    if recovered_at is None or recovered_at - cleared > bound:
        taken = "never" if recovered_at is None else f"after {recovered_at - cleared:.1f} s"
        late = [
            {
                "fault_cleared_at": cleared,
                "first_accepted_order_at": recovered_at,
                "orders_after_clearing": len(after),
                "bound_s": bound,
            }
        ]
        return Verdict.fail(
            "recovery_slo",
            f"orders were accepted again {taken}; the SLO is {bound:g} s",
            late,
            "recovery SLO breach",
        )
    return Verdict.ok(
        "recovery_slo",
        f"orders accepted again {recovered_at - cleared:.1f} s after the fault cleared (SLO {bound:g} s)",
    )


@checker("trading_resumes")
def trading_resumes(ctx: CheckContext) -> Verdict:
    """Inside each window where the venue must be back (expect_up) while another fault still holds,
    some order sent in it is accepted: the middleware recovered by a path the lasting fault does not
    block (a restored session while logons are refused), not by waiting the fault out."""
    windows = [w for w in ctx.timeline.windows if w.venue_up]
    if not windows:
        return Verdict.no_evidence(
            "trading_resumes", "the scenario marks no window where trading must resume"
        )
    failures, judged = [], 0
    for window in windows:
        sent = [
            (invoked, done)
            for invoked, done in ctx.history.completions("place_order")
            if window.covers(invoked.time) and (window.end is None or invoked.time <= window.end)
        ]
        if not sent:
            continue
        judged += 1
        if not any(done.type == "ok" for _, done in sent):
            failures.append(
                {
                    "window": window.name,
                    "start": window.start,
                    "end": window.end,
                    "orders_sent": len(sent),
                    "answers": sorted({str(done.value.get("status") or done.type) for _, done in sent}),
                }
            )
    if failures:
        return Verdict.fail(
            "trading_resumes",
            f"no order was accepted in {len(failures)} window(s) where trading must have resumed",
            failures,
            "recovery SLO breach",
        )
    if not judged:
        return Verdict.no_evidence("trading_resumes", "no order was sent where trading must have resumed")
    return Verdict.ok(
        "trading_resumes", f"orders were accepted in all {judged} window(s) where trading must resume"
    )


# The reference's quote age while the ticker is live is well under 0.5 s; 2 s leaves room for a
# scheduling stall on a loaded box while still far below "quotes never resumed".
QUOTE_FRESH_S = 2.0


@checker("quotes_resume")
def quotes_resume(ctx: CheckContext) -> Verdict:
    """Market data is fresh again within the recovery SLO and stays fresh to the end of the run: the
    first fresh health probe after the last stale one, and the last probe fresh."""
    cleared = ctx.timeline.last_end()
    if cleared is None:
        return Verdict.no_evidence("quotes_resume", "no fault window to recover from")
    if not any(invoked.time >= cleared for invoked, _ in ctx.history.completions("health")):
        return Verdict.no_evidence("quotes_resume", "no health probe was made after the last fault cleared")
    bound = ctx.slo.recovery_s
    probes: list[tuple[float, float | None]] = []
    for invoked, done in ctx.history.completions("health"):
        if invoked.time < cleared or done.type != "ok":
            continue
        age = (done.value.get("view") or {}).get("quote_age_s")
        probes.append((invoked.time, None if age is None else float(age)))
    fresh = [age is not None and age < QUOTE_FRESH_S for _, age in probes]
    resumed_at = None
    if probes and fresh[-1]:
        stale = [i for i, ok in enumerate(fresh) if not ok]
        resumed_at = probes[stale[-1] + 1][0] if stale else probes[0][0]
    if resumed_at is None or resumed_at - cleared > bound:
        taken = "never" if resumed_at is None else f"only after {resumed_at - cleared:.1f} s"
        return Verdict.fail(
            "quotes_resume",
            f"market data was fresh again {taken} after the fault cleared; the SLO is {bound:g} s",
            [
                {
                    "fault_cleared_at": cleared,
                    "quotes_resumed_at": resumed_at,
                    "last_quote_age_s": probes[-1][1] if probes else None,
                    "probes_after_clearing": len(probes),
                    "fresh_below_s": QUOTE_FRESH_S,
                }
            ],
            "recovery SLO breach",
        )
    return Verdict.ok(
        "quotes_resume", f"market data fresh again {resumed_at - cleared:.1f} s after the fault cleared"
    )

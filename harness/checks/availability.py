"""Availability invariants: fail fast while a venue is down, keep admin up, recover in time."""

from __future__ import annotations

from .base import CheckContext, Verdict, checker

# Orders sent in the first moments of an outage may already be in flight to the venue; the
# middleware may take one order timeout to notice. This grace is stated in every verdict.
DETECTION_GRACE_S = 1.0


@checker("fast_fail")
def fast_fail(ctx: CheckContext) -> Verdict:
    bound = ctx.slo.fast_reject_ms
    slow = []
    considered = 0
    for window in ctx.timeline.down_windows():
        for invoked, done in ctx.history.completions("place_order"):
            if not (
                window.start + DETECTION_GRACE_S <= invoked.time
                and (window.end is None or invoked.time <= window.end)
            ):
                continue
            considered += 1
            if done.type == "ok" or (done.latency_ms or 0) > bound or done.type == "info":
                slow.append(
                    {
                        "client_order_id": invoked.value["client_order_id"],
                        "outcome": done.type,
                        "status": done.status,
                        "latency_ms": done.latency_ms,
                        "at": invoked.time,
                        "fault": window.name,
                    }
                )
    if slow:
        return Verdict(
            "fast_fail",
            False,
            f"{len(slow)} of {considered} orders sent while the venue was down were "
            f"not refused within {bound:g} ms",
            slow,
            "recovery SLO breach",
        )
    return Verdict(
        "fast_fail",
        True,
        f"{considered} order(s) sent while the venue was down were all refused "
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
        return Verdict(
            "admin_separation",
            False,
            f"{len(failures)} of {probes} admin reads failed while an execution venue was down",
            failures,
            "recovery SLO breach",
        )
    return Verdict("admin_separation", True, f"{probes} admin read(s) during venue outages all answered")


@checker("recovery_slo")
def recovery_slo(ctx: CheckContext) -> Verdict:
    cleared = ctx.timeline.last_end()
    if cleared is None:
        return Verdict("recovery_slo", True, "no fault window to recover from")
    bound = ctx.slo.recovery_s
    recovered_at = None
    for invoked, done in ctx.history.completions("place_order"):
        if invoked.time >= cleared and done.type == "ok":
            recovered_at = invoked.time
            break
    if recovered_at is None or recovered_at - cleared > bound:
        taken = "never" if recovered_at is None else f"after {recovered_at - cleared:.1f} s"
        late = [{"fault_cleared_at": cleared, "first_accepted_order_at": recovered_at, "bound_s": bound}]
        return Verdict(
            "recovery_slo",
            False,
            f"orders were accepted again {taken}; the SLO is {bound:g} s",
            late,
            "recovery SLO breach",
        )
    return Verdict(
        "recovery_slo",
        True,
        f"orders accepted again {recovered_at - cleared:.1f} s after the fault cleared (SLO {bound:g} s)",
    )

"""Admin-state invariants under database faults and deployments: acknowledged orders are durable,
every request is answered within a bound whatever the database does, admin recovers, health tells
the truth about the database, a graceful stop drains, and a bad release never passes readiness."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..history import Op
from ..timeline import FaultWindow
from .base import CheckContext, Deployment, Verdict, checker

DATABASE = "postgres"  # the fault target of the database link and of harness SQL (scenario.faults.POSTGRES)
MIDDLEWARE = "middleware"  # the fault target of deployments (scenario.faults.MIDDLEWARE)
GIVEN_UP = frozenset({"failed", "rejected"})  # an acknowledged order may end here, definitively


def _db_windows(ctx: CheckContext) -> list[FaultWindow]:
    return [w for w in ctx.timeline.windows if w.target == DATABASE]


@checker("acked_orders_durable")
def acked_orders_durable(ctx: CheckContext) -> Verdict:
    """An order answered 2xx is, once the run settles, known to the middleware and either at the
    venue or definitively failed: a restart or a database fault must not make it vanish."""
    at_venue = {str(o.get("client_tag")) for o in ctx.ledger.get("orders", [])}
    acked = [(invoked, done) for invoked, done in ctx.history.completions("place_order") if done.type == "ok"]
    if not acked:
        return Verdict.no_evidence("acked_orders_durable", "no order was acknowledged (2xx)")
    restarts = [d.signalled_at for d in ctx.deployments]
    lost = []
    for invoked, done in acked:
        coid = str(invoked.value["client_order_id"])
        view = ctx.orders.get(coid)
        status = view.status if view is not None else "missing"
        if status == "missing" or (coid not in at_venue and status not in GIVEN_UP):
            lost.append(
                {
                    "client_order_id": coid,
                    "at": invoked.time,
                    "acknowledged_status": done.status,
                    "middleware_status": status,
                    "middleware_answer": view.raw if view is not None else None,
                    "at_venue": coid in at_venue,
                    "restarts_after": sum(1 for t in restarts if t >= invoked.time),
                    "problem": "the middleware has no record of it"
                    if status == "missing"
                    else "neither at the venue nor definitively failed",
                }
            )
    at_risk = sum(1 for invoked, _ in acked if any(t >= invoked.time for t in restarts))
    if lost:
        unknown = sum(1 for e in lost if e["middleware_status"] == "missing")
        return Verdict.fail(
            "acked_orders_durable",
            f"{len(lost)} of {len(acked)} acknowledged order(s) were lost: {unknown} unknown to the "
            "middleware after the run",
            lost,
            "data loss",
        )
    risk = f", {at_risk} of them acknowledged before a restart" if restarts else ""
    return Verdict.ok(
        "acked_orders_durable",
        f"{len(acked)} acknowledged order(s){risk}: each known to the middleware and at the venue or failed",
    )


def _in_flight(window: FaultWindow, invoked: Op, done: Op) -> bool:
    """Sent while the window was open, or already in flight when it opened."""
    return window.covers(invoked.time) or invoked.time <= window.start <= done.time


def _baseline_ms(ctx: CheckContext) -> dict[str, float]:
    """Per operation, the p99 latency of its answers before the first fault: what the middleware
    takes when nothing is broken (on a loaded box it is not zero). None measured: 0."""
    first = min((w.start for w in ctx.timeline.windows), default=None)
    found: dict[str, list[float]] = {}
    for invoked, done in ctx.history.completions():
        if (
            first is not None
            and done.time < first
            and done.latency_ms is not None
            and done.status is not None
        ):
            found.setdefault(invoked.f, []).append(done.latency_ms)
    return {f: sorted(v)[min(len(v) - 1, int(len(v) * 0.99))] for f, v in found.items()}


@checker("db_bounded_answers")
def db_bounded_answers(ctx: CheckContext) -> Verdict:
    """While the database is slow, locked, exhausted or gone, every request still gets an answer (a
    success or a definite error) within the bound: `answer_ms` on top of what the same operation
    took before any fault (its p99), so a loaded run is held to the delay a fault adds. A request
    that waits on a lock for as long as it is held, or retries without end, is a hang."""
    windows = _db_windows(ctx)
    if not windows:
        return Verdict.no_evidence("db_bounded_answers", "no database fault during the run")
    extra = ctx.slo.answer_ms
    baseline = _baseline_ms(ctx)
    considered = 0
    slow = []
    for invoked, done in ctx.history.completions():
        window = next((w for w in windows if _in_flight(w, invoked, done)), None)
        if window is None:
            continue
        considered += 1
        bound = extra + baseline.get(invoked.f, 0.0)
        hung = done.type == "info" and done.status is None
        if hung or (done.latency_ms or 0.0) > bound:
            slow.append(
                {
                    "operation": invoked.f,
                    "client_order_id": invoked.value.get("client_order_id"),
                    "at": invoked.time,
                    "latency_ms": done.latency_ms,
                    "bound_ms": round(bound, 1),
                    "baseline_p99_ms": round(baseline.get(invoked.f, 0.0), 1),
                    "status": done.status,
                    "error": done.error,
                    "fault": window.name,
                    "problem": "no answer at all" if hung else f"answered after more than {bound:.0f} ms",
                }
            )
    worst = max(baseline.values(), default=0.0)
    within = f"within {extra:g} ms of their p99 before any fault (at most {worst:.0f} ms)"
    if slow:
        return Verdict.fail(
            "db_bounded_answers",
            f"{len(slow)} of {considered} request(s) made during database faults were not answered {within}",
            sorted(slow, key=lambda e: -(e["latency_ms"] or 0.0)),
            "unbounded wait",
        )
    if not considered:
        return Verdict.no_evidence("db_bounded_answers", "no request was made while the database was faulted")
    return Verdict.ok(
        "db_bounded_answers", f"{considered} request(s) made during database faults all answered {within}"
    )


@checker("admin_recovers")
def admin_recovers(ctx: CheckContext) -> Verdict:
    """Once the database fault or the deployment is over, admin reads answer again within the
    recovery SLO and keep answering to the end of the run."""
    ends = [w.end for w in ctx.timeline.windows if w.target in (DATABASE, MIDDLEWARE) and w.end is not None]
    if not ends:
        return Verdict.no_evidence("admin_recovers", "no database fault or deployment to recover from")
    cleared = max(ends)
    reads = [(i, d) for i, d in ctx.history.completions("account") if i.time >= cleared]
    if not reads:
        return Verdict.no_evidence("admin_recovers", "no admin read was made after the last fault cleared")
    bound = ctx.slo.recovery_s
    failing = [i for i, (_, d) in enumerate(reads) if d.type != "ok"]
    recovered_at = None
    if reads[-1][1].type == "ok":
        recovered_at = reads[failing[-1] + 1][0].time if failing else reads[0][0].time
    if recovered_at is None or recovered_at - cleared > bound:
        taken = "never" if recovered_at is None else f"only after {recovered_at - cleared:.1f} s"
        last_bad = reads[failing[-1]][1] if failing else None
        return Verdict.fail(
            "admin_recovers",
            f"admin reads answered again {taken} after the last fault cleared; the SLO is {bound:g} s",
            [
                {
                    "fault_cleared_at": cleared,
                    "recovered_at": recovered_at,
                    "reads_after_clearing": len(reads),
                    "failed_reads": len(failing),
                    "last_failure": None
                    if last_bad is None
                    else {"at": last_bad.time, "status": last_bad.status, "error": last_bad.error},
                    "bound_s": bound,
                }
            ],
            "recovery SLO breach",
        )
    return Verdict.ok(
        "admin_recovers",
        f"admin reads answered again {recovered_at - cleared:.1f} s after the last fault cleared "
        f"(SLO {bound:g} s), {len(reads)} read(s) after it",
    )


@checker("health_truthful")
def health_truthful(ctx: CheckContext) -> Verdict:
    """While its database is unreachable, the middleware's health must say so once it has had
    `health_degraded_s` to notice (a 200 "database up" then is a lie the on-call would trust), and
    say "up" again by the end of the run."""
    return _truthful(ctx, "health_truthful", "health", "health answer(s)", _database_said)


@checker("metrics_truthful")
def metrics_truthful(ctx: CheckContext) -> Verdict:
    """The same of its metrics (the target's `[metrics] database_up` gauge): 0 while the database is
    unreachable, once it has had `health_degraded_s` to notice, and 1 again by the end."""
    return _truthful(ctx, "metrics_truthful", "metrics", "metrics scrape(s)", _gauge_said)


def _truthful(
    ctx: CheckContext, check: str, op: str, what: str, said_of: Callable[[Op], bool | None]
) -> Verdict:
    bound = ctx.slo.health_degraded_s
    windows = [w for w in _db_windows(ctx) if w.unreachable and w.end is not None]
    if not windows:
        return Verdict.no_evidence(check, "the database was never unreachable during the run")
    probes = ctx.history.completions(op)
    judged = 0
    lies: list[dict[str, Any]] = []
    for window in windows:
        until = window.surely_until
        assert until is not None
        for invoked, done in probes:  # asked after the grace to notice, answered before the lifting
            if not (window.start + bound <= invoked.time and done.time <= until):
                continue
            judged += 1
            said = said_of(done)
            if said is not False:
                lies.append(
                    {
                        "at": invoked.time,
                        "fault": window.name,
                        "outage_began_at": window.start,
                        "status": done.status,
                        "database_ok": said,
                        "error": done.error,
                        "answer": done.value.get("response"),
                        "problem": "no answer" if said is None else "said the database was up",
                    }
                )
    last_end = max(w.end for w in windows if w.end is not None)
    after = [d for i, d in probes if i.time > last_end]
    if lies:
        return Verdict.fail(
            check,
            f"{len(lies)} of {judged} {what} during a database outage (after {bound:g} s to notice) did "
            "not report the database down",
            lies,
            "observability",
        )
    if not judged:
        return Verdict.no_evidence(check, f"no {what} fell in a database outage after its first {bound:g} s")
    if not after or said_of(after[-1]) is not True:
        return Verdict.fail(
            check,
            "after the database came back, it never reported it up again",
            [{"last_answer": after[-1].value.get("response") if after else None, "after": len(after)}],
            "observability",
        )
    return Verdict.ok(
        check, f"{judged} {what} during database outages all reported the database down; up again after"
    )


def _database_said(done: Op) -> bool | None:
    """What a health answer said of the database: its declared field, or False for a non-2xx answer
    (it reports itself unhealthy); None for no answer or an answer that does not say."""
    if done.type != "ok":
        return False if done.status is not None else None
    view = done.value.get("view") or {}
    value = view.get("database_ok")
    return value if isinstance(value, bool) else None


def _gauge_said(done: Op) -> bool | None:
    """What a metrics scrape said: the gauge above 0 is up, 0 is down; None for no readable value."""
    value = (done.value.get("response") or {}).get("database_up") if done.type == "ok" else None
    return None if not isinstance(value, int | float) else value > 0


@checker("drained_on_shutdown")
def drained_on_shutdown(ctx: CheckContext) -> Verdict:
    """A graceful stop lets the requests in flight at the signal finish: each gets an HTTP answer
    (success or a definite error); a connection cut with no answer leaves the trader not knowing."""
    graceful = [d for d in ctx.deployments if d.how == "graceful"]
    if not graceful:
        return Verdict.no_evidence("drained_on_shutdown", "no graceful restart during the run")
    in_flight = 0
    cut = []
    for deployment in graceful:
        for invoked, done in ctx.history.completions():
            if not invoked.time < deployment.signalled_at <= done.time:
                continue
            in_flight += 1
            if done.type == "info" and done.status is None:
                cut.append(
                    {
                        "operation": invoked.f,
                        "client_order_id": invoked.value.get("client_order_id"),
                        "at": invoked.time,
                        "signalled_at": deployment.signalled_at,
                        "error": done.error,
                        "exit_code": deployment.exit_code,
                        "log_lines": list(deployment.log_lines[-5:]),
                    }
                )
    if cut:
        return Verdict.fail(
            "drained_on_shutdown",
            f"{len(cut)} of {in_flight} request(s) in flight at the stop signal were cut with no answer",
            cut,
            "deployment",
        )
    if not in_flight:
        return Verdict.no_evidence("drained_on_shutdown", "no request was in flight at the stop signal")
    return Verdict.ok(
        "drained_on_shutdown",
        f"{in_flight} request(s) in flight at the stop signal all got an answer "
        f"(exit code {', '.join(str(d.exit_code) for d in graceful)})",
    )


@checker("bad_release_caught")
def bad_release_caught(ctx: CheckContext) -> Verdict:
    """A release built to be broken must fail its readiness probe, so a rollout would stop at it; the
    rollback must then come up."""
    bad: list[Deployment] = [d for d in ctx.deployments if d.how == "bad_release"]
    if not bad:
        return Verdict.no_evidence("bad_release_caught", "no bad release was deployed")
    passed = [d for d in bad if d.bad_release_ready]
    if passed:
        return Verdict.fail(
            "bad_release_caught",
            "the readiness probe passed a release built to fail it: a rollout would have shipped it",
            [d.to_json() for d in passed],
            "deployment",
        )
    unrolled = [d for d in bad if d.ready_at is None]
    if unrolled:
        return Verdict.fail(
            "bad_release_caught",
            "the rollback never became ready",
            [d.to_json() for d in unrolled],
            "deployment",
        )
    return Verdict.ok(
        "bad_release_caught",
        f"{len(bad)} bad release(s) failed readiness and were rolled back "
        f"(ready again {', '.join(f'{d.ready_at - d.signalled_at:.1f} s' for d in bad if d.ready_at)} after)",
    )

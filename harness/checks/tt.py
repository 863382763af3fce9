"""TT invariants, judged through the middleware's API against TT's ledger: provisioning completes
(the token is refreshed), 429 Retry-After is honoured, and TT positions reconcile (every page read).

Inputs gathered by the runner: extras["admin"] (account -> the middleware's AccountView),
extras["tt_fault_events"] (the TT mock's fault_fired events), extras["tt_positions"] and
extras["tt_ledger_positions"] (account -> {symbol: net qty}, as the middleware and as TT see them)."""

from __future__ import annotations

import itertools
from collections import defaultdict

from ..adapters import AccountView
from .base import CheckContext, Verdict, checker

# A retry may come a little before Retry-After has fully elapsed by the mock's clock (timer slack on both
# sides of the loopback); 10% of the advertised delay is allowed, far below an immediate retry.
RETRY_AFTER_SLACK = 0.9


@checker("tt_provisioned")
def tt_provisioned(ctx: CheckContext) -> Verdict:
    admin: dict[str, AccountView] = ctx.extras.get("admin", {})
    missing = [
        {
            "account": account,
            "tt_status": view.tt_status,
            "tt_account_id": view.tt_account_id,
            "answer": view.raw,
        }
        for account, view in sorted(admin.items())
        if view.tt_status != "provisioned"
    ]
    if missing:
        return Verdict.fail(
            "tt_provisioned",
            f"{len(missing)} of {len(admin)} account(s) were never provisioned at TT "
            f"within {ctx.slo.fill_visible_s:g} s",
            missing,
            "protocol handling",
        )
    if not admin:
        return Verdict.no_evidence("tt_provisioned", "no account of ours to look up at TT")
    return Verdict.ok("tt_provisioned", f"all {len(admin)} account(s) provisioned at TT")


@checker("tt_rate_limit_honoured")
def tt_rate_limit_honoured(ctx: CheckContext) -> Verdict:
    fired = [e for e in ctx.extras.get("tt_fault_events", []) if e.get("fault") == "rate_limit_storm"]
    by_path: dict[str, list[float]] = defaultdict(list)
    for event in fired:
        by_path[str(event.get("path", ""))].append(float(event["ts"]))
    retry_after = float(ctx.extras.get("tt_retry_after_s", 1.0))
    early = []
    retries = 0
    for path, times in sorted(by_path.items()):
        for a, b in itertools.pairwise(sorted(times)):
            retries += 1
            if b - a < retry_after * RETRY_AFTER_SLACK:
                early.append({"path": path, "after_429_at": a, "retried_at": b, "gap_s": round(b - a, 3)})
    if early:
        return Verdict.fail(
            "tt_rate_limit_honoured",
            f"{len(early)} TT retr(ies) came sooner than Retry-After: {retry_after:g} s",
            early,
            "protocol handling",
        )
    if not fired:
        return Verdict.no_evidence("tt_rate_limit_honoured", "TT never answered 429: no retry to time")
    if not retries:
        return Verdict.no_evidence(
            "tt_rate_limit_honoured",
            f"{len(fired)} TT 429 answer(s), none followed by another on the same path: no retry to time",
        )
    return Verdict.ok(
        "tt_rate_limit_honoured",
        f"{len(fired)} TT 429 answer(s); every retry ({retries}) waited Retry-After ({retry_after:g} s)",
    )


@checker("tt_positions_reconcile")
def tt_positions_reconcile(ctx: CheckContext) -> Verdict:
    ours: dict[str, dict[str, int]] = ctx.extras.get("tt_positions", {})
    venue: dict[str, dict[str, int]] = ctx.extras.get("tt_ledger_positions", {})
    mismatches = []
    for account in sorted(set(ours) | set(venue)):
        a, b = ours.get(account, {}), venue.get(account, {})
        for symbol in sorted(set(a) | set(b)):
            if a.get(symbol, 0) != b.get(symbol, 0):
                mismatches.append(
                    {
                        "account": account,
                        "symbol": symbol,
                        "tt_net_qty": b.get(symbol, 0),
                        "middleware_net_qty": a.get(symbol, 0),
                    }
                )
    if mismatches:
        return Verdict.fail(
            "tt_positions_reconcile",
            f"{len(mismatches)} TT position(s) differ from TT's fills "
            f"{ctx.slo.fill_visible_s:g} s after they were made",
            mismatches,
            "data loss",
        )
    if not any(venue.values()):
        return Verdict.no_evidence(
            "tt_positions_reconcile", "TT holds no position of ours: nothing to reconcile"
        )
    total = sum(abs(q) for pos in venue.values() for q in pos.values())
    return Verdict.ok("tt_positions_reconcile", f"TT positions ({total} contracts net) equal TT's fills")

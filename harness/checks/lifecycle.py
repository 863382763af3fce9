"""Lifecycle invariants, held against every system's own records (harness.lifecycle), never against
what the middleware says it did:

- every funded trader who signed ends with exactly one signed contract, one MT5 login, one Rippling
  worker, and trading enabled; one who did not sign has none of them;
- each MT5 balance is the deposit minus the payouts, and the deals add up to it;
- no deal is booked twice: one deposit per funding, one withdrawal per payout, one pay item each;
- no order is taken before the contract is signed;
- a cancelled trader cannot trade, and is off MT5 and payroll.

Inputs: extras["lifecycle"] (a Snapshot), extras["lifecycle_probes"] (the orders and forged events
the run tried, by phase), and the `lifecycle.*` queries of the target's SQL file where it has them.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

from ..lifecycle import Chain, Snapshot, join, money
from .base import CheckContext, Verdict, checker

CATEGORY = "lifecycle"


def _chains(ctx: CheckContext) -> list[Chain]:
    snapshot = ctx.extras.get("lifecycle")
    return join(snapshot) if isinstance(snapshot, Snapshot) else []


def _missing(ctx: CheckContext) -> list[str]:
    snapshot = ctx.extras.get("lifecycle")
    return list(snapshot.missing) if isinstance(snapshot, Snapshot) else ["no lifecycle snapshot was taken"]


def _ids(records: list[dict[str, Any]], *keys: str) -> list[dict[str, Any]]:
    return [{k: r.get(k) for k in keys} for r in records][:10]


def _unreadable(check: str, ctx: CheckContext) -> Verdict | None:
    """A ledger we could not read makes every count meaningless: never a pass."""
    missing = _missing(ctx)
    if missing:
        return Verdict.no_evidence(check, f"the lifecycle records could not all be read: {missing[0]}")
    return None


def _sql_findings(ctx: CheckContext) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The target's own `lifecycle.*` queries, run once into the snapshot: each returns the rows that
    disagree (none: it holds); one that could not run is a problem too."""
    snapshot = ctx.extras.get("lifecycle")
    entries = snapshot.sql if isinstance(snapshot, Snapshot) else []
    ran, problems = [], []
    for entry in entries:
        rows, error = entry.get("rows") or [], entry.get("error")
        ran.append({"query": entry["name"], "what": entry.get("what", ""), "sql": entry.get("sql", ""),
                    "rows": rows[:20], "passed": not rows and not error})  # fmt: skip
        if rows or error:
            problems.append({"problem": f"SQL {entry['name']}: {entry.get('what', '')}", "rows": rows[:20],
                             **({"error": error} if error else {})})  # fmt: skip
    return ran, problems


@checker("lifecycle_provisioned_once")
def lifecycle_provisioned_once(ctx: CheckContext) -> Verdict:
    check = "lifecycle_provisioned_once"
    chains = _chains(ctx)
    if not chains:
        return Verdict.no_evidence(check, "no funded trader was taken through the lifecycle")
    if (thin := _unreadable(check, ctx)) is not None:
        return thin
    problems = []
    for c in chains:
        want = 1 if c.trader.signs else 0
        counts = {
            "checkout": (len(c.checkouts), 1),
            # one contract out to them, signed or awaiting signature; none once they declined it
            "live contract": (len(c.live_envelopes), 0 if c.trader.declined else 1),
            "signed contract": (len(c.signed), want),
            "MT5 login": (len(c.mt5_users), want),
            "Rippling worker": (len(c.workers), want),
        }
        wrong: dict[str, Any] = {what: got for what, (got, expected) in counts.items() if got != expected}
        enabled = c.trading_enabled()
        may_trade = c.trader.signs and not c.trader.cancelled
        if enabled is not may_trade and not (enabled is None and not may_trade):
            wrong["trading enabled"] = enabled
        if wrong:
            problems.append(
                {
                    "customer": c.customer,
                    "email": c.trader.email,
                    "signed": c.trader.signs,
                    "wrong": wrong,
                    "expected": {k: e for k, (_, e) in counts.items()} | {"trading enabled": may_trade},
                    "envelopes": _ids(c.envelopes, "envelope_id", "status"),
                    "mt5_logins": _ids(c.mt5_users, "login", "balance"),
                    "workers": _ids(c.workers, "id", "status"),
                    "bus_runs": _ids(c.zap_runs, "run_id", "state", "replay_of", "error"),
                }
            )
    ran, found = _sql_findings(ctx)
    problems += found
    if problems:
        return Verdict.fail(
            check,
            f"{len(problems)} funded trader(s) did not end with exactly one of each record they should have",
            problems + ran,
            CATEGORY,
        )
    signed = sum(1 for c in chains if c.trader.signs)
    return Verdict.ok(
        check,
        f"{len(chains)} funded trader(s): the {signed} who signed have one contract, one MT5 login, one "
        f"worker and trading; the {len(chains) - signed} who did not have none",
        ran,
    )


@checker("lifecycle_balances")
def lifecycle_balances(ctx: CheckContext) -> Verdict:
    check = "lifecycle_balances"
    chains = [c for c in _chains(ctx) if c.mt5_users]
    if not chains:
        return Verdict.no_evidence(check, "no funded trader reached MT5, so no balance could be held")
    if (thin := _unreadable(check, ctx)) is not None:
        return thin
    problems = []
    for c in chains:
        want = c.trader.deposit - c.trader.paid_out
        balance, dealt = c.mt5_balance(), c.deal_total()
        if balance != want or dealt != balance:
            problems.append(
                {
                    "customer": c.customer,
                    "expected_balance": str(want),
                    "mt5_balance": str(balance),
                    "deals_total": str(dealt),
                    "deposit": str(c.trader.deposit),
                    "paid_out": str(c.trader.paid_out),
                    "deals": _ids(c.deals, "deal", "login", "amount", "comment", "time_msc"),
                }
            )
    if problems:
        return Verdict.fail(
            check,
            f"{len(problems)} MT5 balance(s) differ from deposits minus payouts",
            problems,
            CATEGORY,
        )
    total = sum((c.mt5_balance() for c in chains), Decimal("0.00"))
    return Verdict.ok(
        check,
        f"{len(chains)} MT5 balance(s), {total} in all, each equal to its deposit minus its payouts",
    )


@checker("lifecycle_no_double_deal")
def lifecycle_no_double_deal(ctx: CheckContext) -> Verdict:
    check = "lifecycle_no_double_deal"
    chains = [c for c in _chains(ctx) if c.deals or c.pay_items]
    if not chains:
        return Verdict.no_evidence(check, "no deal or pay item was booked for a funded trader")
    if (thin := _unreadable(check, ctx)) is not None:
        return thin
    problems: list[dict[str, Any]] = []
    judged = 0
    for c in chains:
        judged += len(c.deals) + len(c.pay_items)
        if len(c.deposits) > 1:
            problems.append(
                {
                    "customer": c.customer,
                    "problem": f"{len(c.deposits)} deposits for one funding",
                    "deals": _ids(c.deposits, "deal", "login", "amount", "comment", "time_msc"),
                }
            )
        wanted = Counter(-p.amount for p in c.trader.payouts if p.accepted)
        booked = Counter(money(d.get("amount")) for d in c.withdrawals)
        over = {str(-amount): n - wanted[amount] for amount, n in booked.items() if n > wanted[amount]}
        if over:
            problems.append(
                {
                    "customer": c.customer,
                    "problem": "withdrawals beyond the payouts asked for",
                    "extra_by_amount": over,
                    "deals": _ids(c.withdrawals, "deal", "login", "amount", "comment", "time_msc"),
                }
            )
        by_reference = Counter(str(p.get("reference")) for p in c.pay_items)
        twice = {ref: n for ref, n in by_reference.items() if n > 1}
        if twice:
            problems.append(
                {
                    "customer": c.customer,
                    "problem": "a payout's pay item booked more than once",
                    "by_reference": twice,
                }
            )
    if problems:
        return Verdict.fail(check, f"{len(problems)} booking(s) made more than once", problems, CATEGORY)
    return Verdict.ok(
        check, f"{judged} deal(s) and pay item(s) over {len(chains)} trader(s), none booked twice"
    )


@checker("lifecycle_no_trading_before_signature")
def lifecycle_no_trading_before_signature(ctx: CheckContext) -> Verdict:
    check = "lifecycle_no_trading_before_signature"
    probes = [p for p in ctx.extras.get("lifecycle_probes", []) if p.get("client_order_id")]
    chains = {c.customer: c for c in _chains(ctx)}
    unsigned_phases = ("before_signature", "after_forgery", "after_decline")
    tried = [p for p in probes if p.get("phase") in unsigned_phases]
    if not tried:
        return Verdict.no_evidence(check, "no order was tried for a funded trader before the signature")
    problems = []
    for probe in tried:
        if probe.get("outcome") != "fail":
            problems.append(
                {
                    **{k: probe.get(k) for k in ("customer", "account", "phase", "client_order_id", "at")},
                    "outcome": probe.get("outcome"),
                    "status": probe.get("status"),
                    "problem": "an order was not refused before the contract was signed",
                }
            )
    # the venue's own record: no order of an unsigned trader's accounts reached it before the signature
    tags_at_venue = {str(o.get("client_tag")): o for o in ctx.ledger.get("orders", [])}
    for probe in tried:
        order = tags_at_venue.get(str(probe.get("client_order_id")))
        chain = chains.get(str(probe.get("customer")))
        signed_at = chain.signed_at() if chain else None
        if order is not None and (signed_at is None or float(probe.get("at") or 0) < signed_at):
            problems.append(
                {
                    "customer": probe.get("customer"),
                    "client_order_id": probe.get("client_order_id"),
                    "venue_order": order,
                    "signed_at": signed_at,
                    "problem": "the venue holds an order sent before the contract was signed",
                }
            )
    if problems:
        return Verdict.fail(
            check, f"{len(problems)} order(s) of unsigned traders were taken", problems, CATEGORY
        )
    return Verdict.ok(
        check,
        f"{len(tried)} order(s) tried before the signature (or after a forged or declined one): all refused, "
        "none at the venue",
    )


@checker("lifecycle_cancelled")
def lifecycle_cancelled(ctx: CheckContext) -> Verdict:
    check = "lifecycle_cancelled"
    chains = [c for c in _chains(ctx) if c.trader.cancelled]
    if not chains:
        return Verdict.no_evidence(check, "no funded trader was cancelled")
    if (thin := _unreadable(check, ctx)) is not None:
        return thin
    problems = []
    for c in chains:
        wrong: dict[str, Any] = {}
        if c.trading_enabled() is not False:
            wrong["trading_enabled"] = c.trading_enabled()
        if c.active_workers:
            wrong["active_workers"] = _ids(c.active_workers, "id", "status")
        enabled = [u for u in c.mt5_users if u.get("enabled") is True]
        if enabled:
            wrong["mt5_enabled"] = _ids(enabled, "login", "enabled")
        if wrong:
            problems.append({"customer": c.customer, "wrong": wrong})
    if problems:
        return Verdict.fail(
            check,
            f"{len(problems)} cancelled trader(s) can still trade or are still set up",
            problems,
            CATEGORY,
        )
    return Verdict.ok(
        check, f"{len(chains)} cancelled trader(s): trading off, payroll terminated, MT5 disabled"
    )

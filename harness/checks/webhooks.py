"""Stripe webhook invariants: each event has exactly one effect, forged deliveries have none, and the
end state does not depend on delivery order. Inputs (gathered by the runner):

- extras["webhook_sends"]: one entry per Stripe send: customer, faults, deliveries (event_id, status,
  attempt, ...), events, and accounts (account id -> the middleware's AccountView) for that customer;
- extras["stripe_events"]: every event the emitter built (GET /sent), with its type, created time and object;
- ctx.psql and the `webhook.*` queries of the target's SQL file, when the database is reachable."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ..adapters import AccountView
from . import sql
from .base import CheckContext, Verdict, checker

FORGED = frozenset({"bad_signature", "tampered_body", "stale_timestamp"})
ACTIVE = frozenset({"active", "trialing"})


def _faults(send: dict[str, Any]) -> set[str]:
    return {f if isinstance(f, str) else str(f.get("fault")) for f in send.get("faults", [])}


def _sends(ctx: CheckContext) -> list[dict[str, Any]]:
    return list(ctx.extras.get("webhook_sends", []))


def _accepted(send: dict[str, Any]) -> set[str]:
    return {str(d["event_id"]) for d in send.get("deliveries", []) if 200 <= int(d.get("status") or 0) < 300}


def _payments(send: dict[str, Any]) -> tuple[str, ...]:
    """The invoice of each payment booked for the customer, as the admin API shows them (every
    account of a customer shows the same)."""
    views: list[AccountView] = list(send.get("accounts", {}).values())
    return views[0].payment_invoices if views else ()


def _invoice_of(event: dict[str, Any]) -> str:
    return str(((event.get("data") or {}).get("object") or {}).get("id"))


@checker("webhook_exactly_once")
def webhook_exactly_once(ctx: CheckContext) -> Verdict:
    problems: list[dict[str, Any]] = []
    events = {str(e["id"]): e for e in ctx.extras.get("stripe_events", [])}
    checked = 0
    for send in _sends(ctx):
        if FORGED & _faults(send):
            continue
        accepted = _accepted(send)
        by_invoice: dict[str, int] = defaultdict(int)
        for invoice_id in _payments(send):
            by_invoice[invoice_id] += 1
        for event_id in sorted({str(d["event_id"]) for d in send.get("deliveries", [])}):
            event = events.get(event_id) or {}
            kind, invoice = str(event.get("type", "")), _invoice_of(event)
            attempts = [d for d in send["deliveries"] if str(d["event_id"]) == event_id]
            checked += 1
            if event_id not in accepted:
                problems.append(
                    {"event_id": event_id, "type": kind, "problem": "never accepted", "deliveries": attempts}
                )
            elif kind.startswith("invoice.") and by_invoice.get(invoice, 0) != 1:
                problems.append(
                    {
                        "event_id": event_id,
                        "type": kind,
                        "invoice_id": invoice,
                        "problem": f"{by_invoice.get(invoice, 0)} payments recorded",
                        "customer": send["customer"],
                        "deliveries": len(attempts),
                    }
                )
    queries, _ = sql.load(ctx, "webhook")
    ran = []
    if ctx.psql is not None:
        for query in queries:
            rows = sql.run(ctx, query)
            ran.append(sql.record(query, rows, passed=not rows))
            if rows:
                problems.append({"problem": f"SQL {query.name}: {query.what}", "rows": rows[:20]})
    if problems:
        return Verdict.fail(
            "webhook_exactly_once",
            f"{len(problems)} Stripe event(s) did not have exactly one effect",
            problems + ran,
            "webhook handling",
        )
    if not checked:
        return Verdict.no_evidence(
            "webhook_exactly_once", "no genuine Stripe event was sent to the middleware"
        )
    return Verdict.ok(
        "webhook_exactly_once",
        f"{checked} Stripe event(s) each had exactly one effect, whatever the duplicates and retries",
        ran,
    )


@checker("webhook_authentic")
def webhook_authentic(ctx: CheckContext) -> Verdict:
    problems: list[dict[str, Any]] = []
    forged = genuine = 0
    for send in _sends(ctx):
        faults = _faults(send)
        if faults & FORGED:
            forged += 1
            accepted = _accepted(send)
            if accepted or send.get("accounts"):
                problems.append(
                    {
                        "customer": send["customer"],
                        "faults": sorted(faults),
                        "accepted_event_ids": sorted(accepted),
                        "accounts_created": sorted(send.get("accounts", {})),
                        "problem": "a delivery that fails signature verification was acted on",
                    }
                )
        else:
            genuine += 1
            missing = {str(d["event_id"]) for d in send.get("deliveries", [])} - _accepted(send)
            if missing:
                problems.append(
                    {
                        "customer": send["customer"],
                        "faults": sorted(faults),
                        "refused_event_ids": sorted(missing),
                        "problem": "a correctly signed delivery was refused",
                    }
                )
    if problems:
        return Verdict.fail(
            "webhook_authentic",
            f"{len(problems)} webhook send(s) were judged wrongly on their signature",
            problems,
            "webhook handling",
        )
    if not forged and not genuine:
        return Verdict.no_evidence("webhook_authentic", "no Stripe webhook was sent to the middleware")
    return Verdict.ok(
        "webhook_authentic",
        f"{forged} forged send(s) refused with no effect; {genuine} genuine send(s) accepted",
    )


def expected_enabled(events: list[dict[str, Any]]) -> bool | None:
    """Whether a customer may trade once all their events are applied, in event time (None: no opinion).

    A cancelled subscription is final; otherwise the latest subscription event by `created` decides;
    a paid checkout alone starts an active subscription."""
    subs = [e for e in events if str(e.get("type", "")).startswith("customer.subscription.")]
    if any(str(e["type"]).endswith(".deleted") for e in subs):
        return False
    if subs:
        latest = max(enumerate(subs), key=lambda pair: (int(pair[1].get("created") or 0), pair[0]))[1]
        return str(((latest.get("data") or {}).get("object") or {}).get("status")) in ACTIVE
    if any(e.get("type") == "checkout.session.completed" for e in events):
        return True
    return None


@checker("webhook_state")
def webhook_state(ctx: CheckContext) -> Verdict:
    by_customer: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in ctx.extras.get("stripe_events", []):
        customer = ((event.get("data") or {}).get("object") or {}).get("customer")
        by_customer[str(customer)].append(event)
    problems = []
    judged = 0
    for send in _sends(ctx):
        if FORGED & _faults(send):
            continue
        want = expected_enabled(by_customer.get(send["customer"], []))
        if want is None:
            continue
        judged += 1
        views = send.get("accounts", {})
        if not views:
            problems.append({"customer": send["customer"], "problem": "no account was created"})
        for account, view in views.items():
            got = view.trading_enabled
            if got is not want:
                problems.append(
                    {
                        "customer": send["customer"],
                        "account": account,
                        "expected_trading_enabled": want,
                        "trading_enabled": got,
                        "delivery_order": send.get("delivery_order"),
                    }
                )
    if problems:
        return Verdict.fail(
            "webhook_state",
            f"{len(problems)} account(s) ended in a state that depends on webhook delivery order",
            problems,
            "webhook handling",
        )
    if not judged:
        return Verdict.no_evidence(
            "webhook_state", "no genuine Stripe send whose events say whether the customer may trade"
        )
    return Verdict.ok(
        "webhook_state", f"{judged} customer(s) ended in the state their events mean, in event time"
    )

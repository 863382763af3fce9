"""Webhooks: Stripe deliveries duplicated, reordered, forged, stale, signed with a rotated secret, or
retried against a slow handler. Each event must have exactly one effect; forged ones none."""

from __future__ import annotations

from harness.scenario import Scenario, action

WEBHOOK_CHECKS = ("webhook_exactly_once", "webhook_authentic", "webhook_state")
ONBOARD = ("checkout.session.completed", "customer.subscription.created")
ONCE = {"max_attempts": 1}  # a forged delivery is refused (400); one attempt says so, without retry noise
# Only forged sends: no genuine event whose effect or end state could be judged, only its refusal.
FORGED_ONLY = ("webhook_authentic",)


def _webhook(id_: str, title: str, description: str, *schedule: object, **extra: object) -> Scenario:
    fields: dict[str, object] = {
        "suite": "webhooks",
        "venue": "stripe",
        "fault_class": "webhooks",
        "severity": "critical",
        "checks": WEBHOOK_CHECKS,
        "workload": "quiet",
        "traders": 1,
        "steady_s": 0.5,
        "recovery_s": 0.5,
        **extra,
    }
    return Scenario(id=id_, title=title, description=description, schedule=schedule, **fields)  # type: ignore[arg-type]


SCENARIOS = (
    _webhook(
        "WEBHOOK-DUPLICATE",
        "Stripe delivers the same events twice",
        "Every event (a new trader's onboarding, an existing trader's paid invoice) is delivered twice with "
        "the same id. Each must take effect once: one account, one payment.",
        action("stripe", "stripe_send", types=ONBOARD, faults=("duplicate",)),
        action(
            "stripe", "stripe_send", at=0.1, customer="trader", types=("invoice.paid",), faults=("duplicate",)
        ),
    ),
    _webhook(
        "WEBHOOK-REORDER",
        "Stripe delivers a customer's events out of order",
        "A customer's checkout, subscription and cancellation arrive in reverse order, then another "
        "customer's in a shuffled order. The end state must be the one the events mean in event time: "
        "cancelled customers cannot trade.",
        action(
            "stripe",
            "stripe_send",
            types=(
                "customer.subscription.deleted",
                "customer.subscription.created",
                "checkout.session.completed",
            ),
        ),
        action(
            "stripe",
            "stripe_send",
            at=0.1,
            types=(
                "checkout.session.completed",
                "customer.subscription.created",
                "customer.subscription.deleted",
            ),
            faults=("reorder",),
        ),
    ),
    _webhook(
        "WEBHOOK-BAD-SIGNATURE",
        "Forged Stripe deliveries: a wrong signature, and a tampered body",
        "Someone posts events whose signature does not match, or whose body was changed after signing. "
        "They must be refused (400) and create nothing: otherwise anyone can open a funded account.",
        action("stripe", "stripe_send", types=ONBOARD, faults=("bad_signature",), retry=ONCE),
        action("stripe", "stripe_send", at=0.1, types=ONBOARD, faults=("tampered_body",), retry=ONCE),
        severity="blocker",
        checks=FORGED_ONLY,
    ),
    _webhook(
        "WEBHOOK-STALE-TIMESTAMP",
        "A replayed Stripe delivery signed 10 minutes ago",
        "A delivery carries a valid signature over a timestamp 600 s old, outside Stripe's 300 s tolerance: "
        "a replay. It must be refused and create nothing.",
        action("stripe", "stripe_send", types=ONBOARD, faults=("stale_timestamp",), retry=ONCE),
        severity="blocker",
        checks=FORGED_ONLY,
    ),
    _webhook(
        "WEBHOOK-ROTATED-SECRET",
        "Stripe signs with both the old and the new secret during a rotation",
        "During a secret rotation Stripe sends two signatures, the old secret's first. The delivery is "
        "genuine: it must be accepted and take effect once.",
        action("stripe", "stripe_send", types=ONBOARD, faults=("rotated_secret",)),
        action(
            "stripe",
            "stripe_send",
            at=0.1,
            customer="trader",
            types=("invoice.paid",),
            faults=("rotated_secret",),
        ),
    ),
    _webhook(
        "WEBHOOK-SLOW-HANDLER-RETRIES",
        "Stripe gives up on slow answers after 50 ms and retries",
        "Stripe's delivery times out after 50 ms and retries, so a handler that is still working receives "
        "the same event again, possibly concurrently. Each event must still take effect exactly once.",
        action(
            "stripe",
            "stripe_send",
            types=(*ONBOARD, "invoice.paid"),
            # Attempts after the first hit the fast duplicate path; 8 of them leave ample room on a busy box.
            retry={"timeout_ms": 50, "max_attempts": 8, "base_delay_ms": 20, "max_delay_ms": 200},
        ),
    ),
)

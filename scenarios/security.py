"""Security: who may call what. Probes built from the target's own declared operations, sent with no
credential, a wrong, revoked or expired one, another trader's key, from a source outside the admin
allowlist, or malformed; a flood from one client; and every secret searched for in every answer and
log line. The venue's ledger shows whether anything a probe must not do reached it."""

from __future__ import annotations

from harness.scenario import ORDER_CHECKS, Evidence, Scenario, action, protocol

SUITE = "security"

SCENARIOS = (
    Scenario(
        id="SECURITY-CREDENTIAL-ROTATION",
        title="Venue credentials rotated mid-run are taken up without a restart",
        description=(
            "While two traders trade, the Rithmic password, the TT app secret and the Stripe webhook "
            "secret are rotated at the venues, each old value honoured for 2 s more, and the secret source "
            "the target file declares is rewritten. Once the old values have expired, Rithmic logs the "
            "order plant out, TT expires every token, and a new trader signs up through a Stripe delivery "
            "signed with the new secret alone. The same middleware process must log in again, get a token "
            "and take the delivery with the new credentials, never present an expired one, and lose no "
            "order, fill or webhook; no secret, old or new, may show in an answer or a log line."
        ),
        suite=SUITE,
        venue="middleware",
        fault_class="credential rotation",
        severity="critical",
        schedule=(
            action("middleware", "rotate_secrets", at=0.0, for_s=2.0, grace_s=2.0),
            protocol("rithmic", "forced_logout", at=3.0, plant="order", count=1, for_s=1.0),
            protocol("tt", "early_token_expiry", at=3.0, count=1, for_s=1.0),
            action("stripe", "stripe_send", at=3.1, types=("checkout.session.completed",)),
        ),
        checks=(
            *ORDER_CHECKS,
            "credentials_rotated",
            "tt_provisioned",
            "webhook_exactly_once",
            "secrets_not_leaked",
        ),
        traders=2,
        steady_s=2.0,
        recovery_s=4.0,
        evidence=Evidence(orders_during_faults=4),
    ),
    Scenario(
        id="SECURITY-AUTHENTICATION",
        title="Every operation refuses a missing, wrong, revoked or expired credential",
        description=(
            "Each operation the target declares (orders, cancels, reads, the back office's own, and the "
            "stream's handshake) is called with no credential, with a key nobody issued, with a trader key "
            "the back office revoked and with one whose lifetime has passed. Every answer must be 401 with "
            "nothing served (a stream refused, or closed before any message), and no order placed that way "
            "may reach the venue. Every secret the topology knows is searched for in every answer and log "
            "line."
        ),
        suite=SUITE,
        venue="middleware",
        fault_class="authentication",
        severity="blocker",
        schedule=(),
        checks=("auth_required", "secrets_not_leaked"),
        traders=1,
        workload="security",
    ),
    Scenario(
        id="SECURITY-OBJECT-ACCESS",
        title="One trader cannot reach another's orders, positions or account",
        description=(
            "Two traders each hold a resting order. Trader A, with its own valid key, reads B's order, "
            "cancels it, reads B's positions, account and P&L, places an order on B's account, re-uses B's "
            "client order id, and calls the back office's operations. Every request on B's objects must be "
            "refused (403 or 404), B's order must stand unchanged at the venue, and no order A placed for B "
            "may reach it."
        ),
        suite=SUITE,
        venue="middleware",
        fault_class="object-level authorisation",
        severity="blocker",
        schedule=(),
        checks=("object_access_scoped", "secrets_not_leaked"),
        traders=2,
        workload="security",
    ),
    Scenario(
        id="SECURITY-ADMIN-ALLOWLIST",
        title="The back office is served only from its allowlisted address",
        description=(
            "The back office's own credential is sent from the loopback alias the target file allowlists, "
            "then from one it does not, bare and claiming the allowlisted address in X-Forwarded-For, "
            "Forwarded and X-Real-IP. Only the allowlisted source may be served: a header the client wrote "
            "is no proof of where it is. No probe leaves loopback."
        ),
        suite=SUITE,
        venue="middleware",
        fault_class="network allowlist",
        severity="critical",
        schedule=(),
        checks=("admin_allowlist_holds", "secrets_not_leaked"),
        traders=1,
        workload="security",
    ),
    Scenario(
        id="SECURITY-ERROR-BODIES",
        title="Malformed requests get a 4xx without internals",
        description=(
            "Every operation that takes a body gets one that is not JSON, one whose every field is an "
            "object, one of numbers too large for any type, and one of 1 MiB; order lookups and cancels "
            "get ids that climb paths, run to 4 KB or hold control characters. Each must be answered with "
            "a 4xx that shows no stack trace, driver error or secret."
        ),
        suite=SUITE,
        venue="middleware",
        fault_class="error handling",
        severity="critical",
        schedule=(),
        checks=("errors_without_internals", "secrets_not_leaked"),
        traders=1,
        workload="security",
    ),
    Scenario(
        id="SECURITY-FLOOD",
        title="One client's flood is rate-limited without slowing the other traders",
        description=(
            "Four traders trade; for 15 s one of them also reads its positions at 50 times a trader's "
            "normal rate. That client must get 429s with a Retry-After, never a 5xx, while the other "
            "traders' orders are acknowledged within the ack p99 SLO, none of them refused for another's "
            "flood, and no fill is lost or order duplicated."
        ),
        suite=SUITE,
        venue="middleware",
        fault_class="flood",
        severity="critical",
        # 15 s: enough of the other traders' orders (147 to 154 here) for their p99 to be a percentile
        schedule=(action("middleware", "flood", at=1.0, for_s=15.0, multiplier=50),),
        checks=(*ORDER_CHECKS, "flood_rate_limited", "flood_isolated", "secrets_not_leaked"),
        traders=4,
        steady_s=2.0,
        recovery_s=2.0,
        evidence=Evidence(orders_during_faults=10),
    ),
)

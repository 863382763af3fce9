"""The administrative state under fire: the middleware's database link broken, its rows and tables
locked, its connections taken, Postgres restarted, and the middleware itself redeployed mid-flow.
Orders, webhooks and admin reads must stay bounded, durable and exactly-once throughout."""

from __future__ import annotations

from harness.scenario import ORDER_CHECKS, Evidence, Scenario, action, db_fault, deploy, down, toxic

from .latency import loss_bursts

SUITE = "admin-state"
# What every database scenario holds: the order invariants, acknowledged orders durable, every
# request answered within the bound, admin back within the SLO and a consistent database.
DB_CHECKS = (*ORDER_CHECKS, "acked_orders_durable", "db_bounded_answers", "admin_recovers", "db_reconcile")
DEPLOY_CHECKS = (*ORDER_CHECKS, "acked_orders_durable", "admin_recovers", "recovery_slo", "db_reconcile")
# Stripe retries a failed delivery; these outlast a 5 s outage (1 + 2 + 4 + 4 + 4 s of backoff).
OUTAGE_RETRY = {"max_attempts": 8, "base_delay_ms": 1000, "max_delay_ms": 4000}
SLOW_VENUE = toxic("rithmic", "latency", for_s=4.0, stream="downstream", latency=300)
# slower still for the drain: several orders, not one, are then in flight at the stop signal, so a
# build that cuts them is caught every time (with one, a reply already on its way passed for drained)
SLOWER_VENUE = toxic("rithmic", "latency", for_s=4.0, stream="downstream", latency=1200)

SCENARIOS = (
    Scenario(
        id="DB-LINK-DOWN",
        title="The database link is down for 5 s",
        description=(
            "The middleware's connection to Postgres is cut (the proxy refuses and closes every "
            "connection) for 5 s while traders keep trading. Every request must still be answered fast "
            "(a definite 503, not a hang); no acknowledged order may be lost; health must report the "
            "database down, and admin must answer again within the SLO once it is back."
        ),
        suite=SUITE,
        venue="postgres",
        fault_class="database unavailable",
        severity="blocker",
        schedule=(down("postgres", at=0.5, for_s=5.0),),
        checks=(*DB_CHECKS, "health_truthful", "metrics_truthful", "recovery_slo"),
        traders=3,
    ),
    Scenario(
        id="DB-WEBHOOKS-DURING-OUTAGE",
        title="Stripe webhooks arrive while the database is down",
        description=(
            "A new trader signs up and an invoice is paid while Postgres is unreachable for 5 s. The "
            "middleware must refuse the deliveries (so Stripe retries) rather than answer 200 and drop "
            "them: once the database is back, each event's effect must be in the database exactly once."
        ),
        suite=SUITE,
        venue="postgres",
        fault_class="database unavailable",
        severity="blocker",
        workload="quiet",
        schedule=(
            down("postgres", at=0.0, for_s=5.0),
            action(
                "stripe",
                "stripe_send",
                at=0.5,
                background=True,
                types=("checkout.session.completed", "customer.subscription.created"),
                retry=OUTAGE_RETRY,
            ),
            action(
                "stripe",
                "stripe_send",
                at=1.0,
                background=True,
                customer="trader",
                types=("invoice.paid",),
                retry=OUTAGE_RETRY,
            ),
        ),
        checks=("webhook_exactly_once", "webhook_state", "admin_recovers", "health_truthful"),
        traders=1,
        recovery_s=6.0,
    ),
    Scenario(
        id="DB-LINK-LATENCY",
        title="Every database round trip takes 200 ms more for 4 s",
        description=(
            "Latency on the database link (200 ± 50 ms each way). Orders slow down but must not be "
            "lost, duplicated or left unknown, and every request must still be answered within the bound."
        ),
        suite=SUITE,
        venue="postgres",
        fault_class="database link",
        severity="critical",
        schedule=(toxic("postgres", "latency", for_s=4.0, stream="downstream", latency=200, jitter=50),),
        checks=DB_CHECKS,
    ),
    Scenario(
        id="DB-LINK-PACKET-LOSS",
        title="Bursts of segment loss on the database link for 5 s",
        description=(
            "Segments between the middleware and Postgres are lost in bursts, each loss stalling the "
            "link for a retransmission timeout that doubles up to 1.6 s. Queries slow down in jerks; "
            "orders must not be lost or duplicated, and every request must still be answered within "
            "the bound. Uses the embedded fault plane's packet_loss extension."
        ),
        suite=SUITE,
        venue="postgres",
        fault_class="database link",
        severity="normal",
        schedule=(loss_bursts("postgres", for_s=5.0),),
        checks=DB_CHECKS,
    ),
    Scenario(
        id="DB-LINK-RESET",
        title="Database connections are reset for 3 s",
        description=(
            "Every connection to Postgres is reset by the peer as soon as it carries data, for 3 s. A pool "
            "must drop the broken connections and open new ones; requests meanwhile fail definitively."
        ),
        suite=SUITE,
        venue="postgres",
        fault_class="database link",
        severity="critical",
        schedule=(toxic("postgres", "reset_peer", for_s=3.0, stream="upstream", timeout=0),),
        checks=DB_CHECKS,
    ),
    Scenario(
        id="DB-LINK-BLACKHOLE",
        title="The database stops answering for 7 s (connections stay open)",
        description=(
            "Postgres's answers are swallowed for 7 s while the connections stay open: the worst case for "
            "a middleware without client-side timeouts, whose requests wait forever. Each request must be "
            "answered within the bound, and health must report the database down."
        ),
        suite=SUITE,
        venue="postgres",
        fault_class="database unavailable",
        severity="blocker",
        schedule=(toxic("postgres", "timeout", for_s=7.0, stream="downstream", timeout=0),),
        checks=(*DB_CHECKS, "health_truthful", "metrics_truthful"),
    ),
    Scenario(
        id="DB-ROW-LOCK-ACCOUNTS",
        title="Another session holds the traders' account rows locked for 5 s",
        description=(
            "A long transaction (a back-office job, a migration) holds the traders' account rows with "
            "SELECT … FOR UPDATE for 5 s. Orders that need the account must be refused fast (lock_timeout), "
            "not queue behind the lock for its whole duration, and nothing may be lost."
        ),
        suite=SUITE,
        venue="postgres",
        fault_class="database lock",
        severity="blocker",
        schedule=(db_fault("row_lock", at=0.5, for_s=5.0, lock="accounts"),),
        checks=DB_CHECKS,
    ),
    Scenario(
        id="DB-IDLE-IN-TRANSACTION",
        title="A session sits idle in transaction holding the account rows for 5 s",
        description=(
            "A client opened a transaction, locked the traders' accounts and went quiet: the classic "
            "leaked transaction. The middleware must bound its waits on it, and admin must recover as "
            "soon as it ends."
        ),
        suite=SUITE,
        venue="postgres",
        fault_class="database lock",
        severity="critical",
        schedule=(db_fault("idle_in_transaction", at=0.5, for_s=5.0, lock="accounts"),),
        checks=DB_CHECKS,
    ),
    Scenario(
        id="DB-TABLE-LOCK",
        title="The orders table is locked (ACCESS EXCLUSIVE) for 3 s",
        description=(
            "A migration takes an ACCESS EXCLUSIVE lock on the orders table for 3 s: every read and write "
            "of it waits. Requests must be answered within the bound, and fills the venue reports meanwhile "
            "must still be booked once the lock is gone."
        ),
        suite=SUITE,
        venue="postgres",
        fault_class="database lock",
        severity="critical",
        schedule=(db_fault("table_lock", at=0.5, for_s=3.0),),
        checks=DB_CHECKS,
    ),
    Scenario(
        id="DB-STATEMENT-TIMEOUT",
        title="A 100 ms statement_timeout is imposed while the orders table is locked",
        description=(
            "The server's statement_timeout drops to 100 ms (it applies to every session that does not set "
            "its own) while the orders table is locked for 3 s, so waiting statements are cancelled by the "
            "server. The middleware must answer those requests definitively and lose nothing."
        ),
        suite=SUITE,
        venue="postgres",
        fault_class="database lock",
        severity="normal",
        schedule=(
            db_fault("statement_timeout", at=0.3, for_s=4.0, ms=100),
            db_fault("table_lock", at=0.5, for_s=3.0),
        ),
        checks=DB_CHECKS,
    ),
    Scenario(
        id="DB-CONNECTION-EXHAUSTION",
        title="Every free database connection is taken for 5 s",
        description=(
            "Another client takes every connection Postgres has left, so the middleware cannot open a new "
            "one for 5 s. It must keep serving on the connections it holds or refuse fast, and recover."
        ),
        suite=SUITE,
        venue="postgres",
        fault_class="database capacity",
        severity="critical",
        schedule=(db_fault("exhaust_connections", at=0.5, for_s=5.0, leave=0),),
        checks=DB_CHECKS,
    ),
    Scenario(
        id="DB-POSTGRES-RESTART",
        title="Postgres restarts (pg_ctl restart -m fast) in the middle of the order flow",
        description=(
            "The database server restarts: every connection is closed and new ones are refused until it is "
            "back. The middleware's pool must recover on its own: admin reads and orders must work again "
            "within the SLO, with no acknowledged order lost."
        ),
        suite=SUITE,
        venue="postgres",
        fault_class="database restart",
        severity="blocker",
        schedule=(db_fault("restart", at=1.0),),
        checks=(*DB_CHECKS, "recovery_slo"),
        recovery_s=5.0,
    ),
    Scenario(
        id="DEPLOY-GRACEFUL-RESTART",
        title="The middleware is redeployed (SIGTERM, drain, start) while orders are in flight",
        description=(
            "Orders take 1.2 s at the venue, so several are always in flight, when the middleware gets its "
            "stop signal. It must drain: every request in flight completes or fails definitively. Traders' "
            "clients retry with the same client_order_id across the restart: no order may be duplicated."
        ),
        suite=SUITE,
        venue="middleware",
        fault_class="deployment",
        severity="blocker",
        schedule=(SLOWER_VENUE, deploy("graceful", at=1.0)),
        checks=(*DEPLOY_CHECKS, "drained_on_shutdown"),
        traders=5,
        client_retry_rate=0.3,
        recovery_s=4.0,
    ),
    Scenario(
        id="DEPLOY-CRASH-MID-ORDER",
        title="The middleware crashes (SIGKILL) while orders are in flight",
        description=(
            "The middleware is killed outright with orders in flight at a slow venue, then started again. "
            "Every order it had acknowledged must still be known after the restart, at the venue or "
            "definitively failed; unknown outcomes must resolve, and retried orders must not duplicate."
        ),
        suite=SUITE,
        venue="middleware",
        fault_class="deployment",
        severity="blocker",
        schedule=(SLOW_VENUE, deploy("crash", at=1.0)),
        checks=DEPLOY_CHECKS,
        traders=5,
        client_retry_rate=0.3,
        recovery_s=4.0,
    ),
    Scenario(
        id="DEPLOY-BAD-RELEASE-ROLLBACK",
        title="A broken release is deployed, fails readiness and is rolled back",
        description=(
            "The release pipeline ships a build that is broken (the target file's bad-release switch). Its "
            "readiness probe must say so, so the rollout stops; the previous release is then started again "
            "and must serve within the SLO, with no acknowledged order lost."
        ),
        suite=SUITE,
        venue="middleware",
        fault_class="deployment",
        severity="critical",
        schedule=(deploy("bad_release", at=0.5),),
        checks=(*DEPLOY_CHECKS, "bad_release_caught"),
        recovery_s=4.0,
        evidence=Evidence(orders_during_faults=0),
    ),
)

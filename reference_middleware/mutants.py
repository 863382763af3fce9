"""Seeded bugs ("mutants"): each one a mistake an agency plausibly ships.

A mutant is switched on only by `REFMW_MUTANTS=name[,name]`; the correct path is the default. Each
entry says what goes wrong and which scenario or fault class should expose it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mutant:
    name: str
    description: str
    exposed_by: str


MUTANTS: tuple[Mutant, ...] = (
    Mutant(
        "no_reconnect",
        "Rithmic plants never reconnect after a drop",
        "a dropped connection or ForcedLogout: orders stay 503 after the fault clears (recovery SLO)",
    ),
    Mutant(
        "reconnect_no_resubscribe",
        "after a ticker reconnect, market data is not subscribed again",
        "a ticker-plant drop: quotes never resume on /v1/stream or in /health",
    ),
    Mutant(
        "no_reconcile",
        "no show-orders reconciliation (after a reconnect or an unknown outcome): fills made during "
        "the drop are lost",
        "the order plant cut off while a fill happens: positions differ from the venue ledger",
    ),
    Mutant(
        "retry_duplicates_order",
        "a new order whose answer times out is sent again",
        "latency on the order plant above the order timeout: the venue ledger holds the order twice",
    ),
    Mutant(
        "no_idempotency",
        "client_order_id is not checked: a repeated POST sends a new order",
        "a client retry of POST /v1/orders: the venue ledger holds the client tag twice",
    ),
    Mutant(
        "hang_when_down",
        "orders are sent without checking the venue or bounding the wait: POST hangs while it is down",
        "the Rithmic proxy down: POST /v1/orders exceeds the fast-reject bound",
    ),
    Mutant(
        "double_count_fills",
        "fills are not de-duplicated by fill id: a repeated fill notification counts twice",
        "the duplicate_fill protocol fault: the position is double the venue's",
    ),
    Mutant(
        "position_from_orders",
        "positions are summed from accepted orders, not from fills",
        "a resting (unfilled) limit order: the position shows quantity the venue never filled",
    ),
    Mutant(
        "no_watchdog",
        "no silent-gateway watchdog: a connected but mute plant is taken for healthy",
        "the silent fault on the order plant: /health stays up and orders wait for the timeout",
    ),
    Mutant(
        "webhook_no_signature",
        "Stripe webhooks are accepted without checking the signature",
        "bad_signature or tampered_body deliveries: a forged event onboards a trader",
    ),
    Mutant(
        "webhook_not_idempotent",
        "Stripe webhooks are not de-duplicated by event id",
        "a duplicate delivery: the same invoice is recorded as two payments",
    ),
    Mutant(
        "webhook_order_dependent",
        "events for a customer not yet onboarded are dropped; a subscription takes the last status delivered",
        "reordered delivery (subscription before checkout): the account never becomes active",
    ),
    Mutant(
        "tt_token_never_refreshed",
        "the TT token is fetched once and never refreshed, not even after a 401",
        "a short token lifetime or early_token_expiry: TT calls fail with 401 for good",
    ),
    Mutant(
        "tt_ignore_429",
        "TT 429 answers are retried at once, ignoring Retry-After",
        "rate_limit_storm: retries arrive faster than Retry-After allows",
    ),
    Mutant(
        "tt_first_page_only",
        "TT fills reconciliation reads one page and moves its cursor to now",
        "more than one page of TT fills: positions miss the fills past the first page",
    ),
    Mutant(
        "admin_coupled",
        "GET /v1/accounts/{id} asks Rithmic for live P&L and fails when it cannot",
        "the Rithmic proxy down: admin endpoints answer 503 instead of 200",
    ),
    Mutant(
        "reject_all_orders",
        "every POST /v1/orders is answered 503 (venue unavailable); everything else is healthy",
        "any order-flow scenario: no order reaches the venue, so the scenario is inconclusive (no evidence) "
        "or failed, never passed",
    ),
    Mutant(
        "ack_before_durable",
        "orders are acknowledged from memory: sent to the venue and answered 202, their rows written by a "
        "write-behind buffer flushed every 2 s",
        "a crash (SIGKILL) in the middle of the order flow: an acknowledged order is missing after the "
        "restart (acked_orders_durable)",
    ),
    Mutant(
        "no_graceful_drain",
        "SIGTERM exits the process at once (a handler calling os._exit): requests in flight are cut",
        "a graceful restart (SIGTERM) during the order flow: requests in flight get no answer "
        "(drained_on_shutdown)",
    ),
    Mutant(
        "no_lock_timeout",
        "no lock_timeout, statement_timeout or request bound, and an unbounded pool acquire: a request "
        "behind a held lock waits as long as the lock is held",
        "a row lock held on an account: orders hang for the lock's duration instead of being refused "
        "fast (db_bounded_answers)",
    ),
    Mutant(
        "pool_never_recovers",
        "a hand-rolled pool of connections opened at start, handed out in turn and never replaced when "
        "broken: after a Postgres restart every query fails (503) for good",
        "a Postgres restart: admin reads and orders never recover (admin_recovers)",
    ),
    Mutant(
        "unbounded_db_retry",
        "a request that meets a database error retries every 100 ms with no bound instead of answering 503",
        "the database link down for several seconds: requests hang instead of failing fast "
        "(db_bounded_answers)",
    ),
    Mutant(
        "webhook_ack_before_commit",
        "Stripe webhooks are answered 200 at once and applied in the background; an event that fails "
        "(database down) is logged and dropped",
        "webhooks delivered while the database is down: a webhook answered 200 has no effect (webhook_state)",
    ),
    Mutant(
        "health_always_ok",
        "/health says status ok and database up without asking the database",
        "the database down: /health still says ok (health_truthful)",
    ),
    Mutant(
        "health_uptime_text",
        '/health gives uptime_s as display text ("12.3 s"), not the number its spec documents',
        "the contract suite: every /health answer breaks its documented schema (contract_conformance)",
    ),
    Mutant(
        "risk_ignores_working_orders",
        "the position limit counts filled contracts only, not the rest of orders still working",
        "resting limit orders piling up: the venue holds more exposure than max_position (risk_limits_hold)",
    ),
    Mutant(
        "risk_check_unlocked",
        "the risk check reads the account without its row lock: concurrent orders each see the other's "
        "pending order missing",
        "bursts of concurrent orders at the position limit: two get past it together (risk_limits_hold)",
    ),
    Mutant(
        "order_size_off_by_one",
        "max_order_qty lets through one contract more than the limit",
        "orders sized up to the limit and beyond: an order one over max_order_qty reaches the venue "
        "(risk_limits_hold)",
    ),
    Mutant(
        "ignore_trading_status",
        "orders are taken whether or not the account may trade (a cancelled subscription changes nothing)",
        "a subscription cancelled mid-session: the trader's orders still reach the venue (risk_limits_hold)",
    ),
    Mutant(
        "loss_limit_ignores_fees",
        "the daily loss limit counts price P&L only, not the venue's fees",
        "a loss limit reached through fees as well as prices: orders go on past it (risk_limits_hold)",
    ),
    Mutant(
        "market_orders_on_stale_quotes",
        "market orders are sent however old the last quote is",
        "the market-data feed silent while orders continue: market orders priced on a frozen book reach "
        "the venue (stale_orders_refused)",
    ),
    Mutant(
        "avg_price_last_fill",
        "an order's average fill price is the price of its last fill",
        "orders filled in several pieces at different prices (thin liquidity): the average differs from "
        "the venue's (fill_prices_match)",
    ),
    Mutant(
        "cancel_marks_cancelled",
        "an order is marked cancelled as the cancel request goes out, and stays so when a fill wins the race",
        "cancels racing fills: the middleware shows cancelled an order the venue filled (cancels_consistent)",
    ),
    Mutant(
        "quote_never_stale",
        "a quote is never flagged stale: GET /v1/quotes and the stream say stale false however old it is",
        "a halted instrument or a mute market-data feed: the frozen quote is still shown as live "
        "(stale_quotes_flagged)",
    ),
    Mutant(
        "quote_bid_ask_swapped",
        "GET /v1/quotes/{symbol} answers the bid as the ask and the ask as the bid",
        "any quote held against the venue's price path: the bid is above the ask (quotes_match_venue)",
    ),
    Mutant(
        "unrealized_ignores_short_side",
        "unrealised P&L uses the position's size without its sign: a short shows the opposite sign",
        "a short position marked against the venue's price: unrealised P&L has the wrong sign "
        "(pnl_reconciles)",
    ),
    Mutant(
        "realized_pnl_gross",
        "GET /v1/accounts/{id}/pnl leaves the venue's fees out of realized_pnl (the risk check still "
        "counts them)",
        "a round trip at known prices: realised P&L differs from the fills' arithmetic by the fees "
        "(pnl_reconciles)",
    ),
    Mutant(
        "idor_order_status",
        "GET /v1/orders/{id} returns any account's order to any trader key (no object-level check)",
        "a trader key reading another account's client_order_id: 200 with that order instead of 404 "
        "(security: object-level scoping)",
    ),
    Mutant(
        "cancel_any_order",
        "DELETE /v1/orders/{id} cancels any account's working order for any trader key",
        "a trader key cancelling another account's order: 202 and the order cancelled at the venue "
        "instead of 404 (security: object-level scoping)",
    ),
    Mutant(
        "allowlist_trusts_forwarded_for",
        "the admin allowlist takes the first X-Forwarded-For address, when present, as the source",
        "the admin key from an address outside REFMW_ADMIN_ALLOW with a spoofed X-Forwarded-For: "
        "127.0.0.1: accepted instead of 403 (security: admin allowlist)",
    ),
    Mutant(
        "no_rate_limit",
        "no per-key rate limit: a key may send as fast as it likes, never 429",
        "a burst past REFMW_RATE_LIMIT_BURST on one trader key: no 429 with Retry-After "
        "(security: rate limit)",
    ),
    Mutant(
        "secret_in_log",
        "each request is logged at INFO with its headers, Authorization included, and the log is not "
        "redacted",
        "any authenticated request: the admin key or a trader key appears in the service's log "
        "(security: no credential in logs)",
    ),
    Mutant(
        "stack_trace_in_errors",
        "error answers for a malformed JSON body or an unhandled exception carry the Python traceback "
        "in a 'detail' field",
        "a POST with a malformed JSON body: the 400 shows a traceback (security: safe errors)",
    ),
    Mutant(
        "revoked_keys_accepted",
        "a revoked trader key still authenticates (an expired one is still refused)",
        "a key revoked through DELETE /v1/admin/api-keys/{id}, then used: 200 instead of 401 "
        "(security: revocation)",
    ),
    Mutant(
        "secrets_read_once",
        "REFMW_SECRETS_FILE is read once at start and never again: no poll, and SIGHUP is ignored",
        "a venue credential rotated at the mock and rewritten in the secrets file: after the grace period "
        "the next Rithmic login (a ForcedLogout) is refused as revoked and orders stay 503 "
        "(credential rotation)",
    ),
    Mutant(
        "cqg_decimal_exponent_ignored",
        "CQG quantities are read from the Decimal's significand alone, its exponent ignored",
        "CQG statuses writing 2 contracts as 200e-2 (scaled_decimals): positions 100 times the venue's "
        "(CQG: Decimal quantities)",
    ),
    Mutant(
        "cqg_snapshot_not_reconciled",
        "after a CQG reconnect the trade snapshot is not reconciled with the database",
        "fills made at CQG while the session was down (held fills, then a drop): lost (CQG: reconnect)",
    ),
    Mutant(
        "cqg_restore_never",
        "after a CQG drop the session is never restored by its token: every reconnect is a full logon",
        "a drop while CQG refuses logons (104): no trading until logons work again, though the session "
        "could have been restored at once (CQG: restore-or-join)",
    ),
    Mutant(
        "cqg_no_ping_watchdog",
        "the CQG session has no pong deadline: a gateway that stops answering is taken for healthy",
        "a mute CQG gateway: orders wait for answers that never come instead of a fast 503 (CQG: heartbeats)",
    ),
    # the funded trader's lifecycle (lifecycle/); each case: tests/reference_middleware/lifecycle/
    Mutant(
        "balance_retry_blind",
        "an MT5 deposit or payout withdrawal whose answer was lost is sent again without looking its deal "
        "up by comment",
        "MT5 answer_lost on /api/trade/balance during provisioning: the trader's deposit is booked twice",
    ),
    Mutant(
        "trading_before_signature",
        "a funded trader may trade as soon as the checkout is paid, before the DocuSign contract is signed",
        "a funded checkout with the contract still out for signature: the account's trading is enabled",
    ),
    Mutant(
        "docusign_hmac_unchecked",
        "DocuSign Connect events are trusted without checking their X-DocuSign-Signature HMAC",
        "a forged envelope-completed event: answered 200, and the trader is provisioned and may trade",
    ),
    Mutant(
        "rippling_create_blind",
        "the Rippling worker is created without a lookup first, and created again after a timeout or a 5xx",
        "a Rippling answer slower than the client timeout on POST /workers: two workers for one trader",
    ),
    Mutant(
        "zap_replay_provisions_twice",
        "every envelope the Zap reports is kept (a duplicate is not voided), and each signed one provisions "
        "the trader again",
        "a replayed Zap run whose second envelope is signed: a second MT5 user, deposit and Rippling worker",
    ),
    Mutant(
        "docusign_no_poll",
        "envelopes are never polled: the middleware relies on Connect events alone",
        "an envelope-completed event never delivered (never_delivered): the signed trader is never "
        "provisioned",
    ),
)

BY_NAME = {m.name: m for m in MUTANTS}


def parse(raw: str) -> frozenset[str]:
    """`name[,name]` -> the set of names; an unknown name is an error that lists the known ones."""
    names = frozenset(n.strip() for n in raw.split(",") if n.strip())
    unknown = sorted(names - set(BY_NAME))
    if unknown:
        raise ValueError(f"unknown mutant {unknown[0]!r}; known: {', '.join(BY_NAME)}")
    return names


def listing() -> str:
    return "\n".join(f"{m.name}: {m.description} (exposed by: {m.exposed_by})" for m in MUTANTS)

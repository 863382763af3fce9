"""Which scenarios kill which reference-middleware mutant, and through which checker.

Each mutant documents the fault class that exposes it (`python -m reference_middleware --list-mutants`);
its entry here names the scenario(s) of that class and the checker(s) whose failure means "killed for
the right reason". The mutant matrix (tests/scenarios/test_mutant_matrix.py, `make mutants`) runs each
mutant against only its scenarios."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kill:
    scenarios: tuple[str, ...]  # any one of them failing with an expected checker kills the mutant
    checks: tuple[str, ...]  # the checkers that match the mutant's documented class
    # killed by starving the run of evidence: the scenario ends inconclusive (or failed), never passed
    inconclusive: bool = False
    # the cause the failed check's diagnosis must name (harness.diagnosis): "" where it is not judged
    cause: str = ""


MUTANT_KILLS: dict[str, Kill] = {
    "no_reconnect": Kill(("RITHMIC-FORCED-LOGOUT",), ("recovery_slo",)),
    "reconnect_no_resubscribe": Kill(("RITHMIC-TICKER-DROP",), ("quotes_resume",)),
    "no_reconcile": Kill(("RITHMIC-FILLS-HELD-ACROSS-RECONNECT",), ("no_lost_fill", "positions_reconcile")),
    "retry_duplicates_order": Kill(("LATENCY-ORDER-TIMEOUT-RETRY",), ("no_duplicate_order",)),
    "no_idempotency": Kill(("LATENCY-ORDER-PATH-SPIKE",), ("no_duplicate_order",)),
    "hang_when_down": Kill(("RITHMIC-ORDER-PLANT-DROP",), ("fast_fail",)),
    "double_count_fills": Kill(("RITHMIC-DUPLICATE-FILL",), ("positions_reconcile", "db_reconcile")),
    "position_from_orders": Kill(("EXEC-RESTING-LIMIT-ORDERS",), ("positions_reconcile", "db_reconcile")),
    "no_watchdog": Kill(("RITHMIC-SILENT-GATEWAY",), ("fast_fail",)),
    "webhook_no_signature": Kill(("WEBHOOK-BAD-SIGNATURE",), ("webhook_authentic",)),
    "webhook_not_idempotent": Kill(("WEBHOOK-DUPLICATE",), ("webhook_exactly_once",)),
    "webhook_order_dependent": Kill(("WEBHOOK-REORDER",), ("webhook_state",)),
    "tt_token_never_refreshed": Kill(("TT-TOKEN-EXPIRY",), ("tt_provisioned",)),
    "tt_ignore_429": Kill(("TT-429-STORM",), ("tt_rate_limit_honoured",)),
    "tt_first_page_only": Kill(("TT-FILLS-PAGED",), ("tt_positions_reconcile",)),
    "admin_coupled": Kill(("RITHMIC-ORDER-PLANT-DROP",), ("admin_separation",)),
    # CQG: each held against the CQG mock's ledger
    "cqg_decimal_exponent_ignored": Kill(("CQG-SCALED-DECIMALS",), ("positions_reconcile", "db_reconcile")),
    "cqg_snapshot_not_reconciled": Kill(
        ("CQG-FILLS-HELD-ACROSS-RECONNECT",), ("no_lost_fill", "positions_reconcile")
    ),
    "cqg_no_ping_watchdog": Kill(("CQG-SILENT-GATEWAY",), ("fast_fail",)),
    "cqg_restore_never": Kill(("CQG-LOGONS-REFUSED-SESSION-RESTORED",), ("trading_resumes",)),
    # Every order refused (503): nothing reaches the venue, so the order checks have nothing to judge.
    # tests/scenarios/test_reject_all_orders.py holds it against every order-flow scenario.
    "reject_all_orders": Kill(("RITHMIC-DUPLICATE-FILL",), (), inconclusive=True),
    # The admin state under fire: each killed by the check that names its cause, and diagnosed so.
    "ack_before_durable": Kill(("DEPLOY-CRASH-MID-ORDER",), ("acked_orders_durable",), cause="deployment"),
    "no_graceful_drain": Kill(("DEPLOY-GRACEFUL-RESTART",), ("drained_on_shutdown",), cause="deployment"),
    "no_lock_timeout": Kill(("DB-ROW-LOCK-ACCOUNTS",), ("db_bounded_answers",), cause="database lock"),
    "pool_never_recovers": Kill(("DB-POSTGRES-RESTART",), ("admin_recovers",), cause="database unavailable"),
    "unbounded_db_retry": Kill(("DB-LINK-DOWN",), ("db_bounded_answers",), cause="database unavailable"),
    "webhook_ack_before_commit": Kill(
        ("DB-WEBHOOKS-DURING-OUTAGE",), ("webhook_state",), cause="database unavailable"
    ),
    "health_always_ok": Kill(("DB-LINK-DOWN",), ("health_truthful",), cause="database unavailable"),
    "health_uptime_text": Kill(("CONTRACT-OPENAPI",), ("contract_conformance",)),
    # Risk: each found by replaying the venue's ledger against the scenario's limits.
    "risk_ignores_working_orders": Kill(("RISK-WORKING-ORDERS-COUNT",), ("risk_limits_hold",)),
    "risk_check_unlocked": Kill(("RISK-CONCURRENT-ORDERS-RACE",), ("risk_limits_hold",)),
    "order_size_off_by_one": Kill(("RISK-LIMITS-NORMAL-FLOW",), ("risk_limits_hold",)),
    "ignore_trading_status": Kill(("RISK-SUBSCRIPTION-CANCELLED",), ("risk_limits_hold",)),
    "loss_limit_ignores_fees": Kill(("RISK-FEES-REACH-LOSS-LIMIT",), ("risk_limits_hold",)),
    "market_orders_on_stale_quotes": Kill(("RISK-STALE-FEED-MARKET-ORDERS",), ("stale_orders_refused",)),
    "avg_price_last_fill": Kill(("RISK-THIN-LIQUIDITY-PARTIAL-FILLS",), ("fill_prices_match",)),
    "cancel_marks_cancelled": Kill(("RISK-CANCEL-RACING-FILL",), ("cancels_consistent",)),
    # Prices: what the middleware shows, held against the venue's price path and fills.
    "quote_never_stale": Kill(("RISK-STALE-QUOTES-FLAGGED",), ("stale_quotes_flagged",)),
    "quote_bid_ask_swapped": Kill(("RISK-QUOTES-AND-PNL-ON-TREND",), ("quotes_match_venue",)),
    "unrealized_ignores_short_side": Kill(("RISK-QUOTES-AND-PNL-ON-TREND",), ("pnl_reconciles",)),
    "realized_pnl_gross": Kill(("RISK-QUOTES-AND-PNL-ON-TREND",), ("pnl_reconciles",)),
    # Security: each found by the probe group that asks its question, or by the secrets sweep.
    "idor_order_status": Kill(("SECURITY-OBJECT-ACCESS",), ("object_access_scoped",)),
    "cancel_any_order": Kill(("SECURITY-OBJECT-ACCESS",), ("object_access_scoped",)),
    "allowlist_trusts_forwarded_for": Kill(("SECURITY-ADMIN-ALLOWLIST",), ("admin_allowlist_holds",)),
    "no_rate_limit": Kill(("SECURITY-FLOOD",), ("flood_rate_limited",)),
    "secret_in_log": Kill(("SECURITY-AUTHENTICATION",), ("secrets_not_leaked",)),
    "stack_trace_in_errors": Kill(("SECURITY-ERROR-BODIES",), ("errors_without_internals",)),
    "revoked_keys_accepted": Kill(("SECURITY-AUTHENTICATION",), ("auth_required",)),
    "secrets_read_once": Kill(("SECURITY-CREDENTIAL-ROTATION",), ("credentials_rotated",)),
    # The lifecycle: each held against the records every system of the chain keeps of the trader.
    "balance_retry_blind": Kill(
        ("LIFECYCLE-MT5-DEPOSIT-ANSWER-LOST",), ("lifecycle_no_double_deal", "lifecycle_balances")
    ),
    "trading_before_signature": Kill(
        ("LIFECYCLE-ONBOARD-AND-PAY-OUT",), ("lifecycle_no_trading_before_signature",)
    ),
    "docusign_hmac_unchecked": Kill(
        ("LIFECYCLE-CONNECT-FORGED",), ("lifecycle_no_trading_before_signature",)
    ),
    "rippling_create_blind": Kill(("LIFECYCLE-RIPPLING-SLOW-CREATE",), ("lifecycle_provisioned_once",)),
    "zap_replay_provisions_twice": Kill(
        ("LIFECYCLE-ZAP-REPLAYED",), ("lifecycle_provisioned_once", "lifecycle_no_double_deal")
    ),
    "docusign_no_poll": Kill(("LIFECYCLE-CONNECT-EVENT-LOST",), ("lifecycle_provisioned_once",)),
}

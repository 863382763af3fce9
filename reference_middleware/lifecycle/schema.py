"""The lifecycle's tables (db.py runs this as migration 7).

`lifecycle` is one funded trader's chain, one row per Stripe customer, each hop's outcome recorded
before the next hop starts: notified (the automation bus took it), the contract, each provisioning
step, cancellation. `contracts` holds every envelope the Zap reported (a replay reports a second one,
which is voided). `mt5_logins` reserves a login before user/add is sent, so an unknown outcome is
resolved by looking that login up. `payouts` is idempotent by the caller's payout id.
"""

MIGRATION = """
CREATE TABLE lifecycle (
    customer_id TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    deposit NUMERIC(16, 2),
    checkout_session TEXT NOT NULL,
    notified_at TIMESTAMPTZ,
    notify_attempts INTEGER NOT NULL DEFAULT 0,
    next_notify_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    envelope_id TEXT,
    contract_status TEXT,
    signed_at TIMESTAMPTZ,
    round INTEGER NOT NULL DEFAULT 1,
    mt5_login BIGINT,
    mt5_user_at TIMESTAMPTZ,
    trading_at TIMESTAMPTZ,
    deposit_sent_at TIMESTAMPTZ,
    deposit_deal BIGINT,
    worker_sent_at TIMESTAMPTZ,
    rippling_worker_id TEXT,
    provisioned_at TIMESTAMPTZ,
    cancelled_at TIMESTAMPTZ,
    mt5_disabled_at TIMESTAMPTZ,
    worker_terminated_at TIMESTAMPTZ,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_error TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE contracts (
    envelope_id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES lifecycle(customer_id),
    status TEXT NOT NULL,
    duplicate BOOLEAN NOT NULL DEFAULT FALSE,
    void_pending BOOLEAN NOT NULL DEFAULT FALSE,
    provisioned_round INTEGER,
    signed_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX contracts_customer ON contracts(customer_id);
CREATE TABLE mt5_logins (
    login BIGINT PRIMARY KEY,
    customer_id TEXT,
    round INTEGER,
    taken_elsewhere BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE payouts (
    payout_id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES lifecycle(customer_id),
    amount NUMERIC(16, 2) NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    mt5_sent_at TIMESTAMPTZ,
    mt5_deal BIGINT,
    pay_item_sent_at TIMESTAMPTZ,
    rippling_pay_item TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_error TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX payouts_customer ON payouts(customer_id);
"""

'use strict';

// Postgres: a node-postgres pool, and the schema migrations applied at start (each once, in
// order, under an advisory lock so two instances starting together do not race).

const { Pool } = require('pg');
const { logger } = require('./log');

const log = logger('db');

const MIGRATIONS = [
  // 001: customers, their trading accounts, billing
  `
  CREATE TABLE customers (
    id TEXT PRIMARY KEY,                       -- Stripe customer id
    email TEXT,
    full_name TEXT,
    country TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
  );
  CREATE TABLE trading_accounts (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    rithmic_account TEXT,
    tt_account_id BIGINT,
    tt_status TEXT NOT NULL DEFAULT 'pending',  -- pending | retrying | provisioned
    tt_last_error TEXT,
    tt_attempts INTEGER NOT NULL DEFAULT 0,
    trading_enabled BOOLEAN NOT NULL DEFAULT FALSE,
    max_order_qty INTEGER NOT NULL,
    max_position INTEGER NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
  );
  CREATE INDEX trading_accounts_customer ON trading_accounts(customer_id);
  CREATE TABLE subscriptions (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    status TEXT NOT NULL,
    event_created BIGINT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
  );
  CREATE INDEX subscriptions_customer ON subscriptions(customer_id);
  CREATE TABLE payments (
    invoice_id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    event_id TEXT NOT NULL,
    amount_cents INTEGER NOT NULL,
    currency TEXT NOT NULL DEFAULT 'usd',
    status TEXT NOT NULL,                      -- paid | failed
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
  );
  CREATE TABLE stripe_events (
    event_id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    created BIGINT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL DEFAULT now()
  );
  CREATE TABLE audit_log (
    id BIGSERIAL PRIMARY KEY,
    at TIMESTAMPTZ NOT NULL DEFAULT now(),
    kind TEXT NOT NULL,
    ref TEXT,
    detail JSONB NOT NULL DEFAULT '{}'::jsonb
  );
  CREATE INDEX audit_log_kind_ref ON audit_log(kind, ref);
  `,
  // 002: orders and fills
  `
  CREATE TABLE orders (
    id BIGSERIAL PRIMARY KEY,
    client_ref TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL REFERENCES trading_accounts(id),
    venue TEXT NOT NULL DEFAULT 'rithmic',
    venue_account TEXT,
    instrument TEXT NOT NULL,
    exchange TEXT NOT NULL,
    direction TEXT NOT NULL,                   -- buy | sell
    quantity INTEGER NOT NULL,
    order_type TEXT NOT NULL,                  -- market | limit
    limit_price DOUBLE PRECISION,
    status TEXT NOT NULL,
    reject_reason TEXT,
    venue_order_id TEXT,                       -- Rithmic basket id
    filled_quantity INTEGER NOT NULL DEFAULT 0,
    avg_fill_price DOUBLE PRECISION,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
  );
  CREATE INDEX orders_account ON orders(account_id);
  CREATE INDEX orders_venue_order ON orders(venue_order_id) WHERE venue_order_id IS NOT NULL;
  CREATE INDEX orders_open ON orders(status) WHERE status IN ('NEW', 'UNKNOWN');
  CREATE TABLE fills (
    id BIGSERIAL PRIMARY KEY,
    venue TEXT NOT NULL,
    venue_fill_id TEXT NOT NULL,
    order_id BIGINT REFERENCES orders(id),     -- null for fills read back from TT's ledger
    account_id TEXT NOT NULL REFERENCES trading_accounts(id),
    instrument TEXT NOT NULL,
    exchange TEXT NOT NULL,
    direction TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    price DOUBLE PRECISION NOT NULL,
    source TEXT NOT NULL,                      -- live | reconcile | tt_ledger
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
  );
  CREATE INDEX fills_venue_fill ON fills(venue, venue_fill_id);
  CREATE INDEX fills_account ON fills(account_id);
  CREATE INDEX fills_order ON fills(order_id);
  CREATE TABLE sync_cursors (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
  );
  `,
];

function createPool(connectionString) {
  const pool = new Pool({
    connectionString,
    max: 20,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 5_000,
    statement_timeout: 10_000,
    application_name: 'dma-gateway',
  });
  pool.on('error', (err) => log.warn('idle client error', { err }));
  return pool;
}

async function waitForDatabase(pool, { attempts = 50, delayMs = 200 } = {}) {
  let last;
  for (let i = 0; i < attempts; i += 1) {
    try {
      await pool.query('SELECT 1');
      return;
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, delayMs));
    }
  }
  throw new Error(`Postgres not reachable: ${last && last.message}`);
}

async function migrate(pool) {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(424242)');
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())');
    const { rows } = await client.query('SELECT version FROM schema_migrations');
    const done = new Set(rows.map((r) => r.version));
    for (let i = 0; i < MIGRATIONS.length; i += 1) {
      const version = i + 1;
      if (done.has(version)) continue;
      await client.query(MIGRATIONS[i]);
      await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [version]);
      log.info('migration applied', { version });
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
  return MIGRATIONS.length;
}

// Run fn(client) inside a transaction; rolls back on any error.
async function tx(pool, fn) {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

async function audit(db, kind, ref, detail = {}) {
  await db.query('INSERT INTO audit_log (kind, ref, detail) VALUES ($1, $2, $3)', [kind, ref, JSON.stringify(detail)]);
}

module.exports = { createPool, waitForDatabase, migrate, tx, audit };

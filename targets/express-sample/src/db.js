'use strict';

// Postgres: a node-postgres pool with every wait bounded, and the schema migrations applied at
// start (each once, in order, under an advisory lock so two instances starting together do not race).

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

// Every wait on the database is bounded. Each connection sets its own statement_timeout,
// lock_timeout and idle_in_transaction_session_timeout (so a lock held elsewhere or a runaway
// statement ends in an error, not a wait, whatever the server's defaults), and query_timeout
// bounds a query on the client side too (a black-holed link never answers, so the server's
// timeouts cannot reach us). A connection whose query timed out or whose socket failed is
// destroyed, never handed out again; node-postgres drops idle ones Postgres closed (a restart)
// and opens new ones on demand, so the pool recovers by itself.

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The database did not answer, or answered that it cannot serve now: a fast 503, retried later. */
class DatabaseUnavailable extends Error {
  constructor(message, { cause, sqlstate } = {}) {
    super(message);
    if (cause) this.cause = cause;
    this.sqlstate = sqlstate || null;
  }
}

// SQLSTATE classes that say "not now" rather than "your query is wrong": connection exceptions,
// invalid transaction state (a session ended by a timeout), rollbacks (deadlock, serialization),
// insufficient resources (too many connections), object not in prerequisite state (lock_timeout),
// operator intervention (statement_timeout, admin shutdown, starting up), system errors.
const TRANSIENT_CLASSES = new Set(['08', '25', '40', '53', '55', '57', '58', 'XX']);

// node-postgres's own messages for a query or connection that failed on our side of the link
const PG_CLIENT_FAILURES =
  /^(Query read timeout|Connection terminated|timeout exceeded when trying to connect|Client (has encountered a connection error|was closed) and is not queryable|Cannot use a pool after calling end)/;

/** A database error that means the database is unavailable (as opposed to a bug of ours). */
function isUnavailable(err) {
  if (!err) return false;
  if (err instanceof DatabaseUnavailable) return true;
  const code = typeof err.code === 'string' ? err.code : '';
  if (/^[0-9A-Z]{5}$/.test(code)) return TRANSIENT_CLASSES.has(code.slice(0, 2));
  // socket errors (ECONNREFUSED, ECONNRESET, ...), and node-postgres's own client-side failures
  if (err.syscall && /^E[A-Z]+$/.test(code)) return true;
  return PG_CLIENT_FAILURES.test(String(err.message));
}

/** What a 503 says about a database error: its kind, in our words (never its text, which can carry a query). */
function describe(err) {
  if (err instanceof DatabaseUnavailable) return err.message;
  const code = typeof err.code === 'string' ? err.code : '';
  if (code === '55P03') return 'a database lock is held elsewhere (lock_timeout)';
  if (code === '57014') return 'the database cancelled the statement (statement_timeout)';
  if (code === '25P03') return 'the database ended an idle transaction';
  if (code.startsWith('53')) return 'the database has no connection to spare';
  if (code.startsWith('57P')) return 'the database is restarting or shutting down';
  if (/^[0-9A-Z]{5}$/.test(code)) return `database error ${code}`;
  if (/timeout/i.test(String(err.message))) return 'the database did not answer in time';
  return 'the database is unreachable';
}

/** Whether `client`'s connection is unusable after `err`: a socket or client-side failure (a query
 * timed out with its answer still due), or the server ending the session. A lock_timeout or a
 * statement_timeout leaves the connection fine: a ROLLBACK and it is reused. */
function connectionLost(client, err) {
  if (client && client._queryable === false) return true;
  const code = String((err && err.code) || '');
  if (!/^[0-9A-Z]{5}$/.test(code)) return isUnavailable(err); // not Postgres's: lost if the link's
  return code.startsWith('08') || code.startsWith('57P') || code === '25P03';
}

/** `err` as DatabaseUnavailable when it is one (its cause kept for the log), else unchanged. */
function asUnavailable(err) {
  if (err instanceof DatabaseUnavailable || !isUnavailable(err)) return err;
  return new DatabaseUnavailable(describe(err), { cause: err, sqlstate: err.code });
}

/** `promise`'s result, or DatabaseUnavailable once `ms` pass (the work itself is left to its own bounds). */
function within(ms, promise, what = 'the database did not answer in time') {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new DatabaseUnavailable(`${what} (${ms} ms)`)), ms);
  });
  promise.catch(() => {}); // given up on, it still settles: its error is expected, not news
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** The database time one request may spend across its queries. A late phase still gets `floorMs`. */
class Budget {
  constructor(ms, floorMs = 250) {
    this.until = Date.now() + ms;
    this.floorMs = floorMs;
  }

  remaining() {
    return Math.max(this.until - Date.now(), this.floorMs);
  }

  run(promise) {
    return within(this.remaining(), promise);
  }
}

function createPool(cfg) {
  const pool = new Pool({
    connectionString: cfg.url,
    max: cfg.poolMax,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: cfg.connectTimeoutMs, // waiting for a free client, or for a new connection
    query_timeout: cfg.queryTimeoutMs,
    statement_timeout: cfg.statementTimeoutMs,
    lock_timeout: cfg.lockTimeoutMs,
    idle_in_transaction_session_timeout: cfg.idleInTransactionTimeoutMs,
    application_name: 'dma-gateway',
  });
  // An idle client whose connection dies (a Postgres restart, a reset link) is removed by the pool,
  // which then emits 'error': without this listener, the process would crash.
  pool.on('error', (err) => throttled.warn('idle database connection lost', err));
  // A checked-out client emits 'error' too when its socket dies mid-query (the query fails as well,
  // and the client is then destroyed on release): without a listener of its own, a crash.
  pool.on('connect', (client) => {
    client.on('error', (err) => throttled.warn('database connection lost', err));
  });
  return new Database(pool, cfg);
}

/** One warning a second at most: an outage under load fails thousands of queries. */
const throttled = {
  last: 0,
  quiet: 0,
  warn(what, err) {
    const now = Date.now();
    if (now - this.last < 1000) {
      this.quiet += 1;
      return;
    }
    const more = this.quiet ? { suppressed: this.quiet } : {};
    log.warn(what, { err: err && (err.code ? `${err.code}: ${err.message}` : err.message), ...more });
    this.last = now;
    this.quiet = 0;
  },
};

/** The pool, with database errors that mean "unavailable" raised as DatabaseUnavailable. */
class Database {
  constructor(pool, cfg) {
    this.pool = pool;
    this.cfg = cfg;
  }

  async query(text, values) {
    try {
      return await this.pool.query(text, values);
    } catch (err) {
      throw asUnavailable(err);
    }
  }

  /** A client of the pool within `ms` (else DatabaseUnavailable); the caller releases it. */
  async connect(ms = this.cfg.connectTimeoutMs) {
    const pending = this.pool.connect();
    try {
      return await within(ms, pending, 'no database connection free in time');
    } catch (err) {
      pending.then((client) => client.release(), () => {}); // came too late: back to the pool
      throw asUnavailable(err);
    }
  }

  async end(ms = 2000) {
    await within(ms, this.pool.end()).catch(() => {});
  }
}

async function waitForDatabase(db, { attempts = 50, delayMs = 200 } = {}) {
  let last;
  for (let i = 0; i < attempts; i += 1) {
    try {
      await db.query('SELECT 1');
      return;
    } catch (err) {
      last = err;
      await sleep(delayMs);
    }
  }
  throw new Error(`Postgres not reachable: ${last && last.message}`);
}

async function migrate(db) {
  const client = await db.pool.connect();
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

/**
 * Run fn(client) inside a transaction; rolls back on any error. With `budget`, the whole
 * transaction must end within it: when it runs out the connection is destroyed (Postgres rolls
 * back whatever was not committed) and DatabaseUnavailable is thrown. A client whose connection
 * failed or timed out is destroyed on release, never handed out again.
 */
async function tx(db, fn, { budget = null } = {}) {
  const client = await db.connect(budget ? budget.remaining() : undefined);
  let expired = false;
  let broken = false;
  const timer = budget
    ? setTimeout(() => {
        expired = true;
        client.end().catch(() => {}); // an active query is cut at once: the socket is destroyed
      }, budget.remaining())
    : null;
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    broken = expired || connectionLost(client, err);
    if (!broken) await client.query('ROLLBACK').catch(() => (broken = true));
    if (expired) throw new DatabaseUnavailable('the database did not answer in time', { cause: err });
    throw asUnavailable(err);
  } finally {
    clearTimeout(timer);
    // release(err) removes the client from the pool and closes it
    client.release(broken ? new Error('connection dropped after a database failure') : undefined);
  }
}

async function audit(db, kind, ref, detail = {}) {
  await db.query('INSERT INTO audit_log (kind, ref, detail) VALUES ($1, $2, $3)', [kind, ref, JSON.stringify(detail)]);
}

module.exports = {
  createPool,
  waitForDatabase,
  migrate,
  tx,
  audit,
  Budget,
  within,
  DatabaseUnavailable,
  isUnavailable,
  asUnavailable,
  describe,
  throttled,
};

'use strict';

// Configuration comes from the environment (12-factor), and the rotating venue credentials also
// from SECRETS_FILE when it is set (secrets.js); a missing or malformed variable, or an unusable
// SECRETS_FILE, stops the process at start with a message naming it.

const path = require('node:path');
const { parseBugs } = require('./bugs');
const { SecretStore, SecretsFileError, ROTATING } = require('./secrets');

class ConfigError extends Error {}

function required(env, name) {
  const value = env[name];
  if (value === undefined || value === '') throw new ConfigError(`${name} is required`);
  return value;
}

function number(env, name, fallback, { min = 0 } = {}) {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) {
    throw new ConfigError(`${name} must be a number >= ${min}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

// Instruments we route, and the exchange each trades on. Rithmic wants both on every order.
const DEFAULT_INSTRUMENTS = 'ESZ6:CME,NQZ6:CME,CLF7:NYMEX,GCG7:COMEX';

function instruments(raw) {
  const out = new Map();
  for (const item of raw.split(',')) {
    const [symbol, exchange] = item.trim().split(':');
    if (!symbol || !exchange) throw new ConfigError(`INSTRUMENTS items must be SYMBOL:EXCHANGE, got ${JSON.stringify(item)}`);
    out.set(symbol, exchange);
  }
  return out;
}

function load(env = process.env) {
  let bugs;
  try {
    bugs = parseBugs(env.EXPRESS_BUGS || '');
  } catch (err) {
    throw new ConfigError(`EXPRESS_BUGS: ${err.message}`);
  }
  let secrets;
  try {
    secrets = new SecretStore(env, env.SECRETS_FILE || '');
  } catch (err) {
    if (err instanceof SecretsFileError) throw new ConfigError(err.message);
    throw err;
  }
  for (const name of ROTATING) {
    if (secrets.get(name) === undefined) throw new ConfigError(`${name} is required (in the environment or SECRETS_FILE)`);
  }
  const root = path.resolve(__dirname, '..');
  return Object.freeze({
    port: number(env, 'PORT', 8080, { min: 1 }),
    host: env.HOST || '127.0.0.1',
    // Every wait on Postgres is bounded (see db.js): under a database fault, a request gets a fast
    // 503 rather than waiting on a lock, a full pool or a link that never answers.
    db: Object.freeze({
      url: required(env, 'DATABASE_URL'),
      poolMax: number(env, 'DB_POOL_MAX', 20, { min: 1 }),
      connectTimeoutMs: number(env, 'DB_CONNECT_TIMEOUT_MS', 2000, { min: 1 }),
      statementTimeoutMs: number(env, 'DB_STATEMENT_TIMEOUT_MS', 2000, { min: 1 }),
      lockTimeoutMs: number(env, 'DB_LOCK_TIMEOUT_MS', 1000, { min: 1 }),
      idleInTransactionTimeoutMs: number(env, 'DB_IDLE_IN_TRANSACTION_TIMEOUT_MS', 10_000, { min: 1 }),
      // client side, past the server's statement_timeout: a link that carries nothing back
      queryTimeoutMs: number(env, 'DB_QUERY_TIMEOUT_MS', 3000, { min: 1 }),
      // one request's database time across its queries (an order's: before the venue, and after)
      requestBudgetMs: number(env, 'DB_REQUEST_BUDGET_MS', 2000, { min: 1 }),
      healthTimeoutMs: number(env, 'DB_HEALTH_TIMEOUT_MS', 1000, { min: 1 }),
    }),
    // a graceful stop (SIGTERM) lets the requests in flight finish for at most this long
    drainMs: number(env, 'SHUTDOWN_DRAIN_MS', 10_000, { min: 0 }),
    // the release pipeline's canary switch: a build that must fail its readiness probe (/healthz 503)
    badRelease: ['1', 'true', 'yes'].includes(String(env.BAD_RELEASE || '').toLowerCase()),
    rithmic: Object.freeze({
      url: required(env, 'RITHMIC_WS_URL'),
      systemName: env.RITHMIC_SYSTEM_NAME || 'Rithmic Test',
      user: required(env, 'RITHMIC_USER'),
      // a getter, read at each login: after a reload (SIGHUP) the next login uses the new password
      get password() {
        return secrets.get('RITHMIC_PASSWORD');
      },
      appName: 'dma-gateway',
      appVersion: '2.4.0',
      schemaFile: env.RITHMIC_SCHEMA_FILE || path.join(root, 'generated', 'rithmic-descriptor.pb'),
      schemaPython: env.RITHMIC_SCHEMA_PYTHON || '',
      requestTimeoutMs: number(env, 'RITHMIC_REQUEST_TIMEOUT_MS', 3000, { min: 1 }),
      loginTimeoutMs: number(env, 'RITHMIC_LOGIN_TIMEOUT_MS', 2500, { min: 1 }),
      orderTimeoutMs: number(env, 'ORDER_TIMEOUT_MS', 3000, { min: 1 }),
      // a plant that sends nothing for this long is declared dead and its socket dropped
      watchdogMs: number(env, 'RITHMIC_WATCHDOG_MS', 3500, { min: 500 }),
      reconnectBaseMs: number(env, 'RITHMIC_RECONNECT_BASE_MS', 250, { min: 1 }),
      reconnectMaxMs: number(env, 'RITHMIC_RECONNECT_MAX_MS', 1000, { min: 1 }),
    }),
    tt: Object.freeze({
      baseUrl: required(env, 'TT_API_BASE').replace(/\/+$/, ''),
      env: env.TT_ENV || 'ext_uat_cert',
      appKey: required(env, 'TT_APP_KEY'),
      // read at each token request: after a reload, the next one uses the new secret
      get appSecret() {
        return secrets.get('TT_APP_SECRET');
      },
      timeoutMs: number(env, 'TT_TIMEOUT_MS', 5000, { min: 1 }),
      maxRps: number(env, 'TT_MAX_RPS', 2, { min: 0.1 }), // the UAT plan allows 3/s; leave headroom
      fillsPollMs: number(env, 'TT_FILLS_POLL_MS', 2000, { min: 100 }),
    }),
    // comma-separated: the current secret first; an old one may follow during a rotation. Read at
    // each verification: after a reload, every delivery is checked against the new value.
    get stripeWebhookSecrets() {
      return secrets.get('STRIPE_WEBHOOK_SECRET').split(',').filter(Boolean);
    },
    // the rotating credentials above, re-read from SECRETS_FILE on SIGHUP (server.js)
    secrets,
    instruments: instruments(env.INSTRUMENTS || DEFAULT_INSTRUMENTS),
    risk: Object.freeze({
      maxOrderQty: number(env, 'DEFAULT_MAX_ORDER_QTY', 25, { min: 1 }),
      maxPosition: number(env, 'DEFAULT_MAX_POSITION', 50, { min: 1 }),
    }),
    streamQuoteIntervalMs: number(env, 'STREAM_QUOTE_INTERVAL_MS', 1000, { min: 10 }),
    // the service key every /api/v2 call must carry (Authorization: Bearer); unset: the API is open
    apiKey: env.API_KEY || '',
    // a token bucket per trading account (and ten times this per key): see auth.js
    rateLimit: Object.freeze({
      rps: number(env, 'API_RATE_LIMIT_RPS', 50, { min: 0.1 }),
      burst: number(env, 'API_RATE_LIMIT_BURST', 100, { min: 1 }),
    }),
    bugs,
    logLevel: env.LOG_LEVEL || 'info',
  });
}

module.exports = { load, ConfigError };

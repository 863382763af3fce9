'use strict';

// Entry point: configuration, Postgres (migrated), Rithmic and TT, then the HTTP server; and a
// graceful stop on SIGTERM: stop accepting, let the requests in flight get their answers (within
// SHUTDOWN_DRAIN_MS), then close the venue sessions and the pool. SIGHUP re-reads the rotating
// venue credentials from SECRETS_FILE (secrets.js).

const http = require('node:http');
const net = require('node:net');
const config = require('./config');
const { logger, setLevel } = require('./log');
const { createPool, waitForDatabase, migrate } = require('./db');
const { loadSchema } = require('./rithmic/schema');
const { RithmicGateway } = require('./rithmic');
const { TTClient } = require('./tt');
const { AccountService } = require('./accounts');
const { OrderService } = require('./orders');
const { StripeWebhookHandler } = require('./webhooks');
const { createApp } = require('./app');
const { StreamHub } = require('./stream');
const { BUGS } = require('./bugs');
const { keyCheck } = require('./auth');
const { reloadSecrets } = require('./secrets');

const log = logger('server');
const FIRST_LOGIN_WAIT_MS = 5000;
// after the last request in flight, this long with no new one before the kept-alive connections
// are closed: a request already on its way on one of them is still answered
const DRAIN_QUIET_MS = 200;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** What a graceful stop needs to know: whether it has begun, and the requests in flight. */
class Lifecycle {
  constructor() {
    this._stopping = false;
    this.inFlight = new Set();
    this.lastActivity = Date.now();
  }

  stopping() {
    return this._stopping;
  }

  track(res) {
    this.inFlight.add(res);
    this.lastActivity = Date.now();
    res.once('close', () => {
      this.inFlight.delete(res);
      this.lastActivity = Date.now();
    });
  }

  /** Begin a stop: the answers still to come close their connections. */
  beginStop() {
    this._stopping = true;
    for (const res of this.inFlight) {
      if (!res.headersSent) res.setHeader('Connection', 'close');
    }
  }

  async drained(deadline) {
    while (Date.now() < deadline && (this.inFlight.size > 0 || Date.now() - this.lastActivity < DRAIN_QUIET_MS)) {
      await sleep(20);
    }
    return this.inFlight.size;
  }
}

// A signal before the service is up stops it at once; after, the graceful stop below.
let onSignal = (signal) => {
  log.info('stopped before serving', { signal });
  process.exit(0);
};
process.on('SIGTERM', () => onSignal('SIGTERM'));
process.on('SIGINT', () => onSignal('SIGINT'));
// Node's default for SIGHUP ends the process: a handler at once, the reload once the configuration
// is read (synchronously, first thing in main, so no signal comes in between).
let onHangup = () => {};
process.on('SIGHUP', () => onHangup());

async function main() {
  let cfg;
  try {
    cfg = config.load();
  } catch (err) {
    if (err instanceof config.ConfigError) {
      process.stderr.write(`configuration error: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  setLevel(cfg.logLevel);
  if (!cfg.bugs.has('secrets_read_once')) onHangup = () => reloadSecrets(cfg.secrets);
  // BUG(secrets_read_once): "credentials are configuration, read at start like the rest"; the
  // handler stays a no-op, so the process survives SIGHUP and keeps presenting the old values.
  const startedAt = Date.now();
  if (cfg.bugs.size) {
    log.warn('seeded bugs switched on', { bugs: [...cfg.bugs].map((b) => `${b}: ${BUGS[b].description}`) });
  }
  if (cfg.secrets.file) {
    log.info('venue credentials from SECRETS_FILE, re-read on SIGHUP', { keys: cfg.secrets.fileKeys });
  }
  if (!cfg.apiKey) log.warn('API_KEY is not set: the API is open to anyone who can reach it');
  if (cfg.badRelease) log.warn('BAD_RELEASE is set: this build answers /healthz 503 (it must never pass readiness)');

  const pool = createPool(cfg.db);
  await waitForDatabase(pool);
  const version = await migrate(pool);
  log.info('database ready', { schemaVersion: version });

  const schema = loadSchema(cfg.rithmic);
  const rithmic = new RithmicGateway({
    cfg: cfg.rithmic,
    schema,
    instruments: cfg.instruments,
    reconnect: !cfg.bugs.has('no_reconnect'),
  });
  const tt = new TTClient(cfg.tt);
  const accounts = new AccountService({ pool, cfg, rithmic, tt });
  const orders = new OrderService({ pool, cfg, rithmic });
  const webhooks = new StripeWebhookHandler({ pool, cfg, accounts });

  rithmic.start();
  // Serve regardless after a short wait: admin and onboarding do not need the venue.
  if (!(await rithmic.waitForOrderPlant(FIRST_LOGIN_WAIT_MS))) {
    log.warn('Rithmic not connected yet; serving degraded (orders answer 503) while it retries');
  }
  accounts.start((fill) => orders.bookLedgerFill(fill));

  const lifecycle = new Lifecycle();
  const app = createApp({ pool, cfg, rithmic, tt, orders, accounts, webhooks, startedAt, lifecycle });
  const server = http.createServer(app);
  server.keepAliveTimeout = 75_000; // trading clients hold their connections between orders
  server.headersTimeout = 76_000;
  const stream = new StreamHub({
    server,
    rithmic,
    orders,
    authorize: keyCheck(cfg.apiKey),
    quoteIntervalMs: cfg.streamQuoteIntervalMs,
  });
  await new Promise((resolve) => server.listen(cfg.port, cfg.host, resolve));
  log.info('listening', { port: cfg.port, host: cfg.host });

  onSignal = async (signal) => {
    if (lifecycle.stopping()) return;
    lifecycle.beginStop();
    log.info('shutting down: draining in-flight requests', { signal, inFlight: lifecycle.inFlight.size });
    // the drain is bounded; closing the venue sessions and the pool after it too
    const force = setTimeout(() => {
      log.error('shutdown did not finish in time; exiting');
      process.exit(1);
    }, cfg.drainMs + 5000);
    force.unref();
    // Stop accepting connections, but keep the open ones (http.Server.close would drop the idle
    // kept-alive ones at once, and with them a request already on its way): each answer from now
    // on closes its connection, and the rest are closed once the drain is over.
    net.Server.prototype.close.call(server);
    const left = await lifecycle.drained(Date.now() + cfg.drainMs);
    if (left) log.warn('drain bound reached; closing the requests still in flight', { inFlight: left });
    server.closeAllConnections();
    stream.close();
    accounts.stop();
    orders.stop();
    await Promise.race([rithmic.stop().catch(() => {}), sleep(2000)]);
    await pool.end();
    log.info('shutdown: done', { signal });
    process.exit(0);
  };
}

process.on('unhandledRejection', (err) => log.error('unhandled rejection', { err, stack: err && err.stack }));

main().catch((err) => {
  log.error('start-up failed', { err, stack: err.stack });
  process.exit(1);
});

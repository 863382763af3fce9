'use strict';

// Entry point: configuration, Postgres (migrated), Rithmic and TT, then the HTTP server.

const http = require('node:http');
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

const log = logger('server');
const FIRST_LOGIN_WAIT_MS = 5000;

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
  const startedAt = Date.now();
  if (cfg.bugs.size) {
    log.warn('seeded bugs switched on', { bugs: [...cfg.bugs].map((b) => `${b}: ${BUGS[b].description}`) });
  }

  const pool = createPool(cfg.databaseUrl);
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

  const app = createApp({ pool, cfg, rithmic, tt, orders, accounts, webhooks, startedAt });
  const server = http.createServer(app);
  server.keepAliveTimeout = 75_000; // trading clients hold their connections between orders
  server.headersTimeout = 76_000;
  const stream = new StreamHub({ server, rithmic, orders, quoteIntervalMs: cfg.streamQuoteIntervalMs });
  await new Promise((resolve) => server.listen(cfg.port, cfg.host, resolve));
  log.info('listening', { port: cfg.port, host: cfg.host });

  let stopping = false;
  const shutdown = async (signal) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    const force = setTimeout(() => process.exit(0), 3000);
    force.unref();
    stream.close();
    server.close();
    server.closeAllConnections();
    accounts.stop();
    orders.stop();
    await rithmic.stop().catch(() => {});
    await pool.end().catch(() => {});
    process.exit(0);
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

process.on('unhandledRejection', (err) => log.error('unhandled rejection', { err, stack: err && err.stack }));

main().catch((err) => {
  log.error('start-up failed', { err, stack: err.stack });
  process.exit(1);
});

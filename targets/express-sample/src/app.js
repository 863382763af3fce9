'use strict';

// The HTTP API (Express 5). Every answer is JSON: `{ "data": ... }` on success,
// `{ "error": { "code", "message", ... } }` otherwise. A route's database time is bounded: when
// Postgres is unreachable, locked or out of connections the answer is a fast
// `503 DATABASE_UNAVAILABLE` with `Retry-After: 1` (each read within the request budget, an order
// within its own phases), never a hang or a stack trace.

const express = require('express');
const { ApiError } = require('./orders');
const { positions } = require('./positions');
const { WebhookRejected } = require('./webhooks');
const { DatabaseUnavailable, within, throttled } = require('./db');
const { logger } = require('./log');
const { guard } = require('./auth');

const log = logger('http');

function sendError(res, httpStatus, code, message, extra = {}) {
  res.status(httpStatus).json({ error: { code, message, ...extra } });
}

function databaseUnavailable(res, err) {
  res.set('Retry-After', '1');
  sendError(res, 503, 'DATABASE_UNAVAILABLE', err.message, { dependency: 'database' });
}

/**
 * `lifecycle`: `stopping()` (a graceful stop has begun: every answer closes its connection, and
 * health says so) and `track(res)` (counts the request as in flight until its answer is sent).
 */
function createApp({ pool, cfg, rithmic, tt, orders, accounts, webhooks, startedAt, lifecycle }) {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.use((req, res, next) => {
    lifecycle.track(res);
    if (lifecycle.stopping()) res.set('Connection', 'close');
    next();
  });

  // Stripe signs the raw bytes: this route must see the body before any JSON parser does.
  app.post('/hooks/stripe', express.raw({ type: '*/*', limit: '1mb' }), async (req, res) => {
    try {
      const result = await webhooks.handle(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0), req.get('stripe-signature'));
      res.status(200).json({ data: result });
    } catch (err) {
      if (err instanceof WebhookRejected) {
        log.warn('stripe webhook rejected', { reason: err.message });
        sendError(res, 400, 'WEBHOOK_REJECTED', err.message);
        return;
      }
      throw err;
    }
  });

  // The API's key before anything reads the body, and its rate limit before any database or venue
  // work (after the JSON parser: an order names its account in the body). Health, metrics and the
  // signed Stripe webhook stay public.
  const { authenticate, rateLimited } = guard({
    apiKey: cfg.apiKey,
    rateLimit: cfg.rateLimit,
    refuse: sendError,
    limited: !cfg.bugs.has('no_rate_limit'),
  });
  app.use('/api/v2', authenticate);

  app.use(express.json({ limit: '100kb' }));

  // Whether the database answers a SELECT 1 within the health bound, measured on each call (never
  // remembered, so it cannot say "up" while it is down). One probe at a time: while one hangs (a
  // black-holed link), every caller says "down" at the bound instead of taking another connection.
  let probe = null;
  const databaseUp = async () => {
    if (!probe) {
      probe = pool.query('SELECT 1').finally(() => {
        probe = null;
      });
    }
    try {
      await within(cfg.db.healthTimeoutMs, probe);
      return true;
    } catch {
      return false;
    }
  };

  // Health and readiness. 200 while serving: `status` ok, or degraded with `database` "down" (a
  // bounded SELECT 1 failed) or a venue down, since admin and onboarding may still work. 503 while
  // stopping (drain) and, always, in a bad release (BAD_RELEASE): its readiness must fail.
  app.get('/healthz', async (req, res) => {
    const uptimeSec = Math.round((Date.now() - startedAt) / 1000);
    if (cfg.badRelease) {
      res.status(503).json({ status: 'failing', reason: 'bad release (BAD_RELEASE): not fit to serve', uptimeSec });
      return;
    }
    const database = (await databaseUp()) ? 'up' : 'down';
    const venues = { rithmic: rithmic.status(), tt: tt.status() };
    const ok = database === 'up' && venues.rithmic.status === 'up';
    const stopping = lifecycle.stopping();
    res.status(stopping ? 503 : 200).json({
      status: stopping ? 'stopping' : ok ? 'ok' : 'degraded',
      uptimeSec,
      database,
      venues,
      reconciliations: orders.reconciles,
      bugs: [...cfg.bugs],
    });
  });

  // Prometheus text: what the on-call watches besides /healthz.
  app.get('/metrics', async (req, res) => {
    const database = (await databaseUp()) ? 1 : 0;
    const venues = { rithmic: rithmic.status(), tt: tt.status() };
    const lines = [
      '# HELP gateway_database_up Whether the gateway can use its database (1) or not (0).',
      '# TYPE gateway_database_up gauge',
      `gateway_database_up ${database}`,
      '# HELP gateway_venue_up Whether a venue session is up (1) or not (0).',
      '# TYPE gateway_venue_up gauge',
      ...Object.entries(venues).map(([name, v]) => `gateway_venue_up{venue="${name}"} ${v.status === 'up' ? 1 : 0}`),
      '# HELP gateway_http_requests_in_flight HTTP requests being answered.',
      '# TYPE gateway_http_requests_in_flight gauge',
      `gateway_http_requests_in_flight ${lifecycle.inFlight.size}`,
      '# HELP gateway_uptime_seconds Seconds since the gateway started.',
      '# TYPE gateway_uptime_seconds gauge',
      `gateway_uptime_seconds ${((Date.now() - startedAt) / 1000).toFixed(3)}`,
      '',
    ];
    res.type('text/plain; version=0.0.4').send(lines.join('\n'));
  });

  const api = express.Router();
  api.use(rateLimited);

  // ---------------------------------------------------------------- trading
  api.post('/trading/orders', async (req, res) => {
    const result = await orders.place(req.body);
    if (result.error) {
      const e = result.error;
      if (result.httpStatus === 503) res.set('Retry-After', '1');
      sendError(res, result.httpStatus, e.code, e.message, { order: result.order });
      return;
    }
    if (result.httpStatus === 422) {
      sendError(res, 422, 'ORDER_REJECTED', result.order.rejectReason || 'order rejected', { order: result.order });
      return;
    }
    if (result.httpStatus === 409) {
      sendError(res, 409, 'ORDER_FAILED', `order ${result.order.clientRef} failed: ${result.order.rejectReason}`, { order: result.order });
      return;
    }
    if (result.httpStatus === 504) {
      sendError(res, 504, 'VENUE_TIMEOUT', 'the venue did not confirm the order in time; its outcome is being reconciled', {
        order: result.order,
      });
      return;
    }
    res.status(result.httpStatus).json({ data: result.order, meta: { replayed: Boolean(result.replay) } });
  });

  api.get('/trading/orders', async (req, res) => {
    const accountId = req.query.accountId;
    if (typeof accountId !== 'string' || !accountId) {
      sendError(res, 400, 'VALIDATION_ERROR', 'accountId: is required', { field: 'accountId' });
      return;
    }
    res.json({ data: await within(cfg.db.requestBudgetMs, orders.list(accountId)) });
  });

  api.get('/trading/orders/:clientRef', async (req, res) => {
    const order = await within(cfg.db.requestBudgetMs, orders.get(req.params.clientRef));
    if (!order) {
      sendError(res, 404, 'ORDER_NOT_FOUND', `no order with clientRef ${req.params.clientRef}`);
      return;
    }
    res.json({ data: order });
  });

  api.post('/trading/orders/:clientRef/cancel', async (req, res) => {
    const result = await orders.cancel(req.params.clientRef);
    res.status(result.httpStatus).json({ data: result.order, meta: { cancelRequested: true } });
  });

  // ---------------------------------------------------------------- accounts (served from Postgres only)
  api.get('/accounts/:accountId', async (req, res) => {
    const account = await within(cfg.db.requestBudgetMs, accounts.get(req.params.accountId));
    if (!account) {
      sendError(res, 404, 'ACCOUNT_NOT_FOUND', `no trading account ${req.params.accountId}`);
      return;
    }
    res.json({ data: account });
  });

  api.get('/accounts/:accountId/positions', async (req, res) => {
    const id = req.params.accountId;
    const rows = await within(
      cfg.db.requestBudgetMs,
      (async () => ((await accounts.exists(id)) ? positions(pool, cfg, id) : null))(),
    );
    if (!rows) {
      sendError(res, 404, 'ACCOUNT_NOT_FOUND', `no trading account ${id}`);
      return;
    }
    res.json({ data: rows, meta: { accountId: id } });
  });

  api.get('/customers/:customerId/accounts', async (req, res) => {
    res.json({ data: await within(cfg.db.requestBudgetMs, accounts.listForCustomer(req.params.customerId)) });
  });

  app.use('/api/v2', api);

  app.use((req, res) => sendError(res, 404, 'NOT_FOUND', `no route for ${req.method} ${req.path}`));

  // Express 5 forwards rejected promises from async handlers here.
  app.use((err, req, res, next) => {
    if (res.headersSent) {
      next(err); // half-answered: Express's own handler closes the connection
      return;
    }
    if (err instanceof DatabaseUnavailable) {
      throttled.warn(`database unavailable for ${req.method} ${req.path}`, err.cause || err);
      databaseUnavailable(res, err);
      return;
    }
    if (err instanceof ApiError) {
      if (err.httpStatus === 503) res.set('Retry-After', '1');
      sendError(res, err.httpStatus, err.code, err.message, err.details || {});
      return;
    }
    if (err.type === 'entity.parse.failed') {
      sendError(res, 400, 'VALIDATION_ERROR', 'body: is not valid JSON', { field: 'body' });
      return;
    }
    if (err.status && err.status < 500) {
      sendError(res, err.status, 'BAD_REQUEST', err.message);
      return;
    }
    log.error('unhandled error', { path: req.path, err, stack: err.stack });
    sendError(res, 500, 'INTERNAL_ERROR', 'internal error');
  });

  return app;
}

module.exports = { createApp };

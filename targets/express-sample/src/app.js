'use strict';

// The HTTP API (Express 5). Every answer is JSON: `{ "data": ... }` on success,
// `{ "error": { "code", "message", ... } }` otherwise.

const express = require('express');
const { ApiError } = require('./orders');
const { positions } = require('./positions');
const { WebhookRejected } = require('./webhooks');
const { logger } = require('./log');

const log = logger('http');

function sendError(res, httpStatus, code, message, extra = {}) {
  res.status(httpStatus).json({ error: { code, message, ...extra } });
}

function createApp({ pool, cfg, rithmic, tt, orders, accounts, webhooks, startedAt }) {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

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

  app.use(express.json({ limit: '100kb' }));

  app.get('/healthz', async (req, res) => {
    let database = 'up';
    try {
      await Promise.race([pool.query('SELECT 1'), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000))]);
    } catch {
      database = 'down';
    }
    const venues = { rithmic: rithmic.status(), tt: tt.status() };
    const ok = database === 'up' && venues.rithmic.status === 'up';
    res.status(200).json({
      status: ok ? 'ok' : 'degraded',
      uptimeSec: Math.round((Date.now() - startedAt) / 1000),
      database,
      venues,
      reconciliations: orders.reconciles,
      bugs: [...cfg.bugs],
    });
  });

  const api = express.Router();

  // ---------------------------------------------------------------- trading
  api.post('/trading/orders', async (req, res) => {
    const result = await orders.place(req.body);
    if (result.error) {
      const e = result.error;
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
    res.json({ data: await orders.list(accountId) });
  });

  api.get('/trading/orders/:clientRef', async (req, res) => {
    const order = await orders.get(req.params.clientRef);
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
    const account = await accounts.get(req.params.accountId);
    if (!account) {
      sendError(res, 404, 'ACCOUNT_NOT_FOUND', `no trading account ${req.params.accountId}`);
      return;
    }
    res.json({ data: account });
  });

  api.get('/accounts/:accountId/positions', async (req, res) => {
    if (!(await accounts.exists(req.params.accountId))) {
      sendError(res, 404, 'ACCOUNT_NOT_FOUND', `no trading account ${req.params.accountId}`);
      return;
    }
    res.json({ data: await positions(pool, cfg, req.params.accountId), meta: { accountId: req.params.accountId } });
  });

  api.get('/customers/:customerId/accounts', async (req, res) => {
    res.json({ data: await accounts.listForCustomer(req.params.customerId) });
  });

  app.use('/api/v2', api);

  app.use((req, res) => sendError(res, 404, 'NOT_FOUND', `no route for ${req.method} ${req.path}`));

  // Express 5 forwards rejected promises from async handlers here.
  // eslint-disable-next-line no-unused-vars
  app.use((err, req, res, next) => {
    if (err instanceof ApiError) {
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

'use strict';

// Orders: validation, idempotency by clientRef, pre-trade risk, routing to Rithmic, venue
// notifications, fills, cancels and reconciliation with the venue after a reconnect.
//
// An order is written to Postgres (NEW) before it is sent, so a repeated clientRef finds it and
// nothing new reaches the venue. Status moves only forward; fills are booked once per venue fill
// id and never beyond the cumulative quantity the venue reports, so duplicate and out-of-order
// notifications are harmless. An order whose answer never came is UNKNOWN until reconciliation
// (show orders) settles it.
//
// The database is bounded like the venue: an order's database phases before the venue share one
// budget, and the account row is locked (FOR UPDATE, under the connection's lock_timeout) for the
// risk check and the insert, so a lock held elsewhere is a fast 503, not a wait. A venue
// notification whose write fails because the database is unavailable is retried (in order, per
// order) until it is recorded; reconciliation is the backstop.

const { EventEmitter } = require('node:events');
const { tx, audit, Budget, within, isUnavailable, throttled } = require('./db');
const { RithmicError, NotConnected, ConnectionLost, RequestTimeout } = require('./rithmic/plant');
const { VenueUnavailable } = require('./rithmic');
const { netPosition } = require('./positions');
const { logger } = require('./log');

const log = logger('orders');

const FINAL = ['FILLED', 'CANCELED', 'REJECTED', 'FAILED'];
const RANK = { NEW: 0, UNKNOWN: 0, SUBMITTED: 1, WORKING: 2, PARTIALLY_FILLED: 3 };
const CLIENT_REF = /^[A-Za-z0-9_.:-]{1,64}$/;
const POST_VENUE_MIN_MS = 600;
const NOTIFICATION_RETRY_MS = 60_000; // then reconciliation (show orders) books what is still missing
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

class ApiError extends Error {
  constructor(httpStatus, code, message, details = undefined) {
    super(message);
    this.httpStatus = httpStatus;
    this.code = code;
    this.details = details;
  }
}

// The statuses a move to `status` must leave alone: final ones, and those further on.
function keptBy(status) {
  const rank = RANK[status] ?? 99;
  return [...FINAL, ...Object.keys(RANK).filter((s) => RANK[s] > rank)];
}

function orderJson(row) {
  return {
    orderId: String(row.id),
    clientRef: row.client_ref,
    accountId: row.account_id,
    venue: row.venue,
    venueAccount: row.venue_account,
    venueOrderId: row.venue_order_id,
    instrument: row.instrument,
    exchange: row.exchange,
    direction: row.direction,
    quantity: row.quantity,
    orderType: row.order_type,
    limitPrice: row.limit_price,
    status: row.status,
    filledQuantity: row.filled_quantity,
    avgFillPrice: row.avg_fill_price,
    rejectReason: row.reject_reason,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

function validate(body, instruments) {
  const bad = (field, message) => new ApiError(400, 'VALIDATION_ERROR', `${field}: ${message}`, { field });
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw bad('body', 'must be a JSON object');
  const { accountId, instrument, direction, quantity, orderType, limitPrice, clientRef } = body;
  if (typeof clientRef !== 'string' || !CLIENT_REF.test(clientRef)) {
    throw bad('clientRef', 'must be 1-64 characters of letters, digits, _ . : -');
  }
  if (typeof accountId !== 'string' || !accountId) throw bad('accountId', 'is required');
  if (typeof instrument !== 'string' || !instruments.has(instrument)) {
    throw bad('instrument', `must be one of ${[...instruments.keys()].join(', ')}`);
  }
  if (direction !== 'buy' && direction !== 'sell') throw bad('direction', 'must be "buy" or "sell"');
  if (!Number.isInteger(quantity) || quantity < 1 || quantity > 10_000) {
    throw bad('quantity', 'must be an integer from 1 to 10000');
  }
  if (orderType !== 'market' && orderType !== 'limit') throw bad('orderType', 'must be "market" or "limit"');
  let price = null;
  if (orderType === 'limit') {
    if (typeof limitPrice !== 'number' || !(limitPrice > 0)) throw bad('limitPrice', 'is required for a limit order and must be positive');
    price = limitPrice;
  }
  return { clientRef, accountId, instrument, exchange: instruments.get(instrument), direction, quantity, orderType, limitPrice: price };
}

// How a request for an existing order is answered, by its status.
function replayStatus(row) {
  switch (row.status) {
    case 'REJECTED':
      return 422;
    case 'UNKNOWN':
      return 504;
    case 'FAILED':
      return 409;
    default:
      return 200;
  }
}

class KeyedQueue {
  constructor() {
    this.tails = new Map();
  }

  /** Run fn after the key's earlier work; its result (or error) for the caller, while the key's
   * queue goes on either way. */
  run(key, fn) {
    const prev = this.tails.get(key) || Promise.resolve();
    const result = prev.then(fn);
    const next = result.catch((err) => log.error('order update failed', { key, err }));
    this.tails.set(key, next);
    next.finally(() => {
      if (this.tails.get(key) === next) this.tails.delete(key);
    });
    return result;
  }
}

class OrderService extends EventEmitter {
  constructor({ pool, cfg, rithmic }) {
    super();
    this.pool = pool;
    this.cfg = cfg;
    this.rithmic = rithmic;
    this.queue = new KeyedQueue();
    this.reconciles = 0;
    this._reconcileTimer = null;
    this._reconcileDue = 0;
    this._reconciling = null;
    this._reconcileAgain = false;
    this._stopped = false;
    rithmic.on('exchangeNotification', (m) => {
      const key = m.user_tag || m.basket_id || 'untagged';
      this.queue.run(key, () => this._durably(`notification for ${key}`, () => this.onNotification(m))).catch(() => {});
    });
    rithmic.on('orderPlantReady', () => {
      if (!cfg.bugs.has('no_reconcile')) this.scheduleReconcile(0);
    });
  }

  stop() {
    this._stopped = true;
    clearTimeout(this._reconcileTimer);
  }

  /** fn(), again while the database is unavailable (a fill must not be dropped because Postgres
   * was restarting or a lock was held); after NOTIFICATION_RETRY_MS, reconciliation takes over. */
  async _durably(what, fn) {
    const started = Date.now();
    let delay = 200;
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        if (!isUnavailable(err) || this._stopped) throw err;
        if (Date.now() - started > NOTIFICATION_RETRY_MS) {
          this._reconcileSoon();
          throw err;
        }
        throttled.warn(`database unavailable for ${what}; retrying`, err);
        await sleep(delay);
        delay = Math.min(delay * 2, 2000);
      }
    }
  }

  /** A reconciliation pass soon: after a database failure an order's row may lag what the venue did. */
  _reconcileSoon(delayMs = 1000) {
    if (!this.cfg.bugs.has('no_reconcile')) this.scheduleReconcile(delayMs);
  }

  // ------------------------------------------------------------------ API
  async get(clientRef) {
    const { rows } = await this.pool.query('SELECT * FROM orders WHERE client_ref = $1', [clientRef]);
    return rows.length ? orderJson(rows[0]) : null;
  }

  async list(accountId, limit = 100) {
    const { rows } = await this.pool.query('SELECT * FROM orders WHERE account_id = $1 ORDER BY id DESC LIMIT $2', [accountId, limit]);
    return rows.map(orderJson);
  }

  /** Place an order; { httpStatus, order }. Throws ApiError for refusals without an order, and
   * DatabaseUnavailable when the database fails before anything was sent. */
  async place(body) {
    const req = validate(body, this.cfg.instruments);
    const budget = new Budget(this.cfg.db.requestBudgetMs);
    let taken;
    try {
      taken = await this._take(req, budget);
    } catch (err) {
      // the insert may have committed as the link died: reconciliation settles such a row
      if (isUnavailable(err)) this._reconcileSoon(this.cfg.rithmic.orderTimeoutMs * 2 + 500);
      throw err;
    }
    if (taken.replay) return { httpStatus: replayStatus(taken.replay), order: orderJson(taken.replay), replay: true };
    const { row, refusal, venueAccount } = taken;
    this.emit('order', orderJson(row));
    if (refusal) return { httpStatus: 422, order: orderJson(row) };
    return this.route(row, req, venueAccount, budget);
  }

  /** The repeat check, then in one transaction: the account row locked (two orders of one account
   * cannot both pass its limits, and a lock held elsewhere is refused within lock_timeout), the
   * risk check, and the order row inserted (NEW, or REJECTED with the reason). */
  async _take(req, budget) {
    const idempotent = !this.cfg.bugs.has('no_idempotency');
    if (idempotent) {
      const existing = await budget.run(this.pool.query('SELECT * FROM orders WHERE client_ref = $1', [req.clientRef]));
      if (existing.rows.length) return { replay: existing.rows[0] };
    }
    const conflict = idempotent
      ? 'ON CONFLICT (client_ref) DO NOTHING'
      : "ON CONFLICT (client_ref) DO UPDATE SET status = 'NEW', updated_at = now()";
    return tx(
      this.pool,
      async (client) => {
        const { rows: accounts } = await client.query('SELECT * FROM trading_accounts WHERE id = $1 FOR UPDATE', [req.accountId]);
        if (!accounts.length) throw new ApiError(404, 'ACCOUNT_NOT_FOUND', `no trading account ${req.accountId}`, { field: 'accountId' });
        const account = accounts[0];
        if (!this.rithmic.orderPlantUp()) {
          throw new ApiError(503, 'VENUE_UNAVAILABLE', 'Rithmic is not connected; the order was not placed', { venue: 'rithmic' });
        }
        const venueAccount = account.rithmic_account || this.rithmic.defaultAccount();
        const refusal = await this.preTradeRisk(client, account, req);
        const { rows } = await client.query(
          `INSERT INTO orders (client_ref, account_id, venue_account, instrument, exchange, direction, quantity,
             order_type, limit_price, status, reject_reason)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ${conflict} RETURNING *`,
          [
            req.clientRef,
            req.accountId,
            venueAccount,
            req.instrument,
            req.exchange,
            req.direction,
            req.quantity,
            req.orderType,
            req.limitPrice,
            refusal ? 'REJECTED' : 'NEW',
            refusal,
          ],
        );
        if (!rows.length) {
          // a concurrent request with the same clientRef won the insert
          const again = await client.query('SELECT * FROM orders WHERE client_ref = $1', [req.clientRef]);
          return { replay: again.rows[0] };
        }
        await audit(client, 'order.received', req.clientRef, { status: rows[0].status, reason: refusal });
        return { row: rows[0], refusal, venueAccount };
      },
      { budget },
    );
  }

  async preTradeRisk(db, account, req) {
    if (!account.trading_enabled) return 'trading is disabled for this account (no active subscription)';
    if (req.quantity > account.max_order_qty) return `quantity ${req.quantity} exceeds the order limit ${account.max_order_qty}`;
    const current = await netPosition(db, this.cfg, account.id, req.instrument);
    const after = current + (req.direction === 'buy' ? req.quantity : -req.quantity);
    if (Math.abs(after) > account.max_position) return `position would be ${after}, beyond the limit ${account.max_position}`;
    return null;
  }

  /** Send a durable NEW order to the venue, then record and say what the venue answered. */
  async route(row, req, venueAccount, budget = new Budget(this.cfg.db.requestBudgetMs)) {
    let outcome;
    try {
      const basketId = await this.rithmic.submitOrder({ ...req, account: venueAccount });
      outcome = { httpStatus: 201, status: 'SUBMITTED', opts: { venueOrderId: basketId || null } };
    } catch (err) {
      if (err instanceof RithmicError) {
        const reason = `venue rejected: ${err.rpCode.slice(1).join(' ') || err.code}`;
        outcome = { httpStatus: 422, status: 'REJECTED', opts: { reason } };
      } else if (err instanceof NotConnected || err instanceof VenueUnavailable) {
        // nothing left this process: the order definitely did not reach the venue
        outcome = {
          httpStatus: 503,
          status: 'FAILED',
          opts: { reason: err.message, onlyFrom: ['NEW'] },
          error: new ApiError(503, 'VENUE_UNAVAILABLE', err.message),
        };
      } else if (err instanceof ConnectionLost || err instanceof RequestTimeout) {
        this._reconcileSoon(this.cfg.rithmic.orderTimeoutMs * 2 + 500);
        outcome = {
          httpStatus: 504,
          status: 'UNKNOWN',
          opts: { reason: err.message },
          error: new ApiError(504, 'VENUE_TIMEOUT', err.message),
        };
      } else {
        throw err;
      }
    }
    try {
      // after the venue, the write gets at least POST_VENUE_MIN_MS of the budget (a healthy
      // database answers in milliseconds; a slow one must not turn a placed order into an unknown)
      const ms = Math.max(budget.remaining(), POST_VENUE_MIN_MS);
      const updated = await within(ms, this.setStatus(row.client_ref, outcome.status, outcome.opts));
      return { httpStatus: outcome.httpStatus, order: orderJson(updated), error: outcome.error };
    } catch (err) {
      if (!isUnavailable(err)) throw err;
      // The venue's answer is not recorded: the row stays NEW, and reconciliation (show orders)
      // books what the venue did. A definite answer (rejected, venue down) is still definite.
      throttled.warn(`the venue's answer to order ${row.client_ref} could not be recorded`, err);
      this._reconcileSoon();
      if (outcome.httpStatus === 422 || outcome.httpStatus === 503) {
        const order = { ...orderJson(row), status: outcome.status, rejectReason: outcome.opts.reason };
        return { httpStatus: outcome.httpStatus, order, error: outcome.error };
      }
      const reason = "the venue's answer could not be recorded (database unavailable); reconciliation settles it";
      return {
        httpStatus: 504,
        order: { ...orderJson(row), status: 'UNKNOWN', rejectReason: reason },
        error: new ApiError(504, 'ORDER_OUTCOME_UNKNOWN', reason),
      };
    }
  }

  /** Move an order forward; a final status is never replaced and a status never goes back. */
  async setStatus(clientRef, status, { reason = null, venueOrderId = null, onlyFrom = null } = {}) {
    const kept = onlyFrom ? [...FINAL, ...Object.keys(RANK)].filter((s) => !onlyFrom.includes(s)) : keptBy(status);
    const { rows } = await this.pool.query(
      `UPDATE orders SET
         status = CASE WHEN status = ANY($5::text[]) THEN status ELSE $2 END,
         reject_reason = CASE WHEN status = ANY($5::text[]) THEN reject_reason ELSE COALESCE($3, reject_reason) END,
         venue_order_id = COALESCE(venue_order_id, $4),
         updated_at = now()
       WHERE client_ref = $1 RETURNING *`,
      [clientRef, status, reason, venueOrderId || null, kept],
    );
    if (rows[0]) this.emit('order', orderJson(rows[0]));
    return rows[0];
  }

  async cancel(clientRef) {
    const { rows } = await this.pool.query('SELECT * FROM orders WHERE client_ref = $1', [clientRef]);
    if (!rows.length) throw new ApiError(404, 'ORDER_NOT_FOUND', `no order with clientRef ${clientRef}`);
    const row = rows[0];
    if (FINAL.includes(row.status)) {
      throw new ApiError(409, 'ORDER_NOT_CANCELABLE', `order is already ${row.status}`, { order: orderJson(row) });
    }
    if (!row.venue_order_id) {
      throw new ApiError(409, 'ORDER_NOT_ACKNOWLEDGED', `order is ${row.status}: not acknowledged by the venue yet`, { order: orderJson(row) });
    }
    if (!this.rithmic.orderPlantUp()) throw new ApiError(503, 'VENUE_UNAVAILABLE', 'Rithmic is not connected', { venue: 'rithmic' });
    await audit(this.pool, 'order.cancel_requested', clientRef, { venueOrderId: row.venue_order_id });
    try {
      await this.rithmic.cancelOrder({ account: row.venue_account || this.rithmic.defaultAccount(), basketId: row.venue_order_id });
    } catch (err) {
      if (err instanceof RithmicError) {
        const current = await this.get(clientRef);
        throw new ApiError(409, 'ORDER_NOT_CANCELABLE', `venue refused the cancel: ${err.rpCode.slice(1).join(' ')}`, { order: current });
      }
      if (err instanceof NotConnected || err instanceof VenueUnavailable) throw new ApiError(503, 'VENUE_UNAVAILABLE', err.message);
      if (err instanceof ConnectionLost || err instanceof RequestTimeout) throw new ApiError(504, 'VENUE_TIMEOUT', err.message);
      throw err;
    }
    // the order turns CANCELED when the venue's cancel notification arrives; the venue has taken
    // the cancel, so a database failure now does not change the answer
    const order = await within(1000, this.get(clientRef)).catch(() => orderJson(row));
    return { httpStatus: 202, order };
  }

  // ------------------------------------------------------------------ venue notifications
  async onNotification(m) {
    const tag = m.user_tag || '';
    const basket = m.basket_id || '';
    const { rows } = await this.pool.query(
      'SELECT * FROM orders WHERE client_ref = $1 OR (venue_order_id IS NOT NULL AND venue_order_id = $2) LIMIT 1',
      [tag, basket],
    );
    if (!rows.length) return; // not one of ours
    const row = rows[0];
    switch (m.notify_type) {
      case 5: // FILL
        await this.bookOrderFill(row, {
          venueFillId: String(m.fill_id),
          quantity: Number(m.fill_size),
          price: Number(m.fill_price),
          cumulative: m.total_fill_size ? Number(m.total_fill_size) : null,
          source: 'live',
        });
        if (basket) await this.setStatus(row.client_ref, 'SUBMITTED', { venueOrderId: basket });
        break;
      case 6: // REJECT
        await this.setStatus(row.client_ref, 'REJECTED', { reason: m.text || m.status || 'rejected by the exchange', venueOrderId: basket });
        break;
      case 3: // CANCEL
        await this.setStatus(row.client_ref, 'CANCELED', { venueOrderId: basket });
        await audit(this.pool, 'order.canceled', row.client_ref, {});
        break;
      case 1: // STATUS
        if (m.status === 'open') await this.setStatus(row.client_ref, 'WORKING', { venueOrderId: basket });
        break;
      default:
        break;
    }
  }

  /** Book one fill of one of our orders, once; the order as it now stands, or null if it did not count. */
  async bookOrderFill(order, fill) {
    const updated = await this._bookOrderFill(order, fill);
    if (updated) this.emit('order', orderJson(updated));
    return updated;
  }

  async _bookOrderFill(order, { venueFillId, quantity, price, cumulative, source }) {
    const dedup = !this.cfg.bugs.has('no_fill_dedup');
    return tx(this.pool, async (client) => {
      const { rows } = await client.query('SELECT * FROM orders WHERE id = $1 FOR UPDATE', [order.id]);
      const fresh = rows[0];
      let counted = quantity;
      if (dedup) {
        const seen = await client.query("SELECT 1 FROM fills WHERE venue = 'rithmic' AND venue_fill_id = $1", [venueFillId]);
        if (seen.rowCount) return null;
        if (cumulative !== null) counted = Math.min(quantity, cumulative - fresh.filled_quantity);
        if (counted <= 0) return null;
      }
      await client.query(
        `INSERT INTO fills (venue, venue_fill_id, order_id, account_id, instrument, exchange, direction, quantity, price, source)
         VALUES ('rithmic', $1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [venueFillId, fresh.id, fresh.account_id, fresh.instrument, fresh.exchange, fresh.direction, counted, price, source],
      );
      const filled = fresh.filled_quantity + counted;
      const avg = ((fresh.avg_fill_price || 0) * fresh.filled_quantity + price * counted) / filled;
      let status = filled >= fresh.quantity ? 'FILLED' : 'PARTIALLY_FILLED';
      if (fresh.status === 'CANCELED') status = 'CANCELED';
      const updated = await client.query(
        'UPDATE orders SET filled_quantity = $2, avg_fill_price = $3, status = $4, updated_at = now() WHERE id = $1 RETURNING *',
        [fresh.id, filled, avg, status],
      );
      await audit(client, 'fill.booked', fresh.client_ref, { venueFillId, quantity: counted, price, source });
      return updated.rows[0];
    });
  }

  /** A fill with no order of ours (read back from TT's ledger); once per venue fill id. */
  async bookLedgerFill({ venue, venueFillId, accountId, instrument, exchange, direction, quantity, price }) {
    return tx(this.pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${venue}:${venueFillId}`]);
      const seen = await client.query('SELECT 1 FROM fills WHERE venue = $1 AND venue_fill_id = $2', [venue, venueFillId]);
      if (seen.rowCount) return false;
      await client.query(
        `INSERT INTO fills (venue, venue_fill_id, account_id, instrument, exchange, direction, quantity, price, source)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'tt_ledger')`,
        [venue, venueFillId, accountId, instrument, exchange, direction, quantity, price],
      );
      return true;
    });
  }

  // ------------------------------------------------------------------ reconciliation
  scheduleReconcile(delayMs) {
    if (this._stopped) return;
    const due = Date.now() + delayMs;
    if (this._reconcileTimer && this._reconcileDue <= due) return;
    clearTimeout(this._reconcileTimer);
    this._reconcileDue = due;
    this._reconcileTimer = setTimeout(() => {
      this._reconcileTimer = null;
      this.reconcile().catch((err) => {
        if (isUnavailable(err)) throttled.warn('database unavailable for reconciliation; retrying', err);
        else log.warn('reconciliation failed; retrying', { err });
        this.scheduleReconcile(1000);
      });
    }, delayMs);
  }

  async reconcile() {
    if (this._reconciling) {
      this._reconcileAgain = true;
      return this._reconciling;
    }
    this._reconciling = this._reconcileOnce().finally(() => {
      this._reconciling = null;
    });
    const result = await this._reconciling;
    if (this._reconcileAgain) {
      this._reconcileAgain = false;
      this.scheduleReconcile(0);
    }
    return result;
  }

  async _reconcileOnce() {
    if (!this.rithmic.orderPlantUp()) {
      this.scheduleReconcile(1000);
      return 0;
    }
    const seen = new Set();
    let booked = 0;
    for (const account of this.rithmic.accounts) {
      const snapshots = await this.rithmic.showOrders(account);
      const tags = snapshots.map((s) => s.user_tag).filter(Boolean);
      if (!tags.length) continue;
      const { rows } = await this.pool.query('SELECT * FROM orders WHERE client_ref = ANY($1::text[])', [tags]);
      const byTag = new Map(rows.map((r) => [r.client_ref, r]));
      for (const s of snapshots) {
        const row = byTag.get(s.user_tag);
        if (!row) continue;
        seen.add(row.client_ref);
        await this.queue.run(row.client_ref, async () => {
          const total = Number(s.total_fill_size || 0);
          const { rows: current } = await this.pool.query('SELECT * FROM orders WHERE id = $1', [row.id]);
          const now = current[0];
          if (total > now.filled_quantity) {
            const missing = total - now.filled_quantity;
            const known = (now.avg_fill_price || 0) * now.filled_quantity;
            const price = (Number(s.avg_fill_price) * total - known) / missing;
            const done = await this.bookOrderFill(now, {
              venueFillId: `recon-${s.basket_id}-${total}`,
              quantity: missing,
              price: Math.round(price * 1e6) / 1e6,
              cumulative: total,
              source: 'reconcile',
            });
            if (done) booked += 1;
          }
          const mapped = { open: 'WORKING', cancel: 'CANCELED', reject: 'REJECTED' }[String(s.status || '').toLowerCase()];
          await this.setStatus(now.client_ref, mapped || 'SUBMITTED', { venueOrderId: s.basket_id || null });
        });
      }
    }
    // orders still without an outcome that the venue has never heard of
    const staleAfterMs = this.cfg.rithmic.orderTimeoutMs * 2;
    const { rows: open } = await this.pool.query(
      "SELECT client_ref, created_at FROM orders WHERE status IN ('NEW', 'UNKNOWN') AND venue = 'rithmic'",
    );
    let waiting = 0;
    for (const row of open) {
      if (seen.has(row.client_ref)) continue;
      if (Date.now() - row.created_at.getTime() >= staleAfterMs) {
        await this.setStatus(row.client_ref, 'FAILED', {
          reason: 'never reached the venue (not in its order book after reconnect)',
          onlyFrom: ['NEW', 'UNKNOWN'],
        });
      } else {
        waiting += 1;
      }
    }
    if (waiting) this.scheduleReconcile(staleAfterMs);
    this.reconciles += 1;
    await audit(this.pool, 'orders.reconciled', null, { venueOrders: seen.size, fillsBooked: booked });
    log.info('reconciled with the venue', { venueOrders: seen.size, fillsBooked: booked });
    return booked;
  }
}

module.exports = { OrderService, ApiError, orderJson, validate };

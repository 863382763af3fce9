'use strict';

// Customers and their trading accounts: created by onboarding (Stripe), served from Postgres (so
// admin reads keep working while a venue is down), provisioned at TT in the background.

const { audit, isUnavailable, throttled } = require('./db');
const { TTError } = require('./tt');
const { logger } = require('./log');

const log = logger('accounts');
const TT_FILLS_CURSOR = 'tt_ledger_fills';
const PROVISION_EVERY_MS = 1000;

function accountIdFor(customerId) {
  return `TA-${customerId.replace(/^cus_/, '').toUpperCase()}`;
}

function accountJson(row, payments, subscription) {
  return {
    accountId: row.id,
    customerId: row.customer_id,
    owner: { name: row.full_name, email: row.email, country: row.country },
    status: row.trading_enabled ? 'ACTIVE' : 'SUSPENDED',
    tradingEnabled: row.trading_enabled,
    riskLimits: { maxOrderQty: row.max_order_qty, maxPosition: row.max_position },
    venues: {
      rithmic: { account: row.rithmic_account },
      tt: {
        accountId: row.tt_account_id === null ? null : String(row.tt_account_id),
        provisioningStatus: row.tt_status,
        lastError: row.tt_last_error,
        attempts: row.tt_attempts,
      },
    },
    billing: {
      subscription: subscription ? { id: subscription.id, status: subscription.status } : null,
      payments: payments.map((p) => ({
        invoiceId: p.invoice_id,
        amountCents: p.amount_cents,
        currency: p.currency,
        status: p.status,
        eventId: p.event_id,
      })),
    },
    createdAt: row.created_at.toISOString(),
  };
}

class AccountService {
  constructor({ pool, cfg, rithmic, tt }) {
    this.pool = pool;
    this.cfg = cfg;
    this.rithmic = rithmic;
    this.tt = tt;
    this._kick = null;
    this._stopped = false;
    this._fillsTimer = null;
  }

  // ------------------------------------------------------------------ reads
  async get(accountId) {
    const { rows } = await this.pool.query(
      `SELECT a.*, c.full_name, c.email, c.country FROM trading_accounts a
         JOIN customers c ON c.id = a.customer_id WHERE a.id = $1`,
      [accountId],
    );
    if (!rows.length) return null;
    const row = rows[0];
    const [payments, subscription] = await Promise.all([
      this.pool.query('SELECT * FROM payments WHERE customer_id = $1 ORDER BY created_at, invoice_id', [row.customer_id]),
      this.pool.query('SELECT id, status FROM subscriptions WHERE customer_id = $1 ORDER BY event_created DESC, updated_at DESC LIMIT 1', [
        row.customer_id,
      ]),
    ]);
    return accountJson(row, payments.rows, subscription.rows[0]);
  }

  async listForCustomer(customerId) {
    const { rows } = await this.pool.query(
      'SELECT id, trading_enabled, tt_status, created_at FROM trading_accounts WHERE customer_id = $1 ORDER BY id',
      [customerId],
    );
    return rows.map((r) => ({
      accountId: r.id,
      status: r.trading_enabled ? 'ACTIVE' : 'SUSPENDED',
      ttProvisioningStatus: r.tt_status,
      createdAt: r.created_at.toISOString(),
    }));
  }

  async exists(accountId) {
    const { rowCount } = await this.pool.query('SELECT 1 FROM trading_accounts WHERE id = $1', [accountId]);
    return rowCount > 0;
  }

  // ------------------------------------------------------------------ onboarding (inside a webhook's transaction)
  /** The customer and their trading account, created on first sight; the account id. */
  async ensureCustomer(client, customerId) {
    await client.query('INSERT INTO customers (id) VALUES ($1) ON CONFLICT (id) DO NOTHING', [customerId]);
    const accountId = accountIdFor(customerId);
    const { rowCount } = await client.query(
      `INSERT INTO trading_accounts (id, customer_id, rithmic_account, max_order_qty, max_position)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING`,
      [accountId, customerId, this.rithmic.defaultAccount(), this.cfg.risk.maxOrderQty, this.cfg.risk.maxPosition],
    );
    if (rowCount) {
      await audit(client, 'account.created', accountId, { customerId });
      log.info('trading account created', { accountId, customerId });
    }
    return accountId;
  }

  /** Trading is enabled exactly while the customer has an active (or trialing) subscription. */
  async refreshTrading(client, customerId) {
    await client.query(
      `UPDATE trading_accounts SET trading_enabled = EXISTS (
         SELECT 1 FROM subscriptions s WHERE s.customer_id = $1 AND s.status IN ('active', 'trialing')
       ), updated_at = now() WHERE customer_id = $1`,
      [customerId],
    );
  }

  // ------------------------------------------------------------------ TT provisioning
  kick() {
    if (this._kick) this._kick();
  }

  async provisionPending() {
    const { rows } = await this.pool.query(
      "SELECT * FROM trading_accounts WHERE tt_status IN ('pending', 'retrying') ORDER BY created_at LIMIT 20",
    );
    for (const row of rows) {
      try {
        const ttId = await this.tt.provisionAccount(row.id, { maxOrderQty: row.max_order_qty, maxPosition: row.max_position });
        await this.pool.query(
          `UPDATE trading_accounts SET tt_status = 'provisioned', tt_account_id = $2, tt_last_error = NULL,
             tt_attempts = tt_attempts + 1, updated_at = now() WHERE id = $1`,
          [row.id, ttId],
        );
        await audit(this.pool, 'tt.provisioned', row.id, { ttAccountId: ttId });
        log.info('TT account provisioned', { accountId: row.id, ttAccountId: ttId });
      } catch (err) {
        // TT's account is found by name next time, so a pass cut short by the database is just retried
        if (isUnavailable(err)) throw err;
        if (err instanceof TTError) log.warn('TT provisioning failed; will retry', { accountId: row.id, err });
        else log.error('TT provisioning failed', { accountId: row.id, err, stack: err.stack });
        await this.pool.query(
          "UPDATE trading_accounts SET tt_status = 'retrying', tt_last_error = $2, tt_attempts = tt_attempts + 1 WHERE id = $1",
          [row.id, String(err.message).slice(0, 500)],
        );
      }
    }
  }

  async _provisionLoop() {
    while (!this._stopped) {
      try {
        await this.provisionPending();
      } catch (err) {
        if (isUnavailable(err)) throttled.warn('database unavailable for TT provisioning; retrying', err);
        else log.warn('provisioning pass failed', { err });
      }
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, PROVISION_EVERY_MS);
        this._kick = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this._kick = null;
    }
  }

  // ------------------------------------------------------------------ TT fills
  async pollTTFills(bookFill) {
    const { rows } = await this.pool.query('SELECT value FROM sync_cursors WHERE name = $1', [TT_FILLS_CURSOR]);
    const cursor = rows.length ? String(rows[0].value) : '0';
    const { fills, cursor: next } = await this.tt.fillsSince(cursor);
    if (fills.length) {
      const accounts = await this.pool.query('SELECT id, tt_account_id FROM trading_accounts WHERE tt_account_id IS NOT NULL');
      const byTT = new Map(accounts.rows.map((r) => [String(r.tt_account_id), r.id]));
      for (const f of fills) {
        const accountId = byTT.get(String(f.accountId));
        if (!accountId) continue;
        await bookFill({
          venue: 'tt',
          venueFillId: String(f.fillId || f.recordId),
          accountId,
          instrument: String(f.symbol),
          exchange: String(f.securityExchangeId || ''),
          direction: [1, '1', 'BUY', 'Buy'].includes(f.side) ? 'buy' : 'sell',
          quantity: Number(f.lastQty),
          price: Number(f.lastPx),
        });
      }
    }
    if (next !== cursor) {
      await this.pool.query(
        `INSERT INTO sync_cursors (name, value) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
        [TT_FILLS_CURSOR, next],
      );
    }
    return fills.length;
  }

  async _fillsLoop(bookFill) {
    while (!this._stopped) {
      try {
        await this.pollTTFills(bookFill);
      } catch (err) {
        if (isUnavailable(err)) throttled.warn('database unavailable for the TT fills poll; retrying', err);
        else log.warn('TT fills poll failed', { err });
      }
      await new Promise((r) => {
        this._fillsTimer = setTimeout(r, this.cfg.tt.fillsPollMs);
      });
    }
  }

  start(bookFill) {
    this._provisionLoop();
    this._fillsLoop(bookFill);
  }

  stop() {
    this._stopped = true;
    this.kick();
    clearTimeout(this._fillsTimer);
  }
}

module.exports = { AccountService, accountIdFor };

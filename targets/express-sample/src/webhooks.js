'use strict';

// Stripe webhooks: the signature is verified on the raw body with stripe.webhooks.constructEvent;
// each event id is applied once (recorded in the same transaction as its effects); events may
// arrive in any order, so any event for an unknown customer onboards them, and a subscription's
// status only moves forward in event time ('canceled' is final).

const Stripe = require('stripe');
const { tx, audit, Budget } = require('./db');
const { logger } = require('./log');

const log = logger('webhooks');
const TOLERANCE_SEC = 300;

class WebhookRejected extends Error {}

function verify({ rawBody, signature, secrets, checkSignature }) {
  if (checkSignature) {
    let lastErr;
    for (const secret of secrets) {
      try {
        return Stripe.webhooks.constructEvent(rawBody, signature || '', secret, TOLERANCE_SEC);
      } catch (err) {
        lastErr = err;
      }
    }
    throw new WebhookRejected(`signature verification failed: ${lastErr ? lastErr.message.split('.')[0] : 'no secret'}`);
  }
  // BUG(unsigned_webhooks): "we're behind the load balancer, Stripe is the only caller".
  let event;
  try {
    event = JSON.parse(rawBody.toString('utf8'));
  } catch {
    throw new WebhookRejected('body is not JSON');
  }
  return event;
}

const str = (v) => (typeof v === 'string' && v ? v.slice(0, 200) : null);

class StripeWebhookHandler {
  constructor({ pool, cfg, accounts }) {
    this.pool = pool;
    this.cfg = cfg;
    this.accounts = accounts;
  }

  async handle(rawBody, signature) {
    const event = verify({
      rawBody,
      signature,
      secrets: this.cfg.stripeWebhookSecrets, // the current ones: a reload (SIGHUP) applies at once
      checkSignature: !this.cfg.bugs.has('unsigned_webhooks'),
    });
    if (!event || typeof event.id !== 'string' || !event.data || typeof event.type !== 'string') {
      throw new WebhookRejected('not a Stripe event');
    }
    // The event's effects and its id commit together before the 200: if the database fails (or
    // does not answer within the budget) nothing is recorded, the answer is a 503, and Stripe's
    // retry applies it then.
    const result = await tx(
      this.pool,
      async (client) => {
        const first = await client.query(
          'INSERT INTO stripe_events (event_id, type, created) VALUES ($1, $2, $3) ON CONFLICT (event_id) DO NOTHING',
          [event.id, event.type, Number(event.created) || 0],
        );
        if (first.rowCount === 0) return { duplicate: true, applied: false };
        const applied = await this.apply(client, event);
        await audit(client, 'stripe.event', event.id, { type: event.type, applied });
        return { duplicate: false, applied };
      },
      { budget: new Budget(this.cfg.db.requestBudgetMs) },
    );
    if (result.applied) this.accounts.kick(); // provisioning sees the new account at once
    log.info('stripe event', { id: event.id, type: event.type, ...result });
    return { received: true, eventId: event.id, ...result };
  }

  async apply(client, event) {
    const obj = event.data.object || {};
    const customerId = typeof obj.customer === 'string' ? obj.customer : null;
    if (!customerId) return false;
    const created = Number(event.created) || 0;
    await this.accounts.ensureCustomer(client, customerId);
    switch (event.type) {
      case 'checkout.session.completed': {
        const details = obj.customer_details || {};
        const meta = obj.metadata || {};
        await client.query(
          `UPDATE customers SET full_name = COALESCE($2, full_name), email = COALESCE($3, email),
             country = COALESCE($4, country) WHERE id = $1`,
          [
            customerId,
            str(details.name) || str(meta.name),
            str(details.email) || str(meta.email),
            str((details.address || {}).country) || str(meta.country),
          ],
        );
        if (typeof obj.subscription === 'string' && obj.payment_status === 'paid') {
          // a paid checkout starts the subscription, unless a subscription event told us more already
          await client.query(
            `INSERT INTO subscriptions (id, customer_id, status, event_created) VALUES ($1, $2, 'active', $3)
             ON CONFLICT (id) DO NOTHING`,
            [obj.subscription, customerId, created],
          );
        }
        break;
      }
      case 'customer.subscription.created':
      case 'customer.subscription.updated':
      case 'customer.subscription.deleted': {
        const status = event.type.endsWith('.deleted') ? 'canceled' : String(obj.status || 'incomplete');
        await client.query(
          `INSERT INTO subscriptions (id, customer_id, status, event_created) VALUES ($1, $2, $3, $4)
           ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, event_created = EXCLUDED.event_created,
             updated_at = now()
           WHERE subscriptions.status <> 'canceled'
             AND (EXCLUDED.status = 'canceled' OR EXCLUDED.event_created >= subscriptions.event_created)`,
          [String(obj.id), customerId, status, created],
        );
        break;
      }
      case 'invoice.paid':
      case 'invoice.payment_failed': {
        const paid = event.type === 'invoice.paid';
        // one row per invoice: a failed attempt later paid becomes paid, never a second payment
        await client.query(
          `INSERT INTO payments (invoice_id, customer_id, event_id, amount_cents, currency, status)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (invoice_id) DO UPDATE SET status = CASE WHEN payments.status = 'paid' THEN 'paid'
             ELSE EXCLUDED.status END, updated_at = now()`,
          [
            String(obj.id),
            customerId,
            event.id,
            Number(paid ? obj.amount_paid : obj.amount_due) || 0,
            String(obj.currency || 'usd'),
            paid ? 'paid' : 'failed',
          ],
        );
        break;
      }
      default:
        break;
    }
    await this.accounts.refreshTrading(client, customerId);
    return true;
  }
}

module.exports = { StripeWebhookHandler, WebhookRejected };

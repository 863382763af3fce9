'use strict';

// Seeded bugs for the UAT harness: each one a mistake an agency plausibly ships. Off by default;
// switched on with EXPRESS_BUGS=name[,name]. Each entry names the gate scenario that should catch it.

const BUGS = Object.freeze({
  no_idempotency: {
    description: 'clientRef is not checked before routing: a repeated POST places a second venue order',
    caughtBy: 'LATENCY-ORDER-PATH-SPIKE (client retries) -> no_duplicate_order',
  },
  no_reconnect: {
    description: 'the Rithmic connection is only retried at start-up: after a drop or ForcedLogout it stays down',
    caughtBy: 'RITHMIC-FORCED-LOGOUT -> recovery_slo',
  },
  positions_from_orders: {
    description: 'positions are summed from accepted order quantities instead of fills',
    caughtBy: 'EXEC-RESTING-LIMIT-ORDERS -> positions_reconcile, db_reconcile',
  },
  unsigned_webhooks: {
    description: 'Stripe webhooks are parsed without checking the Stripe-Signature header',
    caughtBy: 'WEBHOOK-BAD-SIGNATURE, WEBHOOK-STALE-TIMESTAMP -> webhook_authentic',
  },
  no_fill_dedup: {
    description: 'fill notifications are not de-duplicated by fill id: a repeated notification counts twice',
    caughtBy: 'RITHMIC-DUPLICATE-FILL -> positions_reconcile, db_reconcile',
  },
  no_reconcile: {
    description: 'no order reconciliation after a reconnect: fills made while disconnected are lost',
    caughtBy: 'RITHMIC-FILLS-HELD-ACROSS-RECONNECT -> no_lost_fill, positions_reconcile',
  },
  no_rate_limit: {
    description: 'the API rate limit is never applied: one client may send as fast as it likes, never a 429',
    caughtBy: 'SECURITY-FLOOD -> flood_rate_limited',
  },
  secrets_read_once: {
    description: 'SECRETS_FILE is read at start only and SIGHUP ignored: a rotated venue credential needs a restart',
    caughtBy: 'SECURITY-CREDENTIAL-ROTATION -> credentials_rotated',
  },
});

function parseBugs(raw) {
  const names = new Set(
    String(raw)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  for (const name of names) {
    if (!Object.hasOwn(BUGS, name)) {
      throw new Error(`unknown bug ${JSON.stringify(name)}; known: ${Object.keys(BUGS).join(', ')}`);
    }
  }
  return Object.freeze(names);
}

module.exports = { BUGS, parseBugs };

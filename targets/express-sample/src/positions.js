'use strict';

// Positions per account, venue and instrument: the signed sum of the venue's fills.

const SIGNED = "CASE WHEN direction = 'buy' THEN quantity ELSE -quantity END";

const FROM_FILLS = `
  SELECT venue, instrument, exchange,
         SUM(${SIGNED})::int AS net,
         SUM(CASE WHEN direction = 'buy' THEN quantity ELSE 0 END)::int AS bought,
         SUM(CASE WHEN direction = 'sell' THEN quantity ELSE 0 END)::int AS sold,
         COUNT(*)::int AS fills,
         MAX(created_at) AS last_fill_at
    FROM fills WHERE account_id = $1
   GROUP BY venue, instrument, exchange
   ORDER BY venue, instrument`;

// BUG(positions_from_orders): "orders are what the trader did", so the book is summed from them.
const FROM_ORDERS = `
  SELECT venue, instrument, exchange,
         SUM(${SIGNED})::int AS net,
         SUM(CASE WHEN direction = 'buy' THEN quantity ELSE 0 END)::int AS bought,
         SUM(CASE WHEN direction = 'sell' THEN quantity ELSE 0 END)::int AS sold,
         COUNT(*)::int AS fills,
         MAX(updated_at) AS last_fill_at
    FROM orders WHERE account_id = $1 AND status NOT IN ('REJECTED', 'FAILED', 'CANCELED')
   GROUP BY venue, instrument, exchange
   ORDER BY venue, instrument`;

async function positions(db, cfg, accountId) {
  const sql = cfg.bugs.has('positions_from_orders') ? FROM_ORDERS : FROM_FILLS;
  const { rows } = await db.query(sql, [accountId]);
  return rows.map((r) => ({
    venue: r.venue,
    instrument: r.instrument,
    exchange: r.exchange,
    netQuantity: r.net,
    side: r.net > 0 ? 'LONG' : r.net < 0 ? 'SHORT' : 'FLAT',
    boughtQuantity: r.bought,
    soldQuantity: r.sold,
    fillCount: r.fills,
    lastFillAt: r.last_fill_at ? r.last_fill_at.toISOString() : null,
  }));
}

async function netPosition(db, cfg, accountId, instrument) {
  const rows = await positions(db, cfg, accountId);
  return rows.filter((p) => p.instrument === instrument).reduce((sum, p) => sum + p.netQuantity, 0);
}

module.exports = { positions, netPosition };

-- Reconciliation SQL for the Express sample gateway's Postgres (targets/express-sample/src/db.js schema).
-- Each block: "-- name: <group>.<query>", "-- what: <the invariant>", then one SELECT.
-- A query returns the offending rows: no row means the invariant holds. The exception is a
-- "compare:" query, whose rows the checker holds against the middleware's API.

-- name: db.fills_duplicated
-- what: each venue fill id is booked once
SELECT venue, venue_fill_id, count(*) FROM fills GROUP BY venue, venue_fill_id HAVING count(*) > 1 ORDER BY 1, 2;

-- name: db.order_filled_qty_vs_fills
-- what: each order's filled quantity equals the sum of its booked fills, and never exceeds its quantity
SELECT o.client_ref, o.quantity, o.filled_quantity, COALESCE(sum(f.quantity), 0) FROM orders o
  LEFT JOIN fills f ON f.order_id = o.id
  GROUP BY o.id, o.client_ref, o.quantity, o.filled_quantity
  HAVING o.filled_quantity <> COALESCE(sum(f.quantity), 0) OR o.filled_quantity > o.quantity ORDER BY 1;

-- name: db.order_status_vs_fills
-- what: an order is FILLED exactly when its whole quantity is filled (CANCELED orders may be part-filled)
SELECT client_ref, status, quantity, filled_quantity FROM orders
  WHERE (status = 'FILLED') <> (filled_quantity >= quantity AND quantity > 0)
    AND status <> 'CANCELED' ORDER BY 1;

-- name: db.fills_orphaned
-- what: every fill belongs to a known account, and every Rithmic fill to a known order of that account
SELECT f.venue, f.venue_fill_id, f.order_id, f.account_id FROM fills f
  LEFT JOIN orders o ON o.id = f.order_id
  WHERE NOT EXISTS (SELECT 1 FROM trading_accounts a WHERE a.id = f.account_id)
     OR (f.venue = 'rithmic' AND (o.id IS NULL OR o.account_id <> f.account_id))
  ORDER BY 1, 2;

-- name: db.accounts_orphaned
-- what: every customer has a trading account, and every trading account a customer
SELECT 'account', a.id FROM trading_accounts a
  WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.id = a.customer_id)
UNION ALL
SELECT 'customer', c.id FROM customers c WHERE NOT EXISTS (SELECT 1 FROM trading_accounts a WHERE a.customer_id = c.id)
ORDER BY 1, 2;

-- name: db.audit_orders_unbalanced
-- what: the audit log holds exactly one order.received entry for each order
SELECT o.client_ref, count(l.id) FROM orders o
  LEFT JOIN audit_log l ON l.kind = 'order.received' AND l.ref = o.client_ref
  GROUP BY o.client_ref HAVING count(l.id) <> 1 ORDER BY 1;

-- name: db.audit_fills_unbalanced
-- what: the audit log holds exactly one fill.booked entry for each booked Rithmic fill
SELECT f.venue_fill_id, count(l.id) FROM fills f
  LEFT JOIN audit_log l ON l.kind = 'fill.booked' AND l.detail->>'venueFillId' = f.venue_fill_id
  WHERE f.venue = 'rithmic'
  GROUP BY f.id, f.venue_fill_id HAVING count(l.id) <> 1 ORDER BY 1;

-- name: db.positions
-- what: each account's position per venue and instrument is the signed sum of its fills
-- compare: positions
SELECT account_id, venue, instrument, sum(CASE WHEN direction = 'buy' THEN quantity ELSE -quantity END) FROM fills
  GROUP BY account_id, venue, instrument ORDER BY 1, 2, 3;

-- name: webhook.audit_effects
-- what: each accepted Stripe event id was applied exactly once (one stripe.event entry in the audit log)
SELECT e.event_id, count(l.id) FROM stripe_events e
  LEFT JOIN audit_log l ON l.kind = 'stripe.event' AND l.ref = e.event_id
  GROUP BY e.event_id HAVING count(l.id) <> 1 ORDER BY 1;

-- name: webhook.payments_duplicated
-- what: each Stripe event id records at most one payment
SELECT event_id, count(*) FROM payments GROUP BY event_id HAVING count(*) > 1 ORDER BY 1;

-- name: webhook.payments_orphaned
-- what: every payment comes from an accepted event, for a known customer
SELECT p.invoice_id, p.event_id FROM payments p
  WHERE NOT EXISTS (SELECT 1 FROM stripe_events e WHERE e.event_id = p.event_id)
     OR NOT EXISTS (SELECT 1 FROM customers c WHERE c.id = p.customer_id)
  ORDER BY 1;

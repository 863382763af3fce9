-- Reconciliation SQL for the reference middleware's Postgres (reference_middleware/db.py schema).
-- Each block: "-- name: <group>.<query>", "-- what: <the invariant>", then one SELECT.
-- A query returns the offending rows: no row means the invariant holds. The exception is a
-- "compare:" query, whose rows the checker holds against the middleware's API.

-- name: db.fills_duplicated
-- what: each venue fill id is booked once
SELECT venue, fill_id, count(*) FROM fills GROUP BY venue, fill_id HAVING count(*) > 1 ORDER BY 1, 2;

-- name: db.order_filled_qty_vs_fills
-- what: each order's filled quantity equals the sum of its booked fills
SELECT o.client_order_id, o.filled_qty, COALESCE(sum(f.qty), 0) FROM orders o
  LEFT JOIN fills f ON f.client_order_id = o.client_order_id AND f.venue = o.venue
  GROUP BY o.client_order_id, o.filled_qty HAVING o.filled_qty <> COALESCE(sum(f.qty), 0) ORDER BY 1;

-- name: db.fills_orphaned
-- what: every fill belongs to a known account, and every Rithmic or CQG fill to a known order
SELECT f.venue, f.fill_id, f.client_order_id, f.account_id FROM fills f
  WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = f.account_id)
     OR (f.venue IN ('rithmic', 'cqg') AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.client_order_id = f.client_order_id))
  ORDER BY 1, 2;

-- name: db.accounts_orphaned
-- what: every trader has an account, and no account names a missing trader (house accounts have none)
SELECT 'account', a.id FROM accounts a
  WHERE a.trader_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM traders t WHERE t.id = a.trader_id)
UNION ALL
SELECT 'trader', t.id FROM traders t WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.trader_id = t.id)
ORDER BY 1, 2;

-- name: db.txlog_orders_unbalanced
-- what: the transaction log holds exactly one order_received entry for each order
SELECT o.client_order_id, count(t.id) FROM orders o
  LEFT JOIN txlog t ON t.kind = 'order_received' AND t.detail->>'client_order_id' = o.client_order_id
  GROUP BY o.client_order_id HAVING count(t.id) <> 1 ORDER BY 1;

-- name: db.positions
-- what: each account's position per venue and symbol is the signed sum of its fills
-- compare: positions
SELECT account_id, venue, symbol, sum(CASE WHEN side = 'BUY' THEN qty ELSE -qty END) FROM fills
  GROUP BY account_id, venue, symbol ORDER BY 1, 2, 3;

-- name: webhook.txlog_effects
-- what: each accepted Stripe event id was applied exactly once (one webhook entry in the transaction log)
SELECT e.event_id, count(t.id) FROM webhook_events e
  LEFT JOIN txlog t ON t.kind = 'webhook' AND t.detail->>'event_id' = e.event_id
  GROUP BY e.event_id HAVING count(t.id) <> 1 ORDER BY 1;

-- name: webhook.payments_duplicated
-- what: each Stripe event id records at most one payment
SELECT event_id, count(*) FROM payments GROUP BY event_id HAVING count(*) > 1 ORDER BY 1;

-- name: webhook.payments_orphaned
-- what: every payment comes from an accepted event
SELECT p.id, p.event_id FROM payments p
  WHERE NOT EXISTS (SELECT 1 FROM webhook_events e WHERE e.event_id = p.event_id) ORDER BY 1;

-- name: lifecycle.trading_before_signature
-- what: no funded trader's account may trade before the contract is signed, nor once cancelled
SELECT a.id, l.customer_id, l.contract_status, l.cancelled_at FROM lifecycle l
  JOIN traders t ON t.customer_id = l.customer_id JOIN accounts a ON a.trader_id = t.id
  WHERE a.trading_enabled AND (l.contract_status IS DISTINCT FROM 'completed' OR l.cancelled_at IS NOT NULL)
  ORDER BY 1;

-- name: lifecycle.provisioned_without_signature
-- what: an MT5 login is created only for a trader whose contract is signed
SELECT customer_id, contract_status, mt5_login FROM lifecycle
  WHERE mt5_user_at IS NOT NULL AND contract_status IS DISTINCT FROM 'completed' ORDER BY 1;

-- name: lifecycle.payouts_over_deposit
-- what: a trader is never paid out more than was deposited
SELECT l.customer_id, l.deposit, sum(p.amount) FROM lifecycle l JOIN payouts p ON p.customer_id = l.customer_id
  WHERE p.status <> 'failed' GROUP BY l.customer_id, l.deposit HAVING sum(p.amount) > l.deposit ORDER BY 1;

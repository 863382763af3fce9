'use strict';

// What a CQG session has been told: contracts, the latest quote per contract, orders, fills and
// positions, kept from ServerMsg parts as they come (src/cqg/client.js feeds it). Prices are in
// CQG's scaled integers on the wire and correct prices here.

const { fromDecimal } = require('./schema');

const STATUS = Object.freeze({ REJECTED: 2, WORKING: 3, EXPIRED: 4, CANCELLED: 7, FILLED: 8 });
const FINAL = new Set([STATUS.REJECTED, STATUS.EXPIRED, STATUS.CANCELLED, STATUS.FILLED]);
const QUOTE_NAMES = { 0: 'trade', 1: 'bid', 2: 'ask' };

class Book {
  constructor() {
    this.contracts = new Map(); // contract_id -> { contract_id, symbol, scale, tick_size, exchange }
    this.quotes = new Map(); // contract_id -> { trade, bid, ask, utc_ms, is_snapshot }
    this.orders = new Map(); // order_id -> order view
    this.fills = new Map(); // trade_id -> { trade_id, order_id, qty, price }
    this.positions = new Map(); // `${account}:${contract}` -> net qty
    this.duplicateFills = 0; // fills listed again (a repeated status): counted once, here
  }

  orderByCl(clOrderId) {
    for (const view of this.orders.values()) if (view.cl_ids.has(clOrderId)) return view;
    return null;
  }

  // The contract's quote after one RealTimeMarketData (times: ms from the session's base_time).
  onMarketData(md, baseMs) {
    const contract = this.contracts.get(md.contract_id);
    const quote = { ...(this.quotes.get(md.contract_id) || {}), contract_id: md.contract_id };
    for (const q of md.quotes || []) {
      const name = QUOTE_NAMES[q.type ?? 0];
      if (!name) continue;
      quote[name] = contract ? roundTo(q.scaled_price * contract.scale, contract.scale) : q.scaled_price;
      quote.utc_ms = baseMs + (q.quote_utc_time ?? 0);
    }
    quote.is_snapshot = Boolean(md.is_snapshot);
    this.quotes.set(md.contract_id, quote);
    return quote;
  }

  // Statuses may repeat (a duplicate) or arrive out of order (a fill before WORKING): an order
  // never goes back from a final status or to a smaller filled quantity, and a fill counts once
  // by its trade_id.
  onOrderStatus(s) {
    const fillQty = fromDecimal(s.fill_qty);
    let view = this.orders.get(s.order_id);
    if (!view) {
      view = { order_id: s.order_id, cl_order_id: s.cl_order_id, cl_ids: new Set(), status: s.status };
      view.fill_qty = fillQty;
      this.orders.set(s.order_id, view);
    } else if (fillQty >= view.fill_qty && !(FINAL.has(view.status) && !FINAL.has(s.status))) {
      view.status = s.status;
      view.fill_qty = fillQty;
    }
    if (fillQty >= view.fill_qty) {
      view.avg_fill_price = s.avg_fill_price_correct;
      view.remaining_qty = fromDecimal(s.remaining_qty);
      view.fill_cnt = s.fill_cnt ?? 0;
    }
    view.cl_ids.add(s.cl_order_id);
    const contract = this.contracts.get(s.contract_id);
    for (const t of s.transaction_statuses || []) {
      if (t.cl_order_id) view.cl_ids.add(t.cl_order_id);
      if (!t.trade_id) continue;
      if (this.fills.has(t.trade_id)) {
        this.duplicateFills += 1;
        continue;
      }
      const price = contract ? roundTo(t.scaled_fill_price * contract.scale, contract.scale) : t.scaled_fill_price;
      this.fills.set(t.trade_id, { trade_id: t.trade_id, order_id: s.order_id, qty: fromDecimal(t.fill_qty), price });
    }
    return view;
  }

  onPosition(p) {
    let net = 0;
    for (const open of p.open_positions || []) net += fromDecimal(open.qty) * (open.is_short ? -1 : 1);
    this.positions.set(`${p.account_id}:${p.contract_id}`, net);
  }
}

// A price on the scale's decimal grid (0.01 * 680025 is 6800.25, not 6800.250000000001).
function roundTo(value, scale) {
  const decimals = Math.max(0, Math.round(-Math.log10(scale)));
  return Number(value.toFixed(decimals));
}

module.exports = { Book, STATUS, FINAL, QUOTE_NAMES };

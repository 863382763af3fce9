'use strict';

// Rithmic: the order plant (accounts, trade routes, orders and their notifications) and the
// ticker plant (last trade and best bid/offer for the instruments we route).

const { EventEmitter } = require('node:events');
const { Plant, NotConnected } = require('./plant');
const { INFRA } = require('./schema');
const { logger } = require('../log');

const log = logger('rithmic');

const TRANSACTION_TYPE = { buy: 1, sell: 2 };
const PRICE_TYPE = { limit: 1, market: 2 };
const DURATION_DAY = 1;
const MANUAL_OR_AUTO_AUTO = 2;
const USER_TYPE_TRADER = 3;
const UPDATE_BITS = 1 | 2; // LAST_TRADE | BBO

class VenueUnavailable extends Error {
  constructor(message) {
    super(message);
    this.venue = 'rithmic';
  }
}

class RithmicGateway extends EventEmitter {
  constructor({ cfg, schema, instruments, reconnect = true }) {
    super();
    this.cfg = cfg;
    this.instruments = instruments;
    this.fcmId = '';
    this.ibId = '';
    this.accounts = [];
    this.routes = new Map(); // exchange -> trade route
    this.lastQuoteAt = 0;
    this.quotes = new Map(); // symbol -> { bid, ask, last, at }
    this.order = new Plant({
      name: 'order',
      infraType: INFRA.ORDER_PLANT,
      cfg,
      schema,
      reconnect,
      afterLogin: (plant) => this._orderPlantLogin(plant),
    });
    this.ticker = new Plant({
      name: 'ticker',
      infraType: INFRA.TICKER_PLANT,
      cfg,
      schema,
      reconnect,
      afterLogin: (plant) => this._tickerPlantLogin(plant),
    });
    this.order.on('exchangeNotification', (m) => this.emit('exchangeNotification', m));
    this.order.on('ready', (info) => this.emit('orderPlantReady', info));
    this.order.on('down', (info) => this.emit('orderPlantDown', info));
    this.ticker.on('tick', (templateId, m) => this._onTick(templateId, m));
  }

  start() {
    this.order.start();
    this.ticker.start();
  }

  async stop() {
    await Promise.all([this.order.stop(), this.ticker.stop()]);
  }

  // Resolves once the order plant is ready, or after timeoutMs either way.
  waitForOrderPlant(timeoutMs) {
    if (this.order.isUp()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.order.off('ready', onReady);
        resolve(false);
      }, timeoutMs);
      const onReady = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.order.once('ready', onReady);
    });
  }

  orderPlantUp() {
    return this.order.isUp();
  }

  defaultAccount() {
    return this.accounts[0] || null;
  }

  status() {
    return {
      status: this.order.isUp() ? 'up' : 'down',
      accounts: this.accounts,
      lastQuoteAgeSec: this.lastQuoteAt ? Math.round((Date.now() - this.lastQuoteAt) / 1000 * 1000) / 1000 : null,
      plants: { order: this.order.status(), ticker: this.ticker.status() },
    };
  }

  // ------------------------------------------------------------------ plant set-up
  async _orderPlantLogin(plant) {
    const [info] = await plant.request(300, {});
    this.fcmId = info.fcm_id || this.fcmId;
    this.ibId = info.ib_id || this.ibId;
    const routes = await plant.request(310, { subscribe_for_updates: true });
    for (const row of routes) {
      if (row.exchange && row.trade_route && (row.is_default || !this.routes.has(row.exchange))) {
        this.routes.set(row.exchange, row.trade_route);
      }
    }
    const accounts = await plant.request(302, { fcm_id: this.fcmId, ib_id: this.ibId, user_type: USER_TYPE_TRADER });
    const ids = accounts.map((r) => r.account_id).filter(Boolean);
    if (ids.length) this.accounts = ids;
    for (const account of this.accounts) {
      await plant.request(308, { fcm_id: this.fcmId, ib_id: this.ibId, account_id: account });
    }
    log.info('order plant logged in', { accounts: this.accounts, routes: Object.fromEntries(this.routes) });
  }

  async _tickerPlantLogin(plant) {
    // Subscriptions are not acknowledged in a way worth waiting for: the data itself says so.
    for (const [symbol, exchange] of this.instruments) {
      plant.send(100, { symbol, exchange, request: 1, update_bits: UPDATE_BITS });
    }
  }

  _onTick(templateId, m) {
    this.lastQuoteAt = Date.now();
    const quote = this.quotes.get(m.symbol) || { instrument: m.symbol, exchange: m.exchange };
    if (templateId === 150) {
      quote.last = m.trade_price;
      quote.lastSize = m.trade_size;
    } else {
      quote.bid = m.bid_price;
      quote.bidSize = m.bid_size;
      quote.ask = m.ask_price;
      quote.askSize = m.ask_size;
    }
    // the venue's own timestamp (seconds since the epoch), else when we received it
    quote.ts = m.ssboe ? m.ssboe + (m.usecs || 0) / 1e6 : this.lastQuoteAt / 1000;
    quote.seq = (quote.seq || 0) + 1;
    this.quotes.set(m.symbol, quote);
  }

  // ------------------------------------------------------------------ orders
  _requireOrderPlant() {
    if (!this.order.isUp()) throw new VenueUnavailable('rithmic order plant is not connected');
  }

  /**
   * Send one new order (312). Resolves with the basket id; rejects with RithmicError (refused),
   * NotConnected (never sent), or ConnectionLost / RequestTimeout (outcome unknown).
   */
  async submitOrder({ clientRef, account, instrument, exchange, direction, quantity, orderType, limitPrice }) {
    this._requireOrderPlant();
    const route = this.routes.get(exchange);
    if (!route) throw new NotConnected(`order (no trade route for ${exchange})`);
    const fields = {
      user_tag: clientRef,
      fcm_id: this.fcmId,
      ib_id: this.ibId,
      account_id: account,
      symbol: instrument,
      exchange,
      quantity,
      transaction_type: TRANSACTION_TYPE[direction],
      duration: DURATION_DAY,
      price_type: PRICE_TYPE[orderType],
      trade_route: route,
      manual_or_auto: MANUAL_OR_AUTO_AUTO,
    };
    if (orderType === 'limit') fields.price = limitPrice;
    const rows = await this.order.request(312, fields, { timeoutMs: this.cfg.orderTimeoutMs });
    const withBasket = rows.filter((r) => r.basket_id);
    return withBasket.length ? withBasket[withBasket.length - 1].basket_id : '';
  }

  async cancelOrder({ account, basketId }) {
    this._requireOrderPlant();
    await this.order.request(316, {
      fcm_id: this.fcmId,
      ib_id: this.ibId,
      account_id: account,
      basket_id: basketId,
      manual_or_auto: MANUAL_OR_AUTO_AUTO,
    });
  }

  // The venue's view of every order of an account today (352 snapshots).
  async showOrders(account) {
    this._requireOrderPlant();
    const rows = await this.order.request(
      320,
      { fcm_id: this.fcmId, ib_id: this.ibId, account_id: account },
      { snapshotsFor: account, timeoutMs: Math.max(this.cfg.requestTimeoutMs, 5000) },
    );
    return rows.snapshots;
  }
}

module.exports = { RithmicGateway, VenueUnavailable };

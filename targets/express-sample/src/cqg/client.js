'use strict';

// A CQG WebAPI client over `ws`: one binary ClientMsg/ServerMsg per WebSocket frame. Logon (with
// redirects, 106, followed to the URL the server names), pings both ways, logoff; symbol resolution,
// level-1/2 market data, trade subscriptions, new orders and the order statuses that follow them.
// A conformance client (src/cqg/probe.js drives it), not wired into the gateway's HTTP API.

const { EventEmitter } = require('node:events');
const WebSocket = require('ws');
const { loadSchema, toDecimal, baseEpochMs } = require('./schema');
const { Book, FINAL, STATUS } = require('./book');

const PROTOCOL = Object.freeze({ major: 2, minor: 230 });
const LOGON = Object.freeze({ SUCCESS: 0, REDIRECTED: 106 });
const SCOPES = Object.freeze({ ORDERS: 1, POSITIONS: 2 });
const SIDE = Object.freeze({ BUY: 1, SELL: 2 });
const ORDER_TYPE = Object.freeze({ MKT: 1, LMT: 2, STP: 3, STL: 4 });
const KEEP_USER_MESSAGES = 20;

class CQGError extends Error {
  constructor(message, code = null, redirectUrl = '') {
    super(message);
    this.code = code;
    this.redirectUrl = redirectUrl;
  }
}

let clientSequence = 0;

class CQGClient extends EventEmitter {
  constructor({
    url,
    user,
    password,
    clientAppId = 'stackuat-express',
    requestTimeoutMs = 5000,
    pingIntervalMs = 10_000,
    pongTimeoutMs = 20_000,
    maxRedirects = 3,
    schema = loadSchema(),
  }) {
    super();
    Object.assign(this, { url, user, password, clientAppId, requestTimeoutMs, pingIntervalMs, pongTimeoutMs });
    Object.assign(this, { maxRedirects, schema });
    this.ws = null;
    this.logonResult = null;
    this.baseMs = 0;
    this.redirects = [];
    this.waiters = new Map(); // key -> { resolve, reject, timer }
    this.nextId = 1;
    this.book = new Book(); // contracts, quotes, orders, fills, positions
    this.userMessages = [];
    this.loggedOff = null;
    this.closedReason = null; // why the socket last closed under us (the server or the network)
    this.stats = { serverPingsAnswered: 0, pongs: 0, badFrames: 0, textFrames: 0 };
    this.pendingPing = null; // { token, sentAt }
    this.lastPing = 0;
    this.heartbeat = null;
  }

  // ------------------------------------------------------------------ session
  async connect() {
    let url = this.url;
    for (let hop = 0; ; hop += 1) {
      await this._open(url);
      const result = await this._request(
        {
          logon: {
            user_name: this.user,
            password: this.password,
            client_app_id: this.clientAppId,
            client_version: '1.0',
            protocol_version_major: PROTOCOL.major,
            protocol_version_minor: PROTOCOL.minor,
            session_settings: [1],
          },
        },
        'logon',
      );
      const code = result.result_code ?? 0;
      if (code === LOGON.SUCCESS) {
        this.url = url;
        this.logonResult = result;
        this.baseMs = baseEpochMs(result.base_time);
        this._startHeartbeat();
        return result;
      }
      this._terminate();
      const text = result.text_message || '';
      if (code === LOGON.REDIRECTED && result.redirect_url && hop < this.maxRedirects) {
        this.redirects.push(result.redirect_url);
        url = result.redirect_url;
        continue;
      }
      const where = code === LOGON.REDIRECTED ? ` to ${result.redirect_url || '(no url)'}, after ${hop} redirects` : '';
      throw new CQGError(`logon refused (${code})${where}: ${text}`, code, result.redirect_url || '');
    }
  }

  async logoff() {
    if (this.isOpen()) {
      const done = this._waiter('logged_off', this.requestTimeoutMs).catch(() => null);
      this._send({ logoff: { text_message: 'bye' } });
      await done;
    }
    this.close();
  }

  close() {
    this._terminate();
  }

  // One round trip of our own ping, in milliseconds.
  async ping() {
    const token = `p${++clientSequence}`;
    const sentAt = Date.now();
    this.pendingPing = { token, sentAt };
    this.lastPing = sentAt;
    await this._request({ ping: { token, ping_utc_time: sentAt - this.baseMs } }, `pong:${token}`);
    return Date.now() - sentAt;
  }

  // ------------------------------------------------------------------ requests
  async resolve(symbol) {
    const id = this.nextId++;
    const report = await this._request(
      { information_requests: [{ id, symbol_resolution_request: { symbol } }] },
      `info:${id}`,
    );
    if ((report.status_code ?? 0) !== 0) {
      throw new CQGError(`cannot resolve ${JSON.stringify(symbol)}: ${report.text_message || ''}`, report.status_code);
    }
    const meta = report.symbol_resolution_report?.contract_metadata || {};
    const contract = {
      contract_id: meta.contract_id,
      symbol: meta.contract_symbol,
      scale: meta.correct_price_scale,
      tick_size: meta.tick_size,
      exchange: meta.exchange,
    };
    if (!contract.contract_id || !contract.scale) {
      throw new CQGError(`symbol resolution of ${symbol} carried no contract id or price scale`);
    }
    this.book.contracts.set(contract.contract_id, contract);
    return contract;
  }

  async subscribeMarketData(contractId, level = 2) {
    const request_id = this.nextId++;
    const status = await this._request(
      { market_data_subscriptions: [{ contract_id: contractId, level, request_id }] },
      `md:${request_id}`,
    );
    if ((status.status_code ?? 0) !== 0) {
      throw new CQGError(`market data for ${contractId} refused: ${status.text_message || ''}`, status.status_code);
    }
  }

  // The next quote of a contract that has every one of `fields` (e.g. ['bid', 'ask']).
  nextQuote(contractId, fields = ['trade'], timeoutMs = this.requestTimeoutMs) {
    const wanted = (quote) =>
      quote.contract_id === contractId && fields.every((f) => quote[f] !== undefined) ? quote : null;
    return this._until('quote', wanted, timeoutMs, () => `no quote for contract ${contractId} within ${timeoutMs} ms`);
  }

  // Subscribe to orders and positions and wait for the snapshot to complete; the subscription id.
  async subscribeTrades(scopes = [SCOPES.ORDERS, SCOPES.POSITIONS], accountId = undefined) {
    const id = this.nextId++;
    const snapshot = this._waiter(`snapshot:${id}`, this.requestTimeoutMs);
    snapshot.catch(() => {}); // settled below; a refusal must not surface as an unhandled rejection
    const sub = { id, subscription_scopes: scopes, subscribe: true };
    if (accountId !== undefined) sub.account_id = accountId;
    const status = await this._request({ trade_subscriptions: [sub] }, `trade:${id}`);
    if ((status.status_code ?? 0) !== 0) {
      this._settle(`snapshot:${id}`, null);
      throw new CQGError(`trade subscription refused: ${status.text_message || ''}`, status.status_code);
    }
    await snapshot;
    return id;
  }

  // Send a new order; its cl_order_id once acknowledged (CQGError on a reject).
  async placeOrder({ accountId, contract, side, qty, orderType = ORDER_TYPE.MKT, limitPrice, clOrderId }) {
    const cl = clOrderId || `js${Date.now().toString(36)}${(++clientSequence).toString(36)}`;
    const order = {
      account_id: accountId,
      contract_id: contract.contract_id,
      cl_order_id: cl,
      order_type: orderType,
      side,
      duration: 1,
      qty: toDecimal(qty),
      is_manual: false,
    };
    if (limitPrice !== undefined) order.scaled_limit_price = Math.round(limitPrice / contract.scale);
    const request_id = this.nextId++;
    const answer = await this._request(
      { order_requests: [{ request_id, new_order: { order } }] },
      `order:${request_id}`,
    );
    if (answer.reject) {
      throw new CQGError(`order rejected (${answer.reject_code}): ${answer.text_message || ''}`, answer.reject_code);
    }
    return cl;
  }

  orderByCl(clOrderId) {
    return this.book.orderByCl(clOrderId);
  }

  // Resolves with the order view once it reaches a final status (FILLED, CANCELLED, ...).
  waitFinal(clOrderId, timeoutMs = this.requestTimeoutMs) {
    const final = () => {
      const view = this.orderByCl(clOrderId);
      return view && FINAL.has(view.status) ? view : null;
    };
    if (final()) return Promise.resolve(final());
    const late = () => {
      const status = this.orderByCl(clOrderId)?.status ?? 'none';
      return `order ${clOrderId} not final within ${timeoutMs} ms (status ${status})`;
    };
    return this._until('order', final, timeoutMs, late);
  }

  // The first `event` for which pick() gives a value; rejected on timeout or when the socket closes.
  _until(event, pick, timeoutMs, lateMessage) {
    return new Promise((resolve, reject) => {
      const done = (err, value) => {
        clearTimeout(timer);
        this.off(event, onEvent);
        this.off('closed', onClosed);
        if (err) reject(err);
        else resolve(value);
      };
      const timer = setTimeout(() => done(new CQGError(lateMessage())), timeoutMs);
      const onEvent = (arg) => {
        const value = pick(arg);
        if (value) done(null, value);
      };
      const onClosed = ({ code, reason }) => done(new CQGError(reason, code));
      this.on(event, onEvent);
      this.on('closed', onClosed);
    });
  }

  // ------------------------------------------------------------------ socket
  _open(url) {
    this._terminate();
    return new Promise((resolve, reject) => {
      let ws;
      try {
        ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: this.requestTimeoutMs });
      } catch (err) {
        reject(new CQGError(`bad url ${url}: ${err.message}`));
        return;
      }
      ws.binaryType = 'nodebuffer';
      this.ws = ws;
      ws.on('open', resolve);
      ws.on('error', (err) => reject(new CQGError(`cannot connect to ${url}: ${err.message}`)));
      ws.on('message', (data, isBinary) => this._onFrame(data, isBinary));
      ws.on('close', (code, reason) => this._onClose(ws, code, String(reason)));
    });
  }

  isOpen() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  _terminate() {
    clearInterval(this.heartbeat);
    this.heartbeat = null;
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.terminate();
      this._failAll(new CQGError('connection closed by the client'));
      this.emit('closed', { code: null, reason: 'connection closed by the client' });
    }
  }

  _onClose(ws, code, reason) {
    if (ws !== this.ws) return; // an old socket (a redirect's) closing late
    this.ws = null;
    clearInterval(this.heartbeat);
    const off = this.loggedOff ? `, logged off (reason ${this.loggedOff.logoff_reason})` : '';
    const last = this.userMessages.at(-1);
    const why = `connection closed (${code}${reason ? ` ${reason}` : ''})${off}${last ? `: ${last.text}` : ''}`;
    this.closedReason = why;
    this._failAll(new CQGError(why, code));
    this.emit('closed', { code, reason: why });
  }

  _send(fields) {
    if (!this.isOpen()) throw new CQGError('not connected');
    this.ws.send(this.schema.encode(fields), { binary: true });
  }

  _waiter(key, timeoutMs) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(key);
        reject(new CQGError(`no answer (${key.split(':')[0]}) within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(key, { resolve, reject, timer });
    });
  }

  async _request(fields, key) {
    const answer = this._waiter(key, this.requestTimeoutMs);
    try {
      this._send(fields);
    } catch (err) {
      this._settle(key, null, err);
    }
    return answer;
  }

  _settle(key, value, err = null) {
    const waiter = this.waiters.get(key);
    if (!waiter) return;
    this.waiters.delete(key);
    clearTimeout(waiter.timer);
    if (err) waiter.reject(err);
    else waiter.resolve(value);
  }

  _failAll(err) {
    for (const key of [...this.waiters.keys()]) this._settle(key, null, err);
  }

  _startHeartbeat() {
    this.lastPing = Date.now();
    const every = Math.max(Math.min(this.pingIntervalMs, this.pongTimeoutMs) / 4, 10);
    this.heartbeat = setInterval(() => this._beat(), every);
    this.heartbeat.unref();
  }

  // Our own pings; a pong later than pongTimeoutMs drops the socket, so a silent server is seen as down.
  _beat() {
    const now = Date.now();
    if (this.pendingPing && now - this.pendingPing.sentAt > this.pongTimeoutMs) {
      this.userMessages.push({ text: `no pong within ${this.pongTimeoutMs} ms` });
      this.ws?.terminate();
    } else if (!this.pendingPing && now - this.lastPing >= this.pingIntervalMs && this.isOpen()) {
      const token = `h${++clientSequence}`;
      this.pendingPing = { token, sentAt: now };
      this.lastPing = now;
      this._send({ ping: { token, ping_utc_time: now - this.baseMs } });
    }
  }

  // ------------------------------------------------------------------ what the server sends
  _onFrame(data, isBinary) {
    if (!isBinary) {
      this.stats.textFrames += 1; // a real server never sends one: ignored, counted
      return;
    }
    let msg;
    try {
      msg = this.schema.decode(data);
    } catch {
      this.stats.badFrames += 1; // garbage or truncated: the frame is dropped, the session goes on
      return;
    }
    this._handle(msg);
  }

  _handle(msg) {
    if (msg.logon_result) this._settle('logon', msg.logon_result);
    if (msg.logged_off) {
      this.loggedOff = msg.logged_off;
      this._settle('logged_off', msg.logged_off);
      this.emit('loggedOff', msg.logged_off);
    }
    if (msg.ping && this.isOpen()) {
      this.stats.serverPingsAnswered += 1;
      const { token, ping_utc_time } = msg.ping;
      this._send({ pong: { token, ping_utc_time, pong_utc_time: Date.now() - this.baseMs } });
    }
    if (msg.pong && this.pendingPing && msg.pong.token === this.pendingPing.token) {
      this.stats.pongs += 1;
      this.pendingPing = null;
      this._settle(`pong:${msg.pong.token}`, msg.pong);
    }
    for (const m of msg.user_messages || []) {
      this.userMessages.push({ type: m.message_type, text: m.text || '' });
      if (this.userMessages.length > KEEP_USER_MESSAGES) this.userMessages.shift();
    }
    for (const r of msg.information_reports || []) this._settle(`info:${r.id}`, r);
    for (const s of msg.market_data_subscription_statuses || []) this._settle(`md:${s.request_id}`, s);
    for (const s of msg.trade_subscription_statuses || []) this._settle(`trade:${s.id}`, s);
    for (const c of msg.trade_snapshot_completions || []) this._settle(`snapshot:${c.subscription_id}`, c);
    for (const a of msg.order_request_acks || []) this._settle(`order:${a.request_id}`, a);
    for (const r of msg.order_request_rejects || []) this._settle(`order:${r.request_id}`, { ...r, reject: true });
    for (const md of msg.real_time_market_data || []) this.emit('quote', this.book.onMarketData(md, this.baseMs));
    for (const s of msg.order_statuses || []) this.emit('order', this.book.onOrderStatus(s));
    for (const p of msg.position_statuses || []) this.book.onPosition(p);
  }
}

module.exports = { CQGClient, CQGError, SIDE, ORDER_TYPE, STATUS, SCOPES, LOGON };

'use strict';

// The trader stream: a WebSocket at /api/v2/stream?accountId=ID&instruments=A,B.
// Messages are JSON: {"type":"order","data":<order>} on every change of one of the account's orders,
// and {"type":"quote","data":{instrument,bid,ask,last,ts}} conflated to one per instrument per
// interval (a trader screen does not need every tick; `ts` is the venue's time, epoch seconds).
// The handshake carries the API's key like every /api/v2 call (`authorize(header)`, see auth.js).

const { WebSocketServer } = require('ws');
const { logger } = require('./log');

const log = logger('stream');
const PATH = '/api/v2/stream';
const SLOW_CLIENT_BYTES = 1 << 20; // a client this far behind misses quotes (never order updates)

class StreamHub {
  constructor({ server, rithmic, orders, authorize = () => true, quoteIntervalMs = 1000 }) {
    this.rithmic = rithmic;
    this.clients = new Set();
    this.wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 * 1024 });
    server.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url, 'http://localhost');
      if (url.pathname !== PATH) {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
        return;
      }
      if (!authorize(req.headers.authorization)) {
        socket.end('HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer\r\nConnection: close\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this._accept(ws, url));
    });
    orders.on('order', (order) => this._publishOrder(order));
    this.timer = setInterval(() => this._publishQuotes(), quoteIntervalMs);
    this.timer.unref();
  }

  _accept(ws, url) {
    const instruments = (url.searchParams.get('instruments') || '').split(',').filter(Boolean);
    const client = {
      ws,
      accountId: url.searchParams.get('accountId') || null,
      instruments: instruments.length ? new Set(instruments) : null, // null: every instrument
      sent: new Map(), // instrument -> quote seq last sent
    };
    this.clients.add(client);
    ws.on('close', () => this.clients.delete(client));
    ws.on('error', () => this.clients.delete(client));
    ws.on('message', () => {}); // nothing to receive; pings are answered by ws itself
    this._send(client, { type: 'hello', data: { accountId: client.accountId, instruments: instruments } });
    this._sendQuotes(client);
  }

  _send(client, message) {
    if (client.ws.readyState !== client.ws.OPEN) return;
    client.ws.send(JSON.stringify(message));
  }

  _publishOrder(order) {
    for (const client of this.clients) {
      if (client.accountId === null || client.accountId === order.accountId) {
        this._send(client, { type: 'order', data: order });
      }
    }
  }

  _sendQuotes(client) {
    if (client.ws.bufferedAmount > SLOW_CLIENT_BYTES) return;
    for (const [instrument, quote] of this.rithmic.quotes) {
      if (client.instruments && !client.instruments.has(instrument)) continue;
      if (client.sent.get(instrument) === quote.seq) continue;
      client.sent.set(instrument, quote.seq);
      const { seq, ...data } = quote;
      this._send(client, { type: 'quote', data });
    }
  }

  _publishQuotes() {
    for (const client of this.clients) {
      try {
        this._sendQuotes(client);
      } catch (err) {
        log.warn('quote fan-out failed', { err });
      }
    }
  }

  close() {
    clearInterval(this.timer);
    for (const client of this.clients) client.ws.terminate();
    this.wss.close();
  }
}

module.exports = { StreamHub };

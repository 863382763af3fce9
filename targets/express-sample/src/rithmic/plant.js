'use strict';

// One R|Protocol plant connection (ticker or order): WebSocket with binary frames, each a 4-byte
// big-endian length prefix and one protobuf message; login, request/response correlation by
// user_msg, heartbeats, a silence watchdog, and reconnection with exponential backoff.

const { EventEmitter } = require('node:events');
const WebSocket = require('ws');
const { logger } = require('../log');

const PROBE_AFTER_MS = 1000; // an idle plant is probed with a heartbeat this often
const WATCHDOG_TICK_MS = 250;

class RithmicError extends Error {
  constructor(templateId, rpCode) {
    super(`rithmic ${templateId}: ${rpCode.join(' ')}`);
    this.rpCode = rpCode;
    this.code = rpCode[0];
  }
}

class NotConnected extends Error {
  constructor(plant) {
    super(`rithmic ${plant} plant is not connected`);
  }
}

// The request may have reached the venue: its outcome is unknown.
class ConnectionLost extends Error {
  constructor(plant, reason) {
    super(`rithmic ${plant} plant connection lost (${reason})`);
  }
}

class RequestTimeout extends Error {
  constructor(templateId, ms) {
    super(`no answer to template ${templateId} within ${ms} ms`);
  }
}

let sequence = 0;

class Plant extends EventEmitter {
  /**
   * @param {object} opts
   * @param {string} opts.name            'order' | 'ticker'
   * @param {number} opts.infraType       SysInfraType
   * @param {object} opts.cfg             config.rithmic
   * @param {object} opts.schema          loaded Schema
   * @param {(plant: Plant) => Promise<void>} opts.afterLogin  plant-specific set-up
   * @param {boolean} opts.reconnect      false: give up after the first successful session ends
   */
  constructor({ name, infraType, cfg, schema, afterLogin, reconnect = true }) {
    super();
    this.name = name;
    this.infraType = infraType;
    this.cfg = cfg;
    this.schema = schema;
    this.afterLogin = afterLogin;
    this.reconnect = reconnect;
    this.log = logger(`rithmic.${name}`);
    this.ws = null;
    this.state = 'idle'; // idle | connecting | logging_in | ready | down | stopped
    this.pending = new Map(); // user_msg id -> request
    this.snapshotCollectors = new Map(); // account_id -> request collecting 352 snapshots
    this.heartbeatMs = 30_000;
    this.lastRx = 0;
    this.lastTx = 0;
    this.lastProbe = 0;
    this.attempt = 0;
    this.sessions = 0;
    this.stats = { reconnects: 0, watchdogTrips: 0, badFrames: 0, forcedLogouts: 0, rejects: 0 };
    this.lastError = null;
    this.everReady = false;
    this._timer = null;
    this._watchdog = null;
  }

  isUp() {
    return this.state === 'ready';
  }

  status() {
    return {
      state: this.state,
      up: this.isUp(),
      idleMs: this.lastRx ? Date.now() - this.lastRx : null,
      ...this.stats,
      lastError: this.lastError,
    };
  }

  start() {
    if (this.state !== 'idle') return;
    this._watchdog = setInterval(() => this._checkSilence(), WATCHDOG_TICK_MS);
    this._watchdog.unref();
    this._connect();
  }

  async stop() {
    const ws = this.ws;
    this.state = 'stopped';
    clearTimeout(this._timer);
    clearInterval(this._watchdog);
    this._failPending(new ConnectionLost(this.name, 'shutting down'));
    if (ws && ws.readyState === WebSocket.OPEN) {
      try {
        this._write(12, {});
      } catch {
        /* going away anyway */
      }
      ws.close(1000, 'bye');
    } else if (ws) {
      ws.terminate();
    }
  }

  // ------------------------------------------------------------------ connection lifecycle
  _connect() {
    if (this.state === 'stopped') return;
    this.state = 'connecting';
    let ws;
    try {
      ws = new WebSocket(this.cfg.url, {
        perMessageDeflate: false,
        handshakeTimeout: this.cfg.requestTimeoutMs,
        maxPayload: 4 * 1024 * 1024,
      });
    } catch (err) {
      this._dropped(null, `bad url: ${err.message}`);
      return;
    }
    this.ws = ws;
    ws.binaryType = 'nodebuffer';
    ws.on('open', () => {
      this.lastRx = Date.now();
      this._login(ws).catch((err) => {
        this.lastError = err.message;
        this.log.warn('login failed', { err });
        ws.terminate();
      });
    });
    ws.on('message', (data, isBinary) => this._onFrame(ws, data, isBinary));
    ws.on('error', (err) => {
      this.lastError = err.message;
    });
    ws.on('close', (code, reason) => this._dropped(ws, `closed ${code} ${String(reason || '')}`.trim()));
  }

  async _login(ws) {
    this.state = 'logging_in';
    const [login] = await this.request(10, {
      template_version: '3.9',
      user: this.cfg.user,
      password: this.cfg.password, // read now: a password rotated since the last login (SIGHUP) applies
      app_name: this.cfg.appName,
      app_version: this.cfg.appVersion,
      system_name: this.cfg.systemName,
      infra_type: this.infraType,
    }, { timeoutMs: this.cfg.loginTimeoutMs });
    const interval = Number(login.heartbeat_interval) || 30;
    this.heartbeatMs = Math.max(interval - 1, 1) * 1000;
    this._write(18, {}); // one heartbeat straight after login, as Rithmic expects
    await this.afterLogin(this);
    if (ws !== this.ws || this.state === 'stopped') return;
    this.state = 'ready';
    this.attempt = 0;
    this.sessions += 1;
    if (this.everReady) this.stats.reconnects += 1;
    this.everReady = true;
    this.lastError = null;
    this.log.info('plant ready', { session: this.sessions });
    this.emit('ready', { reconnected: this.sessions > 1 });
  }

  _dropped(ws, reason) {
    if (ws !== null && ws !== this.ws) return; // an old socket's late close
    const wasReady = this.state === 'ready';
    this.ws = null;
    this._failPending(new ConnectionLost(this.name, reason));
    if (this.state === 'stopped') return;
    this.state = 'down';
    if (wasReady) {
      this.log.warn('plant down', { reason });
      this.emit('down', { reason });
    }
    if (!this.reconnect && this.everReady) {
      // BUG(no_reconnect): only the start-up connect loop retries.
      this.log.error('rithmic connection lost', { reason });
      return;
    }
    this.attempt += 1;
    const backoff = Math.min(this.cfg.reconnectBaseMs * 2 ** (this.attempt - 1), this.cfg.reconnectMaxMs);
    const delay = backoff + Math.floor(Math.random() * 100);
    this.log.info('reconnecting', { attempt: this.attempt, delayMs: delay, reason });
    clearTimeout(this._timer);
    this._timer = setTimeout(() => this._connect(), delay);
  }

  _failPending(err) {
    for (const req of this.pending.values()) {
      clearTimeout(req.timer);
      req.reject(err);
    }
    this.pending.clear();
    this.snapshotCollectors.clear();
  }

  // A gateway can stay connected and say nothing; heartbeats keep an idle plant talking, and a
  // plant mute for longer than the watchdog bound is dropped (then reconnected).
  _checkSilence() {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    if (this.state !== 'ready' && this.state !== 'logging_in') return;
    const now = Date.now();
    const idle = now - this.lastRx;
    if (idle > this.cfg.watchdogMs) {
      this.stats.watchdogTrips += 1;
      this.lastError = `silent for ${idle} ms`;
      this.log.warn('plant silent: dropping the connection', { idleMs: idle });
      ws.terminate();
      return;
    }
    const probe = idle > PROBE_AFTER_MS && now - this.lastProbe > PROBE_AFTER_MS;
    if (probe || now - this.lastTx > this.heartbeatMs) {
      this.lastProbe = now;
      try {
        this._write(18, {});
      } catch {
        /* the close handler deals with it */
      }
    }
  }

  // ------------------------------------------------------------------ sending
  _write(templateId, fields) {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) throw new NotConnected(this.name);
    const payload = this.schema.encode(templateId, fields);
    const frame = Buffer.allocUnsafe(4 + payload.length);
    frame.writeInt32BE(payload.length, 0);
    frame.set(payload, 4);
    ws.send(frame, { binary: true });
    this.lastTx = Date.now();
  }

  // Fire-and-forget message (subscriptions, heartbeats); throws NotConnected when down.
  send(templateId, fields) {
    this._write(templateId, fields);
  }

  /**
   * Send a request and collect its answer: rows (rq_handler_rp_code) until the message carrying
   * rp_code. Resolves with every message of the answer; rejects with RithmicError, NotConnected
   * (nothing was sent), ConnectionLost or RequestTimeout (it may have been acted on).
   */
  request(templateId, fields, { timeoutMs = this.cfg.requestTimeoutMs, snapshotsFor = null } = {}) {
    return new Promise((resolve, reject) => {
      sequence += 1;
      const id = `${this.name}-${sequence}`;
      const req = { id, templateId, rows: [], snapshots: [], resolve, reject, timer: null };
      try {
        this._write(templateId, { ...fields, user_msg: [id] });
      } catch (err) {
        reject(err);
        return;
      }
      req.timer = setTimeout(() => {
        this.pending.delete(id);
        if (snapshotsFor) this.snapshotCollectors.delete(snapshotsFor);
        reject(new RequestTimeout(templateId, timeoutMs));
      }, timeoutMs);
      this.pending.set(id, req);
      if (snapshotsFor) this.snapshotCollectors.set(snapshotsFor, req);
    });
  }

  // ------------------------------------------------------------------ receiving
  _onFrame(ws, data, isBinary) {
    if (ws !== this.ws) return;
    this.lastRx = Date.now();
    if (!isBinary || data.length < 4) {
      this._badFrame('not a binary R|Protocol frame');
      return;
    }
    const declared = data.readInt32BE(0);
    if (declared !== data.length - 4) {
      this._badFrame(`length prefix ${declared} does not match ${data.length - 4} bytes`);
      return;
    }
    let decoded;
    try {
      decoded = this.schema.decode(data.subarray(4));
    } catch (err) {
      this._badFrame(`undecodable protobuf: ${err.message}`);
      return;
    }
    const { templateId, message } = decoded;
    if (!message) {
      this.log.debug('unknown template dropped', { templateId });
      return;
    }
    this._dispatch(templateId, message);
  }

  _badFrame(reason) {
    this.stats.badFrames += 1;
    this.log.warn('bad frame dropped', { reason });
  }

  _dispatch(templateId, m) {
    const tag = m.user_msg && m.user_msg.length ? m.user_msg[0] : null;
    const req = tag ? this.pending.get(tag) : undefined;
    if (req) {
      const final = m.rp_code && m.rp_code.length > 0;
      if (!final) {
        req.rows.push(m);
        return;
      }
      clearTimeout(req.timer);
      this.pending.delete(tag);
      for (const [account, collector] of this.snapshotCollectors) {
        if (collector === req) this.snapshotCollectors.delete(account);
      }
      const code = m.rp_code[0];
      if (code === '0' || code === '7') {
        req.rows.push(m);
        req.resolve(Object.assign(req.rows, { snapshots: req.snapshots }));
      } else {
        req.reject(new RithmicError(templateId, Array.from(m.rp_code)));
      }
      return;
    }
    switch (templateId) {
      case 19:
      case 101:
        return;
      case 75:
        this.stats.rejects += 1;
        this.log.warn('reject from gateway', { rpCode: Array.from(m.rp_code || []) });
        return;
      case 77:
        this.stats.forcedLogouts += 1;
        this.log.warn('forced logout: reconnecting');
        if (this.ws) this.ws.terminate();
        return;
      case 352:
        if (m.is_snapshot) {
          const collector = this.snapshotCollectors.get(m.account_id);
          if (collector) collector.snapshots.push(m);
          return;
        }
        this.emit('exchangeNotification', m);
        return;
      case 351:
        this.emit('orderNotification', m);
        return;
      case 150:
      case 151:
        this.emit('tick', templateId, m);
        return;
      default:
        this.log.debug('unsolicited message', { templateId });
    }
  }
}

module.exports = { Plant, RithmicError, NotConnected, ConnectionLost, RequestTimeout };

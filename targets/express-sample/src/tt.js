'use strict';

// Trading Technologies REST API 2.0 client (Node's fetch): token lifecycle, a client-side rate
// limit, retries on 429 (honouring Retry-After) and 5xx, account provisioning and ledger fills.

const crypto = require('node:crypto');
const { logger } = require('./log');

const log = logger('tt');
const MAX_ATTEMPTS = 6;
const MAX_RETRY_AFTER_MS = 30_000;
const REQUEST_ID_PREFIX = 'dmagateway-acmeprop';

class TTError extends Error {
  constructor(message, status = null) {
    super(message);
    this.status = status;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function retryAfterMs(response) {
  const raw = response.headers.get('retry-after');
  if (raw === null) return 1000;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.min(Math.max(seconds * 1000, 0), MAX_RETRY_AFTER_MS);
  const date = Date.parse(raw);
  return Number.isFinite(date) ? Math.min(Math.max(date - Date.now(), 0), MAX_RETRY_AFTER_MS) : 1000;
}

// TT's transactTime is epoch nanoseconds, beyond a double's exact range: keep it as a string.
function parseLedgerJson(text) {
  return JSON.parse(text.replace(/"transactTime"\s*:\s*(\d+)/g, '"transactTime":"$1"'));
}

class TTClient {
  constructor(cfg) {
    this.cfg = cfg;
    this.token = null;
    this.tokenExpiresAt = 0;
    this.tokenPromise = null;
    this.nextSlot = 0;
    this.stats = { requests: 0, tokenFetches: 0, rateLimited: 0, serverErrors: 0 };
    this.lastOkAt = 0;
    this.lastError = null;
  }

  status() {
    return {
      status: this.lastOkAt && !this.lastError ? 'up' : 'down',
      lastOkAgeSec: this.lastOkAt ? (Date.now() - this.lastOkAt) / 1000 : null,
      lastError: this.lastError,
      ...this.stats,
    };
  }

  url(service, path) {
    return `${this.cfg.baseUrl}/${service}/${this.cfg.env}/${path.replace(/^\/+/, '')}`;
  }

  // Client-side throttle: TT's plans allow a few requests a second per app key.
  async _slot() {
    const gap = 1000 / this.cfg.maxRps;
    const now = Date.now();
    const at = Math.max(now, this.nextSlot);
    this.nextSlot = at + gap;
    if (at > now) await sleep(at - now);
  }

  // One HTTP exchange with the gateway's retry rules: 429 waits Retry-After, 5xx backs off.
  async _send(method, url, { headers = {}, body, retryNetwork = true } = {}) {
    let lastErr;
    let redirects = 0;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
      await this._slot();
      let response;
      try {
        this.stats.requests += 1;
        response = await fetch(url, {
          method,
          headers: { 'x-api-key': this.cfg.appKey, ...headers },
          body,
          // redirects are followed here, each hop through the throttle: TT counts every request
          redirect: 'manual',
          signal: AbortSignal.timeout(this.cfg.timeoutMs),
        });
      } catch (err) {
        lastErr = new TTError(`TT unreachable: ${err.cause ? err.cause.code || err.cause.message : err.message}`);
        this.lastError = lastErr.message;
        if (!retryNetwork || attempt === MAX_ATTEMPTS) throw lastErr;
        await sleep(Math.min(250 * 2 ** attempt, 4000));
        continue;
      }
      if ([301, 302, 303, 307, 308].includes(response.status) && response.headers.get('location')) {
        await response.arrayBuffer().catch(() => {});
        redirects += 1;
        if (redirects > 5) throw new TTError('TT redirect loop', response.status);
        url = new URL(response.headers.get('location'), url).toString();
        if (response.status === 303) {
          method = 'GET';
          body = undefined;
        }
        attempt -= 1; // a redirect is not a failed attempt
        continue;
      }
      if (response.status === 429) {
        this.stats.rateLimited += 1;
        const wait = retryAfterMs(response);
        await response.arrayBuffer().catch(() => {});
        log.warn('rate limited by TT', { url: url.split('?')[0], waitMs: wait, attempt });
        if (attempt === MAX_ATTEMPTS) throw new TTError('TT rate limit: giving up', 429);
        // the throttle must not let the next request go before Retry-After has passed
        this.nextSlot = Math.max(this.nextSlot, Date.now() + wait);
        continue;
      }
      if (response.status >= 500) {
        this.stats.serverErrors += 1;
        await response.arrayBuffer().catch(() => {});
        lastErr = new TTError(`TT HTTP ${response.status}`, response.status);
        this.lastError = lastErr.message;
        if (attempt === MAX_ATTEMPTS) throw lastErr;
        await sleep(Math.min(250 * 2 ** attempt, 4000));
        continue;
      }
      return response;
    }
    throw lastErr || new TTError('TT request failed');
  }

  async getToken({ force = false } = {}) {
    if (!force && this.token && Date.now() < this.tokenExpiresAt) return this.token;
    if (!this.tokenPromise) {
      this.tokenPromise = this._fetchToken().finally(() => {
        this.tokenPromise = null;
      });
    }
    return this.tokenPromise;
  }

  // The app secret is read at each token request: one rotated since (SIGHUP) applies from the next.
  async _fetchToken() {
    const form = new URLSearchParams({ grant_type: 'user_app', app_key: `${this.cfg.appKey}:${this.cfg.appSecret}` });
    const response = await this._send('POST', this.url('ttid', 'token'), {
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    if (response.status !== 200) {
      await response.arrayBuffer().catch(() => {});
      throw new TTError(`token request failed: HTTP ${response.status}`, response.status);
    }
    let body;
    try {
      body = await response.json();
    } catch {
      throw new TTError('token response is not JSON', 200);
    }
    const ttl = Number(body.seconds_until_expiry) || 60;
    // refresh ahead of expiry: a fifth of the lifetime, between a quarter second and a minute
    const margin = Math.min(Math.max(ttl * 0.2, 0.25), 60);
    this.token = String(body.access_token);
    this.tokenExpiresAt = Date.now() + (ttl - margin) * 1000;
    this.stats.tokenFetches += 1;
    return this.token;
  }

  /** An authenticated call: the parsed JSON body, or TTError. */
  async call(method, service, path, { query = {}, json, ledger = false } = {}) {
    for (let attempt = 1; attempt <= 2; attempt += 1) {
      const token = await this.getToken();
      const params = new URLSearchParams({ ...query, requestId: `${REQUEST_ID_PREFIX}--${crypto.randomUUID()}` });
      const headers = { Authorization: `Bearer ${token}` };
      if (json !== undefined) headers['Content-Type'] = 'application/json';
      const response = await this._send(method, `${this.url(service, path)}?${params}`, {
        headers,
        body: json === undefined ? undefined : JSON.stringify(json),
        // a POST that timed out may have been applied: the caller decides (it looks before it creates)
        retryNetwork: method === 'GET',
      });
      if (response.status === 401 && attempt === 1) {
        await response.arrayBuffer().catch(() => {});
        await this.getToken({ force: true });
        continue;
      }
      const text = await response.text().catch(() => '');
      if (response.status >= 300) {
        this.lastError = `HTTP ${response.status} on ${service}/${path}`;
        throw new TTError(`${this.lastError}: ${text.slice(0, 200)}`, response.status);
      }
      let body;
      try {
        body = ledger ? parseLedgerJson(text) : JSON.parse(text);
      } catch {
        this.lastError = `malformed JSON from ${service}/${path}`;
        throw new TTError(this.lastError, response.status);
      }
      this.lastOkAt = Date.now();
      this.lastError = null;
      return body;
    }
    throw new TTError('unreachable');
  }

  // ------------------------------------------------------------------ provisioning
  /** Find the account by name or create it, then set its risk limits; TT's account id. */
  async provisionAccount(name, { maxOrderQty, maxPosition }) {
    const listing = await this.call('GET', 'ttaccount', 'accounts');
    const found = (listing.accounts || []).find((a) => a.name === name);
    let accountId;
    if (found) {
      accountId = Number(found.id);
    } else {
      const made = await this.call('POST', 'ttaccount', 'account', {
        json: { name, description: 'DMA gateway onboarding' },
      });
      accountId = Number(made.accounts[0].id);
    }
    await this.call('POST', 'ttaccount', `account/${accountId}/risklimits`, {
      json: { riskLimits: [{ maxOrderQty, maxPosition }] },
    });
    return accountId;
  }

  // ------------------------------------------------------------------ fills
  /** Every fill from `cursor` (epoch ns, as a string) on, page after page; and the next cursor. */
  async fillsSince(cursor) {
    const fills = [];
    let next = BigInt(cursor || 0);
    for (let page = 0; page < 1000; page += 1) {
      const body = await this.call('GET', 'ttledger', 'fills', { query: { minTimestamp: next.toString() }, ledger: true });
      const rows = body.fills || [];
      fills.push(...rows);
      if (rows.length) next = BigInt(rows[rows.length - 1].transactTime) + 1n;
      if (String(body.lastPage ?? 'true').toLowerCase() === 'true' || rows.length === 0) break;
    }
    return { fills, cursor: next.toString() };
  }
}

module.exports = { TTClient, TTError };

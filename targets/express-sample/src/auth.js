'use strict';

// Who may call the API, and how often. Every /api/v2 call (and the stream's handshake) carries
// `Authorization: Bearer <API_KEY>`, the service key our front-end holds; it is compared in constant
// time and never logged. Without API_KEY (a developer's laptop) the API is open and callers are told
// apart by source address. Then the rate limit: all traders come through the one service key, so a
// per-key bucket alone would let one trader's runaway screen starve every other trader's orders.
// Each trading account a request names gets its own bucket (API_RATE_LIMIT_RPS, _BURST), and the
// key as a whole a ten-times-larger one, so made-up account ids cannot lift the key's ceiling.

const crypto = require('node:crypto');
const { RateLimiter, retryAfter } = require('./ratelimit');
const { logger } = require('./log');

const log = logger('auth');
const KEY_FACTOR = 10; // the whole key's bucket against one account's
const MAX_ACCOUNT_CHARS = 128; // what an account id may add to a bucket's name
const REFUSALS_LOG_MS = 5000; // 429s are summed into one log line at most this often

const digest = (text) => crypto.createHash('sha256').update(String(text)).digest();

/** The token of an `Authorization: Bearer <token>` header, or null. */
function bearer(header) {
  const match = /^Bearer +(\S+) *$/i.exec(header || '');
  return match ? match[1] : null;
}

/**
 * `check(header)`: true when the header carries the service key (always, with no key configured).
 * Digests of both sides are compared, so timingSafeEqual gets equal-length buffers and neither the
 * key's bytes nor its length show in the time taken.
 */
function keyCheck(apiKey) {
  const expected = apiKey ? digest(apiKey) : null;
  return (header) => {
    if (!expected) return true;
    const token = bearer(header);
    return token !== null && crypto.timingSafeEqual(digest(token), expected);
  };
}

/** The trading account a request acts on, where it names one (path, query or JSON body). */
function accountOf(req) {
  const inPath = /^\/accounts\/([^/]+)/.exec(req.path); // as sent, not decoded: one name per account
  const found = inPath ? inPath[1] : (req.query.accountId ?? req.body?.accountId);
  return typeof found === 'string' && found ? found.slice(0, MAX_ACCOUNT_CHARS) : null;
}

/** Buckets per account (within the caller) and per caller: the seconds to wait, or 0. */
function limiter({ rps, burst }) {
  const perAccount = new RateLimiter({ rps, burst });
  const perCaller = new RateLimiter({ rps: rps * KEY_FACTOR, burst: burst * KEY_FACTOR });
  // an account over its rate is refused without spending the key's tokens
  return (caller, account) =>
    (account !== null && perAccount.take(`${caller}\n${account}`)) || perCaller.take(caller);
}

/**
 * Express middleware for the API: 401 without the key, 429 with Retry-After over the caller's rate.
 * `refuse(res, status, code, message)` writes the service's error envelope.
 */
function guard({ apiKey, rateLimit, refuse, limited = true }) {
  const authorized = keyCheck(apiKey);
  const take = limiter(rateLimit);
  const refusals = { count: 0, loggedAt: 0 };
  const noteRefusal = (caller, account) => {
    refusals.count += 1;
    const now = Date.now();
    if (now - refusals.loggedAt < REFUSALS_LOG_MS) return;
    // `refused`: the 429s since the last such line, this one included
    log.warn('rate limit exceeded: answering 429', { refused: refusals.count, caller, account });
    refusals.count = 0;
    refusals.loggedAt = now;
  };
  const authenticate = (req, res, next) => {
    if (authorized(req.get('authorization'))) {
      next();
      return;
    }
    res.set('WWW-Authenticate', 'Bearer');
    refuse(res, 401, 'UNAUTHORIZED', 'a valid API key is required: Authorization: Bearer <key>');
  };
  const rateLimited = (req, res, next) => {
    const caller = apiKey ? 'service-key' : `ip:${req.socket.remoteAddress}`;
    const account = accountOf(req);
    const wait = limited ? take(caller, account) : 0;
    if (wait <= 0) {
      next();
      return;
    }
    noteRefusal(caller, account);
    res.set('Retry-After', retryAfter(wait));
    refuse(res, 429, 'RATE_LIMITED', 'rate limit exceeded: retry after the Retry-After seconds');
  };
  return { authenticate, rateLimited, authorized };
}

module.exports = { guard, keyCheck, bearer, accountOf };

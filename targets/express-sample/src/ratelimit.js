'use strict';

// A token bucket per caller, in memory (one gateway process): `rps` tokens a second up to `burst`,
// one per request. A caller over it is told how long until its next token (Retry-After, whole
// seconds), never queued: a flood from one caller must not slow anyone else's orders.

const PRUNE_AT = 10_000; // callers remembered before the idle (full) buckets are forgotten

class RateLimiter {
  constructor({ rps, burst, now = () => performance.now() / 1000 }) {
    this.rps = rps;
    this.burst = Math.max(1, burst);
    this.now = now;
    this.buckets = new Map(); // caller -> { tokens, at }
  }

  /** Take a token for `caller`: 0 when served, or the seconds until one is free (> 0). */
  take(caller) {
    const t = this.now();
    let bucket = this.buckets.get(caller);
    if (!bucket) {
      if (this.buckets.size >= PRUNE_AT) this._prune(t);
      bucket = { tokens: this.burst, at: t };
      this.buckets.set(caller, bucket);
    }
    bucket.tokens = Math.min(this.burst, bucket.tokens + (t - bucket.at) * this.rps);
    bucket.at = t;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return (1 - bucket.tokens) / this.rps;
  }

  _prune(t) {
    for (const [caller, bucket] of this.buckets) {
      if (bucket.tokens + (t - bucket.at) * this.rps >= this.burst) this.buckets.delete(caller);
    }
  }
}

/** RFC 9110 Retry-After for a wait in seconds: a whole number, at least 1. */
function retryAfter(waitS) {
  return String(Math.max(1, Math.ceil(waitS)));
}

module.exports = { RateLimiter, retryAfter };

"""The Express sample's service key and rate limit (src/auth.js, src/ratelimit.js), run in Node on a
hand-driven clock: what a caller is told, and that one trading account's flood leaves the others
their own budget. No topology: these modules need nothing but Node itself."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from .test_express_sample import APP_DIR

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


def node(script: str) -> Any:
    """Run `script` in the sample's directory; its last line of output (one JSON value), parsed.
    The gateway's own log lines (JSON too) come before it."""
    done = subprocess.run(
        ["node", "-e", script], cwd=APP_DIR, capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_bucket_serves_its_burst_then_refills_at_its_rate() -> None:
    result = node(
        """
        const { RateLimiter, retryAfter } = require('./src/ratelimit');
        let t = 0;
        const rl = new RateLimiter({ rps: 2, burst: 3, now: () => t });
        const burst = [1, 2, 3, 4].map(() => rl.take('a'));
        const other = rl.take('b');
        t = 0.5; const after = rl.take('a');  // one token back: 0.5 s at 2/s
        const again = rl.take('a');
        t = 10; const full = [1, 2, 3, 4].map(() => rl.take('a'));  // capped at the burst
        console.log(JSON.stringify({ burst, other, after, again, full,
          retry: [retryAfter(0.01), retryAfter(1), retryAfter(1.2)] }));
        """
    )
    assert result["burst"][:3] == [0, 0, 0] and result["burst"][3] == pytest.approx(0.5)
    assert result["other"] == 0  # another caller has its own bucket
    assert result["after"] == 0 and result["again"] == pytest.approx(0.5)
    assert result["full"][:3] == [0, 0, 0] and result["full"][3] > 0
    assert result["retry"] == ["1", "1", "2"]  # whole seconds, never 0


def test_the_service_key_is_required_and_compared_whole() -> None:
    result = node(
        """
        const { keyCheck, bearer } = require('./src/auth');
        const check = keyCheck('s3cret-key');
        const open = keyCheck('');
        console.log(JSON.stringify({
          right: check('Bearer s3cret-key'),
          lower: check('bearer s3cret-key'),
          missing: check(undefined),
          empty: check(''),
          wrong: check('Bearer s3cret-kez'),
          prefix: check('Bearer s3cret'),
          longer: check('Bearer s3cret-key-and-more'),
          basic: check('Basic s3cret-key'),
          bare: check('s3cret-key'),
          open: open(undefined),
          token: bearer('Bearer  abc '),
        }));
        """
    )
    assert result.pop("right") is True and result.pop("lower") is True
    assert result.pop("open") is True  # no API_KEY configured: the API is open
    assert result.pop("token") == "abc"
    assert result == dict.fromkeys(result, False), result


def test_one_accounts_flood_leaves_the_other_accounts_their_budget() -> None:
    result = node(
        """
        const { guard } = require('./src/auth');
        const answers = [];
        const refuse = (res, status, code) => answers.push({ status, code, headers: res.headers });
        const g = guard({ apiKey: 'k', rateLimit: { rps: 5, burst: 5 }, refuse });
        const send = (path, query = {}, body = undefined) => {
          const res = { headers: {}, set(k, v) { this.headers[k] = v; } };
          let served = false;
          const req = { path, query, body, socket: { remoteAddress: '127.0.0.1' }, get: () => 'Bearer k' };
          g.rateLimited(req, res, () => { served = true; });
          return served;
        };
        const flood = Array.from({ length: 50 }, () => send('/accounts/A/positions'));
        const others = [
          send('/trading/orders', {}, { accountId: 'B' }),
          send('/trading/orders', { accountId: 'C' }),
          send('/accounts/D'),
          send('/trading/orders/some-ref'),  // names no account: the key's own, larger bucket
        ];
        console.log(JSON.stringify({ served: flood.filter(Boolean).length, others, refusal: answers[0] }));
        """
    )
    assert result["served"] == 5  # the burst, then refused
    assert result["others"] == [True, True, True, True]
    refusal = result["refusal"]
    assert refusal["status"] == 429 and refusal["code"] == "RATE_LIMITED"
    assert int(refusal["headers"]["Retry-After"]) >= 1


def test_made_up_accounts_do_not_lift_the_keys_ceiling() -> None:
    result = node(
        """
        const { guard } = require('./src/auth');
        const g = guard({ apiKey: 'k', rateLimit: { rps: 1, burst: 2 }, refuse: () => {} });
        let served = 0;
        for (let i = 0; i < 100; i += 1) {
          const req = { path: `/accounts/fake-${i}`, query: {}, socket: {}, get: () => 'Bearer k' };
          g.rateLimited(req, { set() {} }, () => { served += 1; });
        }
        console.log(JSON.stringify({ served }));
        """
    )
    assert result["served"] == 20  # the key's bucket: ten times one account's burst


def test_the_seeded_bug_never_limits() -> None:
    result = node(
        """
        const { guard } = require('./src/auth');
        const g = guard({ apiKey: 'k', rateLimit: { rps: 1, burst: 1 }, refuse: () => {}, limited: false });
        let served = 0;
        for (let i = 0; i < 50; i += 1) {
          const req = { path: '/accounts/A', query: {}, socket: {}, get: () => 'Bearer k' };
          g.rateLimited(req, { set() {} }, () => { served += 1; });
        }
        console.log(JSON.stringify({ served }));
        """
    )
    assert result["served"] == 50

'use strict';

// A CQG conformance probe: log on (following redirects), ping, resolve a symbol, subscribe to its
// market data and to trades, place one market order, wait for the fill, log off; then one JSON line
// of what it saw on stdout and exit 0. Any failure: one line `cqg probe failed: <why>` on stderr, exit 1
// (2 for bad arguments).
//
//   node src/cqg/probe.js --url ws://127.0.0.1:P --user U --password P --symbol ESZ6 --account 10001
//        [--side buy|sell] [--qty 1] [--timeout-ms 5000] [--hold-ms 0] [--ping-interval-ms 10000]

const { parseArgs } = require('node:util');
const { CQGClient, SIDE, STATUS } = require('./client');

const OPTIONS = {
  url: { type: 'string' },
  user: { type: 'string' },
  password: { type: 'string' },
  symbol: { type: 'string' },
  account: { type: 'string' },
  side: { type: 'string', default: 'buy' },
  qty: { type: 'string', default: '1' },
  'timeout-ms': { type: 'string', default: '5000' },
  'hold-ms': { type: 'string', default: '0' }, // stay logged on this long before logging off (server pings)
  'ping-interval-ms': { type: 'string', default: '10000' },
};

class UsageError extends Error {}

function parse(argv) {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: OPTIONS, strict: true }));
  } catch (err) {
    throw new UsageError(err.message);
  }
  for (const name of ['url', 'user', 'password', 'symbol', 'account']) {
    if (!values[name]) throw new UsageError(`--${name} is required`);
  }
  const number = (name) => {
    const n = Number(values[name]);
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new UsageError(`--${name} must be a whole number, not ${values[name]}`);
    }
    return n;
  };
  const side = SIDE[values.side.toUpperCase()];
  if (!side) throw new UsageError(`--side must be buy or sell, not ${values.side}`);
  return {
    url: values.url,
    user: values.user,
    password: values.password,
    symbol: values.symbol,
    account: number('account'),
    side,
    qty: number('qty'),
    timeoutMs: number('timeout-ms'),
    holdMs: number('hold-ms'),
    pingIntervalMs: number('ping-interval-ms'),
  };
}

async function probe(opts) {
  const client = new CQGClient({
    url: opts.url,
    user: opts.user,
    password: opts.password,
    clientAppId: 'stackuat-express-probe',
    requestTimeoutMs: opts.timeoutMs,
    pingIntervalMs: opts.pingIntervalMs,
    pongTimeoutMs: 2 * opts.pingIntervalMs,
  });
  try {
    const logon = await client.connect();
    const pingRttMs = await client.ping();
    const contract = await client.resolve(opts.symbol);
    const quoted = client.nextQuote(contract.contract_id, ['trade', 'bid', 'ask'], opts.timeoutMs);
    quoted.catch(() => {}); // awaited below; a failed subscription must not leave it unhandled
    await client.subscribeMarketData(contract.contract_id, 2);
    const quote = await quoted;
    await client.subscribeTrades();
    const cl = await client.placeOrder({ accountId: opts.account, contract, side: opts.side, qty: opts.qty });
    const order = await client.waitFinal(cl, opts.timeoutMs);
    if (order.status !== STATUS.FILLED) throw new Error(`order ${cl} ended in status ${order.status}, not filled`);
    if (opts.holdMs) await new Promise((resolve) => setTimeout(resolve, opts.holdMs));
    if (!client.isOpen()) {
      throw new Error(`the session ended while holding: ${client.closedReason || 'closed'}`);
    }
    await client.logoff();
    const fills = [...client.book.fills.values()].filter((f) => f.order_id === order.order_id);
    return {
      ok: true,
      url: client.url,
      redirects: client.redirects,
      logon: {
        result_code: logon.result_code ?? 0,
        user_id: logon.user_id,
        base_time: logon.base_time,
        protocol: `${logon.protocol_version_major}.${logon.protocol_version_minor}`,
      },
      ping_rtt_ms: pingRttMs,
      contract,
      quote: {
        trade: quote.trade,
        bid: quote.bid,
        ask: quote.ask,
        utc_ms: quote.utc_ms,
        is_snapshot: quote.is_snapshot,
      },
      order: {
        cl_order_id: cl,
        order_id: order.order_id,
        status: order.status,
        fill_qty: order.fill_qty,
        avg_fill_price: order.avg_fill_price,
        remaining_qty: order.remaining_qty,
      },
      fills,
      logged_off: client.loggedOff?.logoff_reason ?? null,
      position: client.book.positions.get(`${opts.account}:${contract.contract_id}`) ?? null,
      stats: { ...client.stats, duplicateFills: client.book.duplicateFills },
      user_messages: client.userMessages,
    };
  } finally {
    client.close();
  }
}

async function main(argv) {
  let opts;
  try {
    opts = parse(argv);
  } catch (err) {
    process.stderr.write(`cqg probe: ${err.message}\n`);
    return 2;
  }
  try {
    process.stdout.write(`${JSON.stringify(await probe(opts))}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`cqg probe failed: ${err.message}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}

module.exports = { probe, parse };

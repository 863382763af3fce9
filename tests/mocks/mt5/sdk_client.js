// Drives the real npm mt5-sdk (1.0.7) against the MT5 mock and prints one JSON line of results.
//
// Usage: node sdk_client.js '{"host", "port", "login", "password", "steps": [{"name", "call", "args", "timeout_ms"?}]}'
// Each step calls one SDK method; its result (the SDK's `answer`, or null when the SDK saw an error)
// or a timeout is recorded under the step's name. The SDK swallows transport errors, so a step it
// never settles ends as {"timeout": true}. Its console.log chatter goes to stderr, keeping stdout JSON.
"use strict";

const Metatrader5 = require("mt5-sdk");

console.log = (...args) => process.stderr.write(args.map(String).join(" ") + "\n");

const CALLS = {
  user_get: (mt5, args) => mt5.users.get(args.login),
  user_create: (mt5, args) => mt5.users.create(args),
  user_update: (mt5, args) => mt5.users.updateUser(args),
  balance_get: (mt5, args) => mt5.trade.updateTradeBalanceGet(args),
  balance_post: (mt5, args) => mt5.trade.updateTradeBalance(args),
};

function withTimeout(promise, ms) {
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(() => resolve({ timeout: true }), ms);
  });
  return Promise.race([promise.then((value) => ({ value })), timeout]).finally(() => clearTimeout(timer));
}

async function main() {
  const spec = JSON.parse(process.argv[2]);
  const results = {};
  for (const step of spec.steps) {
    const mt5 = new Metatrader5(spec.host, spec.port, {
      login: String(spec.login),
      password: step.password ?? spec.password,
      build: "4000",
      agent: "stack-uat-conformance",
    });
    try {
      results[step.name] = await withTimeout(CALLS[step.call](mt5, step.args), step.timeout_ms ?? 5000);
    } catch (error) {
      results[step.name] = { error: String(error) };
    }
  }
  process.stdout.write(JSON.stringify(results) + "\n");
  process.exit(0); // sockets a step left hanging must not keep node alive
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error) + "\n");
  process.exit(2);
});

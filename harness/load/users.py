"""Seeded simulated traders for Locust. Each persona is a Locust user class, so this module
also works as a plain locustfile (`locust -f harness/load/users.py`) against a running
topology. What a run shares travels as Locust options (settings.py): the master forwards them to
its workers, so a worker on another machine needs only `--worker --master-host H --master-port P`.
Each option also reads the variable named here, for a single local process:

| Option | Variable | Meaning |
|---|---|---|
| --host | LOCUST_HOST | the middleware's base URL |
| --uat-stripe-control | UAT_STRIPE_CONTROL | the Stripe emitter's control API, to onboard traders |
| --uat-seed | UAT_SEED | the run's seed |
| --uat-run-started | UAT_RUN_STARTED | the run's start, epoch seconds (0: when the load starts) |
| --uat-workers | UAT_WORKERS | Locust workers, local and remote (0: one process); numbers traders |
| --uat-remote-workers | UAT_REMOTE_WORKERS | how many of those ship their journal to the master |
| --uat-onboarded | UAT_ONBOARDED | traders 0..n-1 were onboarded before the run: they only log in |
| --uat-profile, --uat-traders, --uat-duration | UAT_PROFILE, UAT_TRADERS, UAT_DURATION | the load shape |
| --uat-symbols | UAT_SYMBOLS | comma-separated symbols to trade (default ESZ6) |
| --uat-population | - | the master's traders fixture as JSON (set by the master itself) |

Two variables stay local to each process and never travel: UAT_JOURNAL, the directory for this
process's journal (a worker without one ships its journal to the master: shipping.py), and
UAT_FIXTURES, a directory holding traders.yaml instead of the bundled fixtures/.

Trader number n of seed s is `identities.identity(s, n)` (fixtures/traders.yaml), onboarded by a
Stripe checkout carrying its name and email. Scalpers and swing traders also cancel some of their
own working limit orders; cancels are journalled as `cancel_order`, which no order invariant reads as
a placement, so a cancelled order is never a lost fill; `cancels_consistent` holds each accepted
cancel against the venue's ledger.
"""

from __future__ import annotations

import itertools
import json
import random
import time
from typing import Any
from urllib.parse import urlencode

import gevent
from locust import FastHttpUser, LoadTestShape, events, task

from harness import gcpolicy
from harness.adapters import API_KEY, Outcome, invoke
from harness.load import locust_hooks
from harness.load.identities import identity, load_population
from harness.load.settings import Settings
from harness.load.wire import Bound, bind

# Persona weights, read where users are dispatched (the master); rates travel with the settings.
POPULATION = load_population()
MAX_CANCELS = 20  # per trader: cancels are a seasoning of the flow, never most of it
FINAL = frozenset({"filled", "cancelled", "rejected", "risk_rejected", "failed"})
_counter = itertools.count(0)
gcpolicy.relax()  # thousands of traders in one process: no full collection every few seconds


def _measure(request_type: str, name: str, milliseconds: float) -> None:
    """A custom Locust measurement (ack and fill latency, stream message age, reconnects)."""
    events.request.fire(
        request_type=request_type,
        name=name,
        response_time=milliseconds,
        response_length=0,
        exception=None,
        context={},
    )


class Shape(LoadTestShape):
    """The named profile; Locust asks it every second how many traders to run."""

    def tick(self) -> tuple[int, float] | None:
        assert self.runner is not None
        shape = Settings.read(self.runner.environment.parsed_options).profile
        if shape is None:
            return None
        t = self.get_run_time()
        if t >= shape.duration_s:
            locust_hooks.finish(self.runner)  # a master stops its workers and collects their journals
            return None
        return shape.users_at(t), shape.spawn_rate()


class Trader(FastHttpUser):
    """A trader onboarded by a Stripe webhook, trading with Poisson arrivals."""

    abstract = True
    persona = "trader"
    actions_per_s = 0.5  # Locust tasks a second at a rate multiplier of 1, unless the fixture says

    concurrency = 2

    def wait_time(self) -> float:
        shape = self.settings.profile
        multiplier = (
            shape.rate_multiplier(
                self.environment.runner.stats.total.start_time
                and time.time() - self.environment.runner.stats.total.start_time
            )
            if shape
            else 1.0
        )
        return self.rng.expovariate(self.actions_per_s * multiplier)

    def on_start(self) -> None:
        # Read now, not at import: a worker has the master's settings once it is told to spawn.
        self.settings = settings = Settings.read(self.environment.parsed_options)
        population = settings.population()
        rate = population.actions_per_minute.get(self.persona)
        if rate is not None:
            self.actions_per_s = rate / 60
        # Worker k of n numbers its traders k, k+n, k+2n...: unique across processes (local and
        # remote), and the same population as one local process when the spawn is balanced.
        self.number = next(_counter) * settings.workers + getattr(self.environment.runner, "worker_index", 0)
        self.identity = identity(settings.seed, self.number, population)
        self.name_ = f"{self.persona}-{self.number}"
        self.rng = random.Random(f"{settings.seed}:{self.name_}")
        self.placed = 0
        self.cancels = 0
        self.working: set[str] = set()  # our limit orders the venue holds open, to cancel
        self.ended: set[str] = set()  # final on the stream, which may beat the order's own 202
        self.sent_at: dict[str, float] = {}
        if not settings.adapter_json:
            raise RuntimeError("--uat-adapter is unset: `uat load` sets it from the target file")
        self.bound: Bound = bind(settings.adapter_json)
        self.api_key: str | None = None
        self.account = (self._find_account() if self.number < settings.onboarded else None) or self._onboard()
        self.api_key = self._login()
        self._stream = gevent.spawn(self._read_stream)

    def on_stop(self) -> None:
        self._stream.kill(block=False)

    # -- the target's operations, through Locust's client ------------------------------
    def call(self, operation: str, name: str | None = None, **args: Any) -> Outcome:
        """One declared operation. A declared HTTP API goes through Locust's own client, so its
        statistics see every request; a coded adapter is timed and reported to Locust here.
        An unknown outcome, or an answer the target file's fields cannot read, is a failure."""
        api = self.bound.api
        if api is None:
            assert self.bound.adapter is not None
            started = time.perf_counter()
            outcome = invoke(self.bound.adapter, operation, args)
            failed = outcome.type == "info" or bool(outcome.malformed)
            events.request.fire(
                request_type=operation,
                name=name or operation,
                response_time=(time.perf_counter() - started) * 1000,
                response_length=0,
                exception=RuntimeError(outcome.error) if failed else None,
                context={},
            )
            return outcome
        if self.api_key and api.auth.role(operation) == "trader":
            args = {**args, API_KEY: self.api_key}
        request = api.request(operation, args)
        url = request.url + ("?" + urlencode(request.params) if request.params else "")
        started = time.perf_counter()
        with self.client.request(
            request.method,
            url,
            name=name or request.name,
            headers=request.headers or None,
            json=request.json,
            catch_response=True,
        ) as response:
            latency = (time.perf_counter() - started) * 1000
            outcome = api.interpret(operation, response.status_code, _body(response), latency)
            if outcome.type == "info" or outcome.malformed:
                response.failure(outcome.error or f"HTTP {response.status_code}")
            else:
                response.success()
        return outcome

    # -- onboarding ------------------------------------------------------------------
    def _find_account(self) -> str | None:
        """A trader `uat load` onboarded before the run: log in, i.e. find the account."""
        accounts = self.call(
            "accounts_for_customer", "login: find account", customer=self.identity.customer_id
        ).accounts
        return str(accounts[0]) if accounts else None

    def _onboard(self) -> str:
        control = self.settings.stripe_control
        if not control:
            raise RuntimeError(f"trader {self.number} needs onboarding, but --uat-stripe-control is unset")
        customer = self.identity.customer_id
        body = {
            "types": ["checkout.session.completed", "customer.subscription.created"],
            "customer": customer,
            "url": self.bound.webhook_url,
            "metadata": self.identity.metadata(),
        }
        with self.client.post(
            f"{control}/send", json=body, name="onboard: stripe webhooks", catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"stripe emitter answered {response.status_code}")
        deadline = time.time() + 15
        while time.time() < deadline:
            accounts = self.call("accounts_for_customer", "onboard: find account", customer=customer).accounts
            if accounts:
                return str(accounts[0])
            gevent.sleep(0.2)
        raise RuntimeError(f"{customer} was never onboarded")

    def _login(self) -> str | None:
        """This trader's own key, from the back office, where the target has per-trader keys: its
        orders, reads and stream carry it, so the middleware's scoping and rate limits are the
        ones a real desk meets."""
        api = self.bound.api
        if api is None or not api.auth.per_trader:
            return None
        minted = self.call("issue_key", "login: issue key", account=self.account).key
        if minted is None:
            raise RuntimeError(f"trader {self.number}: the middleware issued no key for {self.account}")
        return minted.key

    # -- the stream: quotes and order updates ------------------------------------------
    def _read_stream(self) -> None:
        import websocket

        api = self.bound.api
        adapter = self.bound.adapter
        # only the symbols this trader trades: the middleware sends each client what it asked for
        url = (
            api.stream(self.account, self.settings.symbols)
            if api is not None
            else adapter.stream_url(self.account, self.settings.symbols)
            if adapter is not None
            else None
        )
        if url is None:
            return  # the target declares no stream: its measures are not applicable
        while True:
            try:
                # json.loads refuses a bad frame anyway; the pure-Python UTF-8 check cost Locust a
                # seventh of its CPU
                ws = websocket.create_connection(
                    url, timeout=30, skip_utf8_validation=True, header=self._stream_headers()
                )
            except Exception:
                _measure("WS", "reconnect", 0)
                gevent.sleep(1.0)
                continue
            try:
                while True:
                    self._on_message(json.loads(ws.recv()))
            except Exception:
                gevent.sleep(0.5)
            finally:
                ws.close()

    def _stream_headers(self) -> dict[str, str]:
        if self.bound.api is not None:
            return self.bound.api.stream_headers(self.api_key)
        if self.bound.adapter is not None:
            return self.bound.adapter.stream_headers(self.account)
        return {}

    def _on_message(self, message: Any) -> None:
        now = time.time()
        if self.bound.api is None:
            return  # a coded adapter's stream messages have no declared shape to read
        kind, key, status = self.bound.api.stream_message(message)
        if kind == "quote":
            if key:
                _measure("WS", "quote age", (now - float(key)) * 1000)
        elif kind == "order":
            coid = str(key)
            if status in FINAL:
                self.working.discard(coid)
                self.ended.add(coid)
                if status != "filled":  # cancelled or rejected: no fill to time
                    self.sent_at.pop(coid, None)
            sent = self.sent_at.get(coid)
            if sent is not None and status == "filled":
                self.sent_at.pop(coid, None)
                _measure("ORDER", "order to fill", (now - sent) * 1000)
                journal = locust_hooks.journal()
                if journal is not None:
                    journal.measured("order to fill", (now - sent) * 1000)

    # -- trading -----------------------------------------------------------------------
    def place(self, order_type: str = "MARKET") -> None:
        self.placed += 1
        coid = f"load-{self.settings.seed}-{self.settings.run_tag}-{self.name_}-{self.placed}"
        order: dict[str, Any] = {
            "account": self.account,
            "symbol": self.rng.choice(self.settings.symbols),
            "side": self.rng.choice(("BUY", "SELL")),
            "qty": self.rng.randint(1, 2),
            "order_type": order_type,
            "client_order_id": coid,
        }
        if order_type == "LIMIT":
            order["limit_price"] = float(self.rng.randint(4000, 6000))
        journal_value = dict(order)
        journal = locust_hooks.journal()
        if journal is not None:
            journal.write(self.name_, "invoke", "place_order", journal_value, key=coid)
        self.sent_at[coid] = time.time()
        started = time.perf_counter()
        # A transport error (a keep-alive connection the server closed as we reused it) is retried
        # once with the same client_order_id, as a trading client does: the API is idempotent by it.
        outcome = self.call("place_order", **order)
        if outcome.status in (None, 0):
            outcome = self.call("place_order", **order)
        latency = (time.perf_counter() - started) * 1000
        status = outcome.status or 0
        kind = outcome.type
        if kind == "ok":
            _measure("ORDER", "order ack", latency)
            placed = outcome.order
            if (
                order_type == "LIMIT"
                and placed is not None
                and placed.status == "working"
                and coid not in self.ended
            ):
                self.working.add(coid)
        self._record(kind, "place_order", journal_value, coid, latency, status)

    def cancel(self) -> None:
        """Cancel one of our working limit orders (seeded pick, at most MAX_CANCELS a trader).
        A 409 means it filled or ended first: the venue's answer, not a load failure."""
        if not self.working or self.cancels >= MAX_CANCELS:
            return
        self.cancels += 1
        coid = self.rng.choice(sorted(self.working))
        self.working.discard(coid)
        value = {"client_order_id": coid, "account": self.account}
        key = f"cancel:{coid}"
        journal = locust_hooks.journal()
        if journal is not None:
            journal.write(self.name_, "invoke", "cancel_order", value, key=key)
        started = time.perf_counter()
        outcome = self.call("cancel_order", client_order_id=coid, account=self.account)
        latency = (time.perf_counter() - started) * 1000
        status = outcome.status or 0
        kind = outcome.type
        self._record(kind, "cancel_order", value, key, latency, status)

    def _record(
        self, kind: str, f: str, value: dict[str, Any], key: str, latency_ms: float, status: int
    ) -> None:
        journal = locust_hooks.journal()
        if journal is not None:
            journal.write(self.name_, kind, f, value, key=key, latency_ms=latency_ms, status=status)


def _body(response: Any) -> Any:
    try:
        return response.json()
    except Exception:
        return response.text


class Scalper(Trader):
    weight = POPULATION.personas.get("scalper", 0)
    persona = "scalper"
    actions_per_s = 2.0

    @task(6)
    def market(self) -> None:
        self.place("MARKET")

    @task(2)
    def limit(self) -> None:
        self.place("LIMIT")

    @task(1)
    def cancel_one(self) -> None:
        self.cancel()

    @task(2)
    def positions(self) -> None:
        self.call("positions", account=self.account)


class Swing(Trader):
    weight = POPULATION.personas.get("swing", 0)
    persona = "swing"
    actions_per_s = 0.2

    @task(3)
    def market(self) -> None:
        self.place("MARKET")

    @task(1)
    def limit(self) -> None:
        self.place("LIMIT")

    @task(1)
    def cancel_one(self) -> None:
        self.cancel()

    @task(2)
    def positions(self) -> None:
        self.call("positions", account=self.account)


class Watcher(Trader):
    """Market data only: holds the stream, places nothing."""

    weight = POPULATION.personas.get("watcher", 0)
    persona = "watcher"
    actions_per_s = 0.2

    @task
    def idle(self) -> None:
        pass


class BackOffice(Trader):
    """Admin reads: account and positions."""

    weight = POPULATION.personas.get("backoffice", 0)
    persona = "backoffice"
    actions_per_s = 0.5

    @task
    def account_view(self) -> None:
        self.call("account", account=self.account)
        self.call("positions", account=self.account)

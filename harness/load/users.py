"""Seeded simulated traders for Locust. Each persona is a Locust user class, so this module
also works as a plain locustfile (`locust -f harness/load/users.py`) against a running
topology; the environment variables below say where things are.

| Variable | Meaning |
|---|---|
| UAT_MIDDLEWARE | the middleware's base URL (also Locust's --host) |
| UAT_STRIPE_CONTROL | the Stripe emitter's control API, for onboarding through the real webhook path |
| UAT_JOURNAL | directory for this process's history journal (optional) |
| UAT_SEED, UAT_RUN_STARTED | the run's seed, and its start in epoch seconds (shared by all processes) |
| UAT_PROFILE, UAT_TRADERS, UAT_DURATION | the load shape (see shapes.py) |
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
from typing import Any

import gevent
from locust import FastHttpUser, LoadTestShape, events, task
from locust.env import Environment

from harness.load.journal import Journal
from harness.load.shapes import Profile, profile

SEED = int(os.environ.get("UAT_SEED", "0"))
RUN_STARTED = float(os.environ.get("UAT_RUN_STARTED", time.time()))
SYMBOLS = tuple(os.environ.get("UAT_SYMBOLS", "ESZ6").split(","))
_journal: Journal | None = None
_counter = itertools.count(1)


@events.init.add_listener
def _open_journal(environment: Environment, **_: Any) -> None:
    global _journal
    directory = os.environ.get("UAT_JOURNAL")
    if directory:
        _journal = Journal(directory, RUN_STARTED)


@events.quitting.add_listener
def _close_journal(environment: Environment, **_: Any) -> None:
    if _journal is not None:
        _journal.close()


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


def _profile() -> Profile | None:
    name = os.environ.get("UAT_PROFILE")
    if not name:
        return None
    return profile(
        name, int(os.environ.get("UAT_TRADERS", "10")), float(os.environ.get("UAT_DURATION", "60"))
    )


class Shape(LoadTestShape):
    """The named profile; Locust asks it every second how many traders to run."""

    def tick(self) -> tuple[int, float] | None:
        shape = _profile()
        if shape is None:
            return None
        t = self.get_run_time()
        if t >= shape.duration_s:
            return None
        return shape.users_at(t), shape.spawn_rate()


class Trader(FastHttpUser):
    """A trader onboarded by a Stripe webhook, trading with Poisson arrivals."""

    abstract = True
    persona = "trader"
    orders_per_s = 0.5  # at a rate multiplier of 1
    concurrency = 2

    def wait_time(self) -> float:
        shape = _profile()
        multiplier = (
            shape.rate_multiplier(
                self.environment.runner.stats.total.start_time
                and time.time() - self.environment.runner.stats.total.start_time
            )
            if shape
            else 1.0
        )
        return self.rng.expovariate(self.orders_per_s * multiplier)

    def on_start(self) -> None:
        self.number = next(_counter)
        self.name_ = f"{self.persona}-{os.getpid()}-{self.number}"
        self.rng = random.Random(f"{SEED}:{self.name_}")
        self.placed = 0
        self.account = self._onboard()
        self.sent_at: dict[str, float] = {}
        self._stream = gevent.spawn(self._read_stream)

    def on_stop(self) -> None:
        self._stream.kill(block=False)

    # -- onboarding ------------------------------------------------------------------
    def _onboard(self) -> str:
        control = os.environ["UAT_STRIPE_CONTROL"]
        customer = f"cus_{self.rng.getrandbits(56):014x}"
        body = {
            "types": ["checkout.session.completed", "customer.subscription.created"],
            "customer": customer,
            "url": f"{self.host}/v1/webhooks/stripe",
        }
        with self.client.post(
            f"{control}/send", json=body, name="onboard: stripe webhooks", catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"stripe emitter answered {response.status_code}")
        deadline = time.time() + 15
        while time.time() < deadline:
            with self.client.get(
                f"/v1/accounts?customer={customer}", name="onboard: find account", catch_response=True
            ) as response:
                accounts = response.json().get("accounts", []) if response.status_code == 200 else []
                response.success()
            if accounts:
                return str(accounts[0])
            gevent.sleep(0.2)
        raise RuntimeError(f"{customer} was never onboarded")

    # -- the stream: quotes and order updates ------------------------------------------
    def _read_stream(self) -> None:
        import websocket

        assert self.host is not None
        url = self.host.replace("http", "ws", 1) + f"/v1/stream?account={self.account}"
        while True:
            try:
                ws = websocket.create_connection(url, timeout=30)
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

    def _on_message(self, message: dict[str, Any]) -> None:
        now = time.time()
        if message.get("type") == "quote":
            at = message["quote"].get("at")
            if at:
                _measure("WS", "quote age", (now - float(at)) * 1000)
        elif message.get("type") == "order":
            order = message["order"]
            sent = self.sent_at.get(str(order.get("client_order_id")))
            if sent is not None and order.get("status") == "filled":
                self.sent_at.pop(str(order["client_order_id"]), None)
                _measure("ORDER", "order to fill", (now - sent) * 1000)

    # -- trading -----------------------------------------------------------------------
    def place(self, order_type: str = "MARKET") -> None:
        self.placed += 1
        coid = f"load-{SEED}-{self.name_}-{self.placed}"
        order: dict[str, Any] = {
            "account": self.account,
            "symbol": self.rng.choice(SYMBOLS),
            "side": self.rng.choice(("BUY", "SELL")),
            "qty": self.rng.randint(1, 2),
            "type": order_type,
            "client_order_id": coid,
        }
        if order_type == "LIMIT":
            order["limit_price"] = float(self.rng.randint(4000, 6000))
        journal_value = {**order, "order_type": order.pop("type")}
        order["type"] = journal_value["order_type"]
        if _journal is not None:
            _journal.write(self.name_, "invoke", "place_order", journal_value, key=coid)
        self.sent_at[coid] = time.time()
        started = time.perf_counter()
        with self.client.post(
            "/v1/orders", json=order, name="POST /v1/orders", catch_response=True
        ) as response:
            latency = (time.perf_counter() - started) * 1000
            status = response.status_code
            kind = (
                "ok"
                if 200 <= status < 300
                else "fail"
                if status in (400, 404, 409, 422, 429, 503)
                else "info"
            )
            if kind == "ok":
                _measure("ORDER", "order ack", latency)
            # A refusal is the middleware's answer, not a load failure; unknowns are failures.
            if kind == "info":
                response.failure(f"HTTP {status}")
            else:
                response.success()
        if _journal is not None:
            _journal.write(
                self.name_, kind, "place_order", journal_value, key=coid, latency_ms=latency, status=status
            )


class Scalper(Trader):
    weight = 2
    persona = "scalper"
    orders_per_s = 2.0

    @task(8)
    def market(self) -> None:
        self.place("MARKET")

    @task(2)
    def positions(self) -> None:
        self.client.get(f"/v1/positions?account={self.account}", name="GET /v1/positions")


class Swing(Trader):
    weight = 3
    persona = "swing"
    orders_per_s = 0.2

    @task(3)
    def market(self) -> None:
        self.place("MARKET")

    @task(1)
    def limit(self) -> None:
        self.place("LIMIT")

    @task(2)
    def positions(self) -> None:
        self.client.get(f"/v1/positions?account={self.account}", name="GET /v1/positions")


class Watcher(Trader):
    """Market data only: holds the stream, places nothing."""

    weight = 4
    persona = "watcher"
    orders_per_s = 0.2

    @task
    def idle(self) -> None:
        pass


class BackOffice(Trader):
    """Admin reads: account and positions."""

    weight = 1
    persona = "backoffice"
    orders_per_s = 0.5

    @task
    def account_view(self) -> None:
        self.client.get(f"/v1/accounts/{self.account}", name="GET /v1/accounts/{id}")
        self.client.get(f"/v1/positions?account={self.account}", name="GET /v1/positions")

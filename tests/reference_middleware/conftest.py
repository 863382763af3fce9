"""The reference middleware as the harness sees it: a separate process behind the real topology.

One topology (Postgres, fault plane, mocks) per module; `Env.restart()` replaces the middleware process
with a fresh one (optionally with mutants switched on) over a clean database and reset mocks, which
costs about a second instead of a whole topology.

`Env.http` calls the middleware as admin: it sends the admin key the running process was started
with (REFMW_ADMIN_KEY in its rendered environment), on requests to the middleware only and only when
the request names no credential of its own. Without that variable the middleware runs with
authentication off and nothing is sent.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Generator, Iterator
from decimal import Decimal
from typing import Any, TypeVar

import httpx
import jsonschema  # type: ignore[import-untyped]
import pytest

from harness import target as target_files
from harness.target import render_template
from harness.topology import TargetProcess, Topology

T = TypeVar("T")
SEED = 11


def decimal_text(value: float | int | str) -> str:
    """A price or amount as the API takes money: a decimal string ("6800.25")."""
    return value if isinstance(value, str) else format(Decimal(str(value)), "f")


def wait_for(fetch: Callable[[], T], ok: Callable[[T], bool], timeout: float, interval: float = 0.1) -> T:
    """Poll `fetch` until `ok(value)` or the timeout; returns the last value either way (bounded)."""
    deadline = time.monotonic() + timeout
    value = fetch()
    while not ok(value) and time.monotonic() < deadline:
        time.sleep(interval)
        value = fetch()
    return value


class AdminAuth(httpx.Auth):
    """The admin key on requests to the middleware that carry no Authorization of their own."""

    def __init__(self, env: Env) -> None:
        self.env = env

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        key = self.env.admin_key
        if key and "authorization" not in request.headers and str(request.url).startswith(self.env.base):
            request.headers["Authorization"] = f"Bearer {key}"
        yield request


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


class Env:
    def __init__(self, topo: Topology) -> None:
        self.topo = topo
        self.http = httpx.Client(timeout=10.0, trust_env=False, auth=AdminAuth(self))
        mocks = topo.stack.describe()["mocks"]
        self.mocks = mocks
        self.rithmic_ctl = mocks["rithmic"]["control"]
        self.tt_ctl = mocks["tt"]["control"]
        self.stripe_ctl = mocks["stripe"]["control"]
        self.cqg_ctl = mocks["cqg"]["control"]
        self.account = mocks["rithmic"]["accounts"][0]
        self.mutants = ""

    @property
    def base(self) -> str:
        return self.topo.base_url

    @property
    def admin_key(self) -> str:
        """The admin key of the running middleware ("" when it runs with authentication off)."""
        process = self.topo.process
        env = getattr(process, "env", None)
        if env is None:
            env = self.topo.target.render(self.topo.values)
        return str(env.get("REFMW_ADMIN_KEY") or "")

    def auth_headers(self) -> dict[str, str]:
        """The admin credential as headers, for clients other than `http` (a WebSocket handshake)."""
        return bearer(self.admin_key) if self.admin_key else {}

    def issue_key(self, account: str | None = None, ttl_s: float | None = None) -> dict[str, Any]:
        """A new trader key for the account (the house account by default): key_id, key, account."""
        body: dict[str, Any] = {"account": account or self.account}
        if ttl_s is not None:
            body["ttl_s"] = ttl_s
        answer = self.http.post(f"{self.base}/v1/admin/api-keys", json=body)
        assert answer.status_code == 201, answer.text
        issued: dict[str, Any] = answer.json()
        return issued

    @property
    def slo(self) -> Any:
        return self.topo.target.slo

    def proxy(self, name: str = "rithmic") -> Any:
        return self.topo.stack.plane.client.get_proxy(name)

    # ------------------------------------------------------------------ lifecycle
    def restart(
        self,
        mutants: str = "",
        extra_env: dict[str, str] | None = None,
        before_start: Callable[[], None] | None = None,
        expect_healthy: bool = True,
        clean: bool = True,
        wait_ready: bool = True,
    ) -> None:
        """A fresh middleware process over a clean database and reset mocks and proxies
        (`clean=False`: over the state the last one left, as a restart after a crash)."""
        topo = self.topo
        if topo.process is not None:
            topo.process.stop()
        if clean:
            topo.postgres.psql("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
            topo.stack.plane.client.reset()
            for ctl in (self.rithmic_ctl, self.tt_ctl, self.stripe_ctl, self.cqg_ctl):
                self.http.post(f"{ctl}/reset").raise_for_status()
        if before_start is not None:
            before_start()
        env = topo.target.render(topo.values)
        env.pop("REFMW_MUTANTS", None)
        if mutants:
            env["REFMW_MUTANTS"] = mutants
        env.update(extra_env or {})
        source = topo.target.source
        command = [render_template(p, topo.values, "start.command", source) for p in topo.target.command]
        ready = render_template(topo.target.ready_url, topo.values, "ready.url", source)
        assert topo.workdir is not None
        topo.process = TargetProcess(topo.target, command, env, ready, topo.workdir, topo.redact)
        topo.process.start()
        self.mutants = mutants
        if not wait_ready:
            return
        topo.process.wait_ready()
        if not expect_healthy:
            return
        health = wait_for(self.health, lambda h: h["status"] == "ok", 15)
        assert health["status"] == "ok", f"middleware not healthy after start: {health}\n{self.log()}"

    def log(self) -> str:
        return self.topo.process.log_tail(80) if self.topo.process else ""

    # ------------------------------------------------------------------ middleware API
    def health(self) -> dict[str, Any]:
        result: dict[str, Any] = self.http.get(f"{self.base}/health").json()
        return result

    def order(self, coid: str | None = None, *, timeout: float = 10.0, **fields: Any) -> httpx.Response:
        body = {
            "account": self.account,
            "symbol": "ESZ6",
            "side": "BUY",
            "qty": 1,
            "type": "MARKET",
            "client_order_id": coid or f"t-{uuid.uuid4().hex[:12]}",
        }
        body.update(fields)
        if isinstance(body.get("limit_price"), int | float) and not isinstance(body["limit_price"], bool):
            body["limit_price"] = decimal_text(body["limit_price"])  # money is a decimal string on the wire
        return self.http.post(f"{self.base}/v1/orders", json=body, timeout=timeout)

    def get_order(self, coid: str) -> dict[str, Any]:
        result: dict[str, Any] = self.http.get(f"{self.base}/v1/orders/{coid}").json()
        return result

    def positions(self, account: str | None = None, venue: str = "rithmic") -> dict[str, int]:
        body = self.http.get(f"{self.base}/v1/positions", params={"account": account or self.account}).json()
        return {p["symbol"]: p["net_qty"] for p in body["positions"] if p["venue"] == venue and p["net_qty"]}

    def set_limits(self, **limits: float | bool) -> None:
        """PATCH the house account's risk limits (or trading switch); money as a decimal string."""
        body: dict[str, Any] = dict(limits)
        if "daily_loss_limit" in body:
            body["daily_loss_limit"] = decimal_text(body["daily_loss_limit"])
        patched = self.http.patch(f"{self.base}/v1/accounts/{self.account}", json=body)
        assert patched.status_code == 200, patched.text

    def book_round_trip(self, price: float = 6800.0) -> None:
        """A bought and sold ES contract at one price, booked today straight into the database: no
        price P&L, and $4.50 of the venue's fees."""
        self.topo.postgres.psql(
            "INSERT INTO fills (venue, fill_id, client_order_id, account_id, symbol, exchange, side, "
            f"qty, price, source) VALUES ('rithmic', 'F-rt-1', NULL, '{self.account}', 'ESZ6', 'CME', "
            f"'BUY', 1, {price}, 'test'), ('rithmic', 'F-rt-2', NULL, '{self.account}', 'ESZ6', 'CME', "
            f"'SELL', 1, {price}, 'test')"
        )

    def book_fills(self, *fills: tuple[str, str, int, str], account: str | None = None) -> None:
        """Fills (symbol, side, qty, price as a decimal string) booked today straight into the
        database, in this order, with fill ids unique to this call."""
        tag = uuid.uuid4().hex[:8]
        exchanges = {"ES": "CME", "NQ": "CME", "CL": "NYMEX", "GC": "COMEX"}
        values = ", ".join(
            f"('rithmic', 'F-{tag}-{i}', NULL, '{account or self.account}', '{symbol}', "
            f"'{exchanges.get(symbol[:2], 'CBOT')}', '{side}', {qty}, {price}, 'test')"
            for i, (symbol, side, qty, price) in enumerate(fills)
        )
        self.topo.postgres.psql(
            "INSERT INTO fills (venue, fill_id, client_order_id, account_id, symbol, exchange, side, "
            f"qty, price, source) VALUES {values}"
        )

    def quote(self, symbol: str = "ESZ6") -> httpx.Response:
        return self.http.get(f"{self.base}/v1/quotes/{symbol}")

    def pnl(self, account: str | None = None) -> httpx.Response:
        return self.http.get(f"{self.base}/v1/accounts/{account or self.account}/pnl")

    def spec_errors(self, body: Any, schema: str) -> list[str]:
        """Where `body` breaks the named schema of the spec the middleware serves."""
        components = self.http.get(f"{self.base}/openapi.json").json()["components"]
        document = {"$ref": f"#/components/schemas/{schema}", "components": components}
        validator = jsonschema.Draft202012Validator(document, format_checker=jsonschema.FormatChecker())
        return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]

    def market_steps(self, symbol: str = "ESZ6") -> list[dict[str, Any]]:
        """The Rithmic mock's price path for the symbol: every step it showed, oldest first."""
        history = self.http.get(f"{self.rithmic_ctl}/market/history", params={"symbol": symbol})
        history.raise_for_status()
        steps: list[dict[str, Any]] = history.json()["steps"]
        return steps

    def account_info(self, account_id: str) -> httpx.Response:
        return self.http.get(f"{self.base}/v1/accounts/{account_id}")

    def accounts_of(self, customer: str) -> list[str]:
        result: list[str] = self.http.get(f"{self.base}/v1/accounts", params={"customer": customer}).json()[
            "accounts"
        ]
        return result

    # ------------------------------------------------------------------ mocks
    def arm(self, ctl: str, fault: str, params: dict[str, Any] | None = None, **extra: Any) -> None:
        body: dict[str, Any] = {"fault": fault, "params": params or {}, **extra}
        self.http.post(f"{ctl}/faults", json=body).raise_for_status()

    def ledger(self, ctl: str | None = None) -> dict[str, Any]:
        result: dict[str, Any] = self.http.get(f"{ctl or self.rithmic_ctl}/ledger").json()
        return result

    def venue_positions(self, account: str | None = None) -> dict[str, int]:
        rows = self.ledger()["positions"]
        return {
            r["symbol"]: r["net_qty"]
            for r in rows
            if r["account"] == (account or self.account) and r["net_qty"]
        }

    def venue_orders(self, tag: str) -> list[dict[str, Any]]:
        return [o for o in self.ledger()["orders"] if o["client_tag"] == tag]

    def events(self, ctl: str, kind: str | None = None) -> list[dict[str, Any]]:
        params = {"kind": kind} if kind else {}
        result: list[dict[str, Any]] = self.http.get(f"{ctl}/events", params=params).json()["events"]
        return result

    def fired(self, ctl: str, fault: str) -> list[dict[str, Any]]:
        return [e for e in self.events(ctl, "fault_fired") if e.get("fault") == fault]

    def stripe_send(self, types: list[str], customer: str | None = None, **extra: Any) -> dict[str, Any]:
        body: dict[str, Any] = {"types": types, "url": f"{self.base}/v1/webhooks/stripe", **extra}
        if customer is not None:
            body["customer"] = customer
        response = self.http.post(f"{self.stripe_ctl}/send", json=body, timeout=60)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def onboard(self, customer: str | None = None, *, provisioned: bool = True) -> tuple[str, str]:
        """Checkout plus subscription for a new customer; returns (customer, account id)."""
        customer = customer or f"cus_{uuid.uuid4().hex[:14]}"
        sent = self.stripe_send(["checkout.session.completed", "customer.subscription.created"], customer)
        assert all(d["status"] == 200 for d in sent["deliveries"]), sent
        accounts = self.accounts_of(customer)
        assert len(accounts) == 1, accounts
        if provisioned:
            info = wait_for(
                lambda: self.account_info(accounts[0]).json(),
                lambda a: a["tt"]["status"] == "provisioned",
                15,
            )
            assert info["tt"]["status"] == "provisioned", info
        return customer, accounts[0]


@pytest.fixture(scope="module")
def topo() -> Iterator[Topology]:
    started = time.monotonic()
    topology = Topology(target_files.load("reference"), seed=SEED, backend="embedded")
    with topology:
        topology.timings["total"] = time.monotonic() - started
        print(f"\ntopology ready in {topology.timings['total']:.2f}s: {topology.timings}")
        yield topology


@pytest.fixture(scope="module")
def env(topo: Topology) -> Iterator[Env]:
    environment = Env(topo)
    try:
        yield environment
    finally:
        environment.http.close()

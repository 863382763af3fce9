"""The Express sample target (targets/express-sample/), a real Node.js process behind the real
topology, started from its target file: onboarding through signed Stripe webhooks, an order filled
at the Rithmic mock under its clientRef, idempotency, reconnection, the service key and the rate
limit, and that each seeded bug (EXPRESS_BUGS) changes what is observed.

One topology (Postgres, fault plane, mocks) for the module; each test gets a fresh gateway process
over a clean database and reset mocks."""

from __future__ import annotations

import shutil
import socket
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from harness.topology import Topology

pytestmark = pytest.mark.slow

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[2]
TARGET_FILE = ROOT / "targets" / "express-sample.toml"
APP_DIR = ROOT / "targets" / "express-sample"
SEED = 7


def _missing() -> str | None:
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed: the Express sample target needs Node.js 20 and npm"
    if not (APP_DIR / "node_modules" / "express").is_dir():
        return "the Express sample's npm dependencies are not installed: run `make express-sample`"
    return None


def wait_for(fetch: Callable[[], T], ok: Callable[[T], bool], timeout: float, interval: float = 0.1) -> T:
    """Poll `fetch` until `ok(value)` or the timeout; the last value either way (bounded)."""
    deadline = time.monotonic() + timeout
    value = fetch()
    while not ok(value) and time.monotonic() < deadline:
        time.sleep(interval)
        value = fetch()
    return value


class Gateway:
    """The gateway's API, the mocks' control APIs, and a restart over a clean world."""

    def __init__(self, topo: Topology) -> None:
        self.topo = topo
        # the target file's headers: the per-run service key on every call (the mocks ignore it)
        self.http = httpx.Client(timeout=15.0, trust_env=False, headers=topo.admin_headers())
        mocks = topo.stack.describe()["mocks"]
        self.rithmic_ctl = mocks["rithmic"]["control"]
        self.stripe_ctl = mocks["stripe"]["control"]
        self.tt_ctl = mocks["tt"]["control"]

    @property
    def api(self) -> str:
        return self.topo.base_url

    @property
    def hook(self) -> str:
        url = self.topo.webhook_url("stripe")
        assert url is not None
        return url

    def restart(self, bugs: str = "", **env: str) -> None:
        self.topo.stop_target()  # nothing may answer the reset while it runs
        self.topo.reset_world()
        self.topo.restart_target({"EXPRESS_BUGS": bugs, **env})
        health = wait_for(self.health, lambda h: h.get("status") == "ok", 15)
        assert health.get("status") == "ok", f"gateway not healthy: {health}\n{self.log()}"

    def log(self) -> str:
        return self.topo.process.log_tail(60) if self.topo.process else ""

    def health(self) -> dict[str, Any]:
        port = self.topo.values["port"]
        try:
            result: dict[str, Any] = self.http.get(f"http://127.0.0.1:{port}/healthz").json()
        except httpx.HTTPError as exc:
            return {"error": str(exc)}
        return result

    # ------------------------------------------------------------------ the gateway's API
    def order(self, account: str, client_ref: str | None = None, **fields: Any) -> httpx.Response:
        body = {
            "accountId": account,
            "instrument": "ESZ6",
            "direction": "buy",
            "quantity": 1,
            "orderType": "market",
            "clientRef": client_ref or f"t-{uuid.uuid4().hex[:12]}",
        }
        body.update(fields)
        return self.http.post(f"{self.api}/trading/orders", json=body)

    def get_order(self, client_ref: str) -> dict[str, Any]:
        result: dict[str, Any] = self.http.get(f"{self.api}/trading/orders/{client_ref}").json()["data"]
        return result

    def account(self, account: str) -> httpx.Response:
        return self.http.get(f"{self.api}/accounts/{account}")

    def positions(self, account: str, venue: str = "rithmic") -> dict[str, int]:
        rows = self.http.get(f"{self.api}/accounts/{account}/positions").json()["data"]
        return {r["instrument"]: r["netQuantity"] for r in rows if r["venue"] == venue and r["netQuantity"]}

    def accounts_of(self, customer: str) -> list[str]:
        rows = self.http.get(f"{self.api}/customers/{customer}/accounts").json()["data"]
        return [r["accountId"] for r in rows]

    # ------------------------------------------------------------------ mocks
    def stripe_send(self, types: list[str], customer: str, **extra: Any) -> dict[str, Any]:
        body = {"types": types, "customer": customer, "url": self.hook, **extra}
        response = self.http.post(f"{self.stripe_ctl}/send", json=body, timeout=60)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def onboard(self) -> tuple[str, str]:
        """Checkout and subscription for a new customer; (customer, account id)."""
        customer = f"cus_{uuid.uuid4().hex[:14]}"
        sent = self.stripe_send(["checkout.session.completed", "customer.subscription.created"], customer)
        assert [d["status"] for d in sent["deliveries"]] == [200, 200], sent
        accounts = self.accounts_of(customer)
        assert len(accounts) == 1, accounts
        return customer, accounts[0]

    def arm(self, fault: str, params: dict[str, Any] | None = None, **extra: Any) -> None:
        body = {"fault": fault, "params": params or {}, **extra}
        self.http.post(f"{self.rithmic_ctl}/faults", json=body).raise_for_status()

    def ledger(self) -> dict[str, Any]:
        result: dict[str, Any] = self.http.get(f"{self.rithmic_ctl}/ledger").json()
        return result

    def venue_orders(self, client_ref: str) -> list[dict[str, Any]]:
        return [o for o in self.ledger()["orders"] if o["client_tag"] == client_ref]

    def venue_positions(self) -> dict[str, int]:
        return {p["symbol"]: p["net_qty"] for p in self.ledger()["positions"] if p["net_qty"]}

    def rithmic_proxy(self) -> Any:
        return self.topo.stack.plane.client.get_proxy("rithmic")

    def until_accepted(self, account: str, timeout: float) -> tuple[httpx.Response, float]:
        """Place orders until one is accepted or the timeout; the last answer and when it came."""
        started = time.monotonic()
        response = self.order(account)
        while response.status_code != 201 and time.monotonic() - started < timeout:
            time.sleep(0.2)
            response = self.order(account)
        return response, time.monotonic() - started


# ---------------------------------------------------------------------- the healthy build


def test_onboarding_then_an_order_filled_under_its_client_ref(gw: Gateway) -> None:
    gw.restart()
    customer, account = gw.onboard()
    info = wait_for(
        lambda: gw.account(account).json()["data"],
        lambda a: a["venues"]["tt"]["provisioningStatus"] == "provisioned",
        15,
    )
    assert info["customerId"] == customer and info["tradingEnabled"] is True, info
    assert info["venues"]["tt"]["provisioningStatus"] == "provisioned", info
    assert info["venues"]["rithmic"]["account"], info

    placed = gw.order(account, "smoke-1", quantity=2)
    assert placed.status_code == 201, placed.text
    filled = wait_for(lambda: gw.get_order("smoke-1"), lambda o: o["status"] == "FILLED", 10)
    assert filled["status"] == "FILLED" and filled["filledQuantity"] == 2, filled
    venue = gw.venue_orders("smoke-1")
    assert len(venue) == 1 and venue[0]["filled_qty"] == 2, venue
    assert gw.positions(account) == {"ESZ6": 2} == gw.venue_positions()

    # one payment per invoice, whatever the duplicate deliveries
    gw.stripe_send(["invoice.paid"], customer, faults=["duplicate"])
    payments = gw.account(account).json()["data"]["billing"]["payments"]
    assert len(payments) == 1 and payments[0]["status"] == "paid", payments
    # a cancelled subscription stops trading
    gw.stripe_send(["customer.subscription.deleted"], customer)
    assert gw.account(account).json()["data"]["tradingEnabled"] is False
    refused = gw.order(account)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "ORDER_REJECTED", refused.text


def test_a_repeated_client_ref_reaches_the_venue_once(gw: Gateway) -> None:
    gw.restart()
    _, account = gw.onboard()
    first = gw.order(account, "idem-1")
    again = gw.order(account, "idem-1")
    assert first.status_code == 201, first.text
    assert again.status_code == 200 and again.json()["meta"]["replayed"] is True, again.text
    time.sleep(0.5)
    assert len(gw.venue_orders("idem-1")) == 1


def test_forged_webhooks_are_refused(gw: Gateway) -> None:
    gw.restart()
    customer = f"cus_{uuid.uuid4().hex[:14]}"
    sent = gw.stripe_send(
        ["checkout.session.completed"], customer, faults=["bad_signature"], retry={"max_attempts": 1}
    )
    assert [d["status"] for d in sent["deliveries"]] == [400], sent
    assert gw.accounts_of(customer) == []


def test_orders_refused_fast_while_rithmic_is_down_and_accepted_after(gw: Gateway) -> None:
    gw.restart()
    _, account = gw.onboard()
    proxy = gw.rithmic_proxy()
    proxy.disable()
    try:
        wait_for(gw.health, lambda h: h.get("venues", {}).get("rithmic", {}).get("status") == "down", 5)
        started = time.monotonic()
        refused = gw.order(account)
        assert refused.status_code == 503, refused.text
        assert time.monotonic() - started < 1.0
        assert gw.account(account).status_code == 200  # admin reads come from Postgres
    finally:
        proxy.enable()
    accepted, _ = gw.until_accepted(account, 10)
    assert accepted.status_code == 201, f"{accepted.text}\n{gw.log()}"


def test_reconnects_after_a_forced_logout(gw: Gateway) -> None:
    gw.restart()
    _, account = gw.onboard()
    gw.arm("forced_logout", {"plant": "order"}, count=1)
    wait_for(gw.health, lambda h: h.get("venues", {}).get("rithmic", {}).get("status") == "down", 3)
    accepted, after = gw.until_accepted(account, 10)
    assert accepted.status_code == 201 and after < 5, f"{accepted.text} after {after:.1f}s\n{gw.log()}"


def upgrade_status(url: str, headers: dict[str, str]) -> str:
    """The status line a WebSocket handshake to `url` (ws://host:port/path?query) is answered with."""
    host_port, _, path = url.removeprefix("ws://").partition("/")
    host, _, port = host_port.partition(":")
    lines = [
        f"GET /{path} HTTP/1.1",
        f"Host: {host_port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        return sock.recv(4096).decode(errors="replace").split("\r\n", 1)[0]


def test_the_api_needs_the_service_key_and_health_metrics_and_webhooks_do_not(gw: Gateway) -> None:
    gw.restart()
    _, account = gw.onboard()  # signed Stripe webhooks: public, and served
    port = gw.topo.values["port"]
    ready, _ = gw.until_accepted(account, 5)  # the key opens the API: orders are placed with it
    assert ready.status_code == 201, ready.text
    order = {
        "accountId": account,
        "instrument": "ESZ6",
        "direction": "buy",
        "quantity": 1,
        "orderType": "market",
    }
    bare = httpx.Client(timeout=15.0, trust_env=False)
    try:
        for n, headers in enumerate(
            ({}, {"Authorization": "Bearer not-the-key"}, {"Authorization": "Basic abc"})
        ):
            for method, path in (
                ("GET", f"/accounts/{account}"),
                ("POST", "/trading/orders"),
                ("GET", "/nope"),
            ):
                body = order | {"clientRef": f"unauth-{n}"}
                answer = bare.request(method, f"{gw.api}{path}", headers=headers, json=body)
                assert answer.status_code == 401, (headers, path, answer.text)
                assert answer.headers["www-authenticate"] == "Bearer"
                assert answer.json()["error"]["code"] == "UNAUTHORIZED"
        assert bare.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
        assert bare.get(f"http://127.0.0.1:{port}/metrics").status_code == 200
    finally:
        bare.close()
    assert gw.account(account).status_code == 200  # with the key
    time.sleep(0.5)
    assert not [o for o in gw.ledger()["orders"] if str(o["client_tag"]).startswith("unauth-")]
    stream = f"ws://127.0.0.1:{port}/api/v2/stream?accountId={account}"
    assert " 401 " in upgrade_status(stream, {})
    assert " 401 " in upgrade_status(stream, {"Authorization": "Bearer not-the-key"})
    assert " 101 " in upgrade_status(stream, gw.topo.admin_headers())
    assert secret_free(gw), "the service key shows in the gateway's log"


def secret_free(gw: Gateway) -> bool:
    key = gw.topo.values["secrets"]["admin_key"]
    process = gw.topo.process
    assert process is not None
    return key not in process.logfile.read_text(errors="replace")


def test_one_accounts_flood_is_refused_with_retry_after_and_the_others_are_served(gw: Gateway) -> None:
    gw.restart(API_RATE_LIMIT_RPS="2", API_RATE_LIMIT_BURST="4")
    _, flooder = gw.onboard()
    _, other = gw.onboard()
    answers = [gw.account(flooder) for _ in range(12)]
    statuses = [a.status_code for a in answers]
    assert statuses[:3] == [200, 200, 200] and 429 in statuses, statuses
    refused = answers[statuses.index(429)]
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.json()["error"]["code"] == "RATE_LIMITED"
    assert gw.account(other).status_code == 200  # its own bucket
    placed = gw.order(other)
    assert placed.status_code == 201, placed.text
    time.sleep(1.5)  # about three tokens back at 2/s
    assert gw.account(flooder).status_code == 200


# ---------------------------------------------------------------------- the seeded bugs


def test_bug_no_idempotency_sends_a_repeat_to_the_venue(gw: Gateway) -> None:
    gw.restart("no_idempotency")
    _, account = gw.onboard()
    ready, _ = gw.until_accepted(account, 5)  # the order plant may log in just after /healthz says ok
    assert ready.status_code == 201, ready.text
    accepted, answers = 0, list[str]()
    while accepted < 2 and len(answers) < 8:
        again = gw.order(account, "dup-1")
        answers.append(f"{again.status_code} {again.text}")
        if again.status_code == 201:
            accepted += 1
        else:  # under load the first order's fill can hold the account row past lock_timeout (1 s):
            # a definite 503 before anything is sent, not what this test is about; send it again
            assert again.status_code == 503 and "lock" in again.text, answers
            time.sleep(0.3)
    assert accepted == 2, answers
    time.sleep(0.5)
    assert len(gw.venue_orders("dup-1")) == 2, answers  # a 503 sent nothing: each 201 reached the venue


def test_bug_no_reconnect_stays_down_after_a_forced_logout(gw: Gateway) -> None:
    gw.restart("no_reconnect")
    _, account = gw.onboard()
    gw.arm("forced_logout", {"plant": "order"}, count=1)
    wait_for(gw.health, lambda h: h.get("venues", {}).get("rithmic", {}).get("status") == "down", 3)
    last, _ = gw.until_accepted(account, 4)
    assert last.status_code == 503, last.text


def test_bug_positions_from_orders_counts_a_resting_order(gw: Gateway) -> None:
    gw.restart("positions_from_orders")
    _, account = gw.onboard()
    resting = gw.order(account, "rest-1", orderType="limit", limitPrice=6000.0)
    assert resting.status_code == 201, resting.text
    wait_for(lambda: gw.get_order("rest-1"), lambda o: o["status"] == "WORKING", 5)
    assert gw.venue_positions() == {}
    assert gw.positions(account) == {"ESZ6": 1}


def test_bug_no_rate_limit_never_answers_429(gw: Gateway) -> None:
    gw.restart("no_rate_limit", API_RATE_LIMIT_RPS="1", API_RATE_LIMIT_BURST="2")
    _, account = gw.onboard()
    statuses = {gw.account(account).status_code for _ in range(15)}
    assert statuses == {200}, statuses


def test_bug_unsigned_webhooks_accepts_a_forged_delivery(gw: Gateway) -> None:
    gw.restart("unsigned_webhooks")
    customer = f"cus_{uuid.uuid4().hex[:14]}"
    sent = gw.stripe_send(
        ["checkout.session.completed"], customer, faults=["bad_signature"], retry={"max_attempts": 1}
    )
    assert [d["status"] for d in sent["deliveries"]] == [200], sent
    assert len(gw.accounts_of(customer)) == 1


def test_bug_no_fill_dedup_counts_a_repeated_fill_twice(gw: Gateway) -> None:
    gw.restart("no_fill_dedup")
    _, account = gw.onboard()
    gw.arm("duplicate_fill", count=1)
    assert gw.order(account, "twice-1").status_code == 201
    order = wait_for(lambda: gw.get_order("twice-1"), lambda o: o["filledQuantity"] >= 2, 5)
    assert order["filledQuantity"] == 2 and gw.venue_positions() == {"ESZ6": 1}, order


def test_bug_no_reconcile_loses_fills_made_during_a_drop(gw: Gateway) -> None:
    def lost_during_a_drop() -> tuple[dict[str, int], dict[str, int]]:
        _, account = gw.onboard()
        gw.arm("hold_fills", {"delay_ms": 800}, count=1)
        assert gw.order(account, f"held-{uuid.uuid4().hex[:6]}").status_code == 201
        proxy = gw.rithmic_proxy()
        proxy.disable()
        time.sleep(1.5)  # the fill happens at the venue while we cannot hear it
        proxy.enable()
        gw.until_accepted(account, 10)
        mine = wait_for(lambda: gw.positions(account), lambda p: p == gw.venue_positions(), 5)
        return mine, gw.venue_positions()

    gw.restart()
    mine, venue = lost_during_a_drop()
    assert mine == venue, "the healthy build books the held fill by reconciling after the reconnect"
    gw.restart("no_reconcile")
    mine, venue = lost_during_a_drop()
    assert mine != venue, (mine, venue)

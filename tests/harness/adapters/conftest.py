"""A scripted stand-in API on loopback, and adapters declared against it from TOML text."""

from __future__ import annotations

import json
import threading
import time
import tomllib
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from harness.adapters import Adapter, HttpAdapter, HttpApi
from harness.target import parse

# (method, path) -> (status, body, delay_s); the requests it saw, for assertions
Script = dict[tuple[str, str], tuple[int, Any, float]]

TARGET = """
name = "agency"
[start]
command = ["node", "server.js"]
[ready]
url = "http://127.0.0.1:{port}/healthz"
[env]
API_KEY = "k-123456-secret"
[adapter]
base_url = "http://127.0.0.1:{port}"
headers = { Authorization = "Bearer {env.API_KEY}" }
[adapter.values]
side = { BUY = "buy", SELL = "sell" }
order_type = { MARKET = "market", LIMIT = "limit" }
[adapter.states]
NEW = "pending"
WORKING = "working"
PARTIALLY_FILLED = "partially_filled"
FILLED = "filled"
CANCELED = "cancelled"
REJECTED = "rejected"
[adapter.operations.place_order]
method = "POST"
path = "/api/v2/trading/orders"
fields = { status = "data.state" }
[adapter.operations.place_order.body]
accountId = "{account}"
instrument = "{symbol}"
direction = "{side}"
quantity = "{qty}"
orderType = "{order_type}"
limitPrice = "{limit_price}"
clientRef = "ref:{client_order_id}"
[adapter.operations.order_status]
method = "GET"
path = "/api/v2/trading/orders/{client_order_id}"
fields = { status = "data.state", filled_qty = "data.filledQuantity", avg_price = "data.avgPrice" }
[adapter.operations.set_limits]
method = "PUT"
path = "/api/v2/accounts/{account}/risk"
[adapter.operations.set_limits.body]
maxOrderSize = "{max_order_qty}"
maxPosition = "{max_position}"
dailyLoss = { usd = "{daily_loss_limit}" }
[adapter.operations.route_account]
method = "POST"
path = "/api/v2/accounts/{account}/route"
body = { executionVenue = "{venue}" }
[adapter.operations.positions]
method = "GET"
path = "/api/v2/accounts/{account}/positions"
items = "data"
fields = { symbol = "instrument", net_qty = "netQuantity", venue = "venue" }
[adapter.operations.account]
method = "GET"
path = "/api/v2/accounts/{account}"
[adapter.operations.account.fields]
account_id = "data.id"
trading_enabled = "data.canTrade"
tt_status = "data.tt.state == 'ACTIVE' && 'provisioned' || 'pending'"
payment_invoices = "data.payments[].invoice"
[adapter.operations.accounts_for_customer]
method = "GET"
path = "/api/v2/customers/{customer}/accounts"
fields = { accounts = "data[].id" }
[adapter.operations.quote]
method = "GET"
path = "/api/v2/md/{symbol}"
fields = { bid = "data.bestBid", ask = "data.bestAsk", stale = "data.isStale" }
[adapter.operations.account_pnl]
method = "GET"
path = "/api/v2/accounts/{account}/pnl"
fields = { realized = "data.realised.usd", unrealized = "data.unrealised.usd" }
[adapter.operations.health]
method = "GET"
path = "/healthz"
"""


class StandIn:
    def __init__(self) -> None:
        self.script: Script = {}
        self.seen: list[dict[str, Any]] = []
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length) if length else b""
                stand_in.seen.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "headers": dict(self.headers),
                        "json": json.loads(raw) if raw else None,
                    }
                )
                route = self.path.split("?")[0]
                status, body, delay = stand_in.script.get((self.command, route), (404, {"error": "no"}, 0))
                time.sleep(delay)
                data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    server = StandIn()
    try:
        yield server
    finally:
        server.close()


MakeAdapter = Callable[..., Adapter]


@pytest.fixture
def declared(stand_in: StandIn) -> Iterator[Callable[..., HttpAdapter]]:
    made: list[HttpAdapter] = []

    def make(text: str = TARGET, timeout_s: float | None = None) -> HttpAdapter:
        target = parse(tomllib.loads(text), "agency.toml")
        spec = target.adapter
        if timeout_s is not None:
            from dataclasses import replace

            spec = replace(spec, timeout_s=timeout_s)
        values = {"port": stand_in.port, "env": dict(target.env)}
        adapter = HttpAdapter(HttpApi(spec, values))
        made.append(adapter)
        return adapter

    yield make
    for adapter in made:
        adapter.close()

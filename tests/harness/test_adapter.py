"""The default adapter's Jepsen classification: ok, fail (definitely not done), info (unknown)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from harness.adapter import DefaultAdapter
from harness.netguard import TargetRefused
from harness.ports import free_port

# path -> (status, body, delay_s): how the stand-in middleware answers each order id.
SCRIPT: dict[str, tuple[int, object, float]] = {
    "accepted": (202, {"client_order_id": "accepted", "status": "working"}, 0),
    "risk": (422, {"error": "max position"}, 0),
    "venue-down": (503, {"error": "rithmic down"}, 0),
    "gateway-timeout": (504, {"error": "venue did not answer"}, 0),
    "crash": (500, "Internal Server Error", 0),
    "slow": (202, {}, 2.0),
}


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        order = json.loads(self.rfile.read(length))
        status, body, delay = SCRIPT[order["client_order_id"]]
        time.sleep(delay)
        raw = json.dumps(body).encode() if not isinstance(body, str) else body.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def adapter() -> Iterator[DefaultAdapter]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    client = DefaultAdapter(f"http://127.0.0.1:{server.server_address[1]}", timeout_s=0.5)
    try:
        yield client
    finally:
        client.close()
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("order_id", "kind", "status"),
    [
        ("accepted", "ok", 202),
        ("risk", "fail", 422),
        ("venue-down", "fail", 503),
        ("gateway-timeout", "info", 504),
        ("crash", "info", 500),
        ("slow", "info", None),
    ],
)
def test_each_answer_is_classified(
    adapter: DefaultAdapter, order_id: str, kind: str, status: int | None
) -> None:
    outcome = adapter.place_order(
        account="A1", symbol="ESZ6", side="BUY", qty=1, order_type="MARKET", client_order_id=order_id
    )
    assert (outcome.type, outcome.status) == (kind, status)
    assert outcome.latency_ms > 0
    if order_id == "slow":
        assert "Timeout" in outcome.error


def test_nothing_listening_is_a_definite_failure() -> None:
    adapter = DefaultAdapter(f"http://127.0.0.1:{free_port()}")
    outcome = adapter.health()
    adapter.close()
    assert outcome.type == "fail" and outcome.status is None and "connect" in outcome.error


def test_a_middleware_off_loopback_is_refused_unless_allowlisted() -> None:
    with pytest.raises(TargetRefused):
        DefaultAdapter("http://192.0.2.10:8080")
    DefaultAdapter("http://uat-mw.internal:8080", allowed_hosts=("uat-mw.internal",)).close()

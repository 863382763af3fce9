"""The security suite's parts: the [security] table, what a probe's expectation admits, the sender's
credentials and source address, the secrets sweep and Retry-After."""

from __future__ import annotations

import json
import threading
import time
import tomllib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from harness.adapters import HttpApi
from harness.security.flood import FloodError, flood, run_sender, valid_retry_after
from harness.security.probes import Probe, Sender
from harness.security.spec import SecuritySpec
from harness.security.sweep import known_secrets, log_lines, sweep
from harness.target import TargetError, parse
from harness.testing import adapter_toml

AUTH = """
[adapter.operations.issue_key]
method = "POST"
path = "/keys"
fields = { key = "key" }
[adapter.auth]
admin = { Authorization = "Bearer {env.ADMIN}" }
trader = { Authorization = "Bearer {api_key}" }
"""


def _target(extra: str = "", adapter: str = "") -> str:
    return (
        'name = "t"\n[start]\ncommand = ["x"]\n[ready]\nurl = "http://127.0.0.1:{port}/h"\n'
        '[env]\nADMIN = "admin-key-0123456789"\n' + extra + adapter_toml() + adapter
    )


@pytest.mark.parametrize(
    ("table", "field", "message"),
    [
        ('admin_allowlisted = "127.0.0.2"', "admin_not_allowlisted", "declare both"),
        (
            'admin_allowlisted = "10.0.0.2"\nadmin_not_allowlisted = "127.0.0.3"',
            "admin_allowlisted",
            "loopback",
        ),
        (
            'admin_allowlisted = "127.0.0.1"\nadmin_not_allowlisted = "127.0.0.3"',
            "admin_allowlisted",
            "other than",
        ),
        (
            'admin_allowlisted = "127.0.0.2"\nadmin_not_allowlisted = "127.0.0.2"',
            "admin_not_allowlisted",
            "differ",
        ),
        ("rate_limit_rps = 0", "rate_limit_rps", "positive"),
        ('admin_allowlisted = "me"\nadmin_not_allowlisted = "127.0.0.3"', "admin_allowlisted", "IP address"),
    ],
)
def test_each_bad_security_key_is_named(table: str, field: str, message: str) -> None:
    with pytest.raises(TargetError, match=rf"t\.toml: security\.{field}: .*{message}"):
        parse(tomllib.loads(_target(f"[security]\n{table}\n")), "t.toml")


def test_the_allowlist_is_offered_only_when_both_addresses_are_declared() -> None:
    both = parse(
        tomllib.loads(
            _target('[security]\nadmin_allowlisted = "127.0.0.2"\nadmin_not_allowlisted = "127.0.0.3"\n')
        ),
        "t.toml",
    )
    assert "security:allowlist" in both.offers()
    assert "security:allowlist" not in parse(tomllib.loads(_target()), "t.toml").offers()
    assert SecuritySpec().offers() == ()


@pytest.mark.parametrize(
    ("expect", "status", "met"),
    [
        ("401", 401, True),
        ("401", 403, False),
        ("401", None, False),
        ("refused", 404, True),
        ("refused", 429, False),
        ("refused", 200, False),
        ("2xx", 204, True),
        ("answered", 413, True),
        ("answered", 500, False),
    ],
)
def test_what_each_expectation_admits(expect: Any, status: int | None, met: bool) -> None:
    probe = Probe("g", "n", "op", "GET", "/", "none", expect)
    probe.status = status
    assert probe.met is met


class Echo:
    """Answers every request with what it saw: the peer's address and the headers."""

    def __init__(self, status: int = 200, headers: dict[str, str] | None = None) -> None:
        outer = self
        self.seen: list[dict[str, Any]] = []

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                self.rfile.read(length)
                seen = {"peer": self.client_address[0], "headers": dict(self.headers)}
                outer.seen.append(seen)
                data = json.dumps(seen).encode()
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()


@pytest.fixture
def echo() -> Iterator[Echo]:
    server = Echo()
    yield server
    server.server.shutdown()
    server.server.server_close()


def _api(port: int) -> HttpApi:
    target = parse(tomllib.loads(_target(adapter=AUTH)), "t.toml")
    return HttpApi(target.adapter, {"port": port, "env": dict(target.env)})


def test_a_probe_is_sent_from_the_loopback_alias_it_names_with_the_credential_it_names(echo: Echo) -> None:
    sender = Sender(_api(echo.port))
    try:
        args = {"account": "A", "client_order_id": "c1"}
        spoofed = sender.probe(
            "allowlist",
            "n",
            "order_status",
            args,
            credential="admin",
            expect="refused",
            source="127.0.0.3",
            extra_headers={"X-Forwarded-For": "127.0.0.2"},
        )
        bare = sender.probe("authentication", "n", "order_status", args, credential="none", expect="401")
        sender.probe("authentication", "n", "order_status", args, credential="wrong", expect="401")
        keyed = sender.probe(
            "object_access", "n", "order_status", args, credential="trader A", key="k-A", expect="refused"
        )
    finally:
        sender.close()
    first, second, third, fourth = echo.seen
    assert first["peer"] == "127.0.0.3" and first["headers"]["X-Forwarded-For"] == "127.0.0.2"
    assert first["headers"]["Authorization"] == "Bearer admin-key-0123456789"
    assert "Authorization" not in second["headers"] and second["peer"] == "127.0.0.1"
    assert third["headers"]["Authorization"].startswith("Bearer uat-wrong-")
    assert fourth["headers"]["Authorization"] == "Bearer k-A"
    assert (
        spoofed.status == 200
        and not spoofed.met
        and bare.url == "/orders/c1"
        and keyed.credential == "trader A"
    )


def test_a_flood_is_paced_and_bounded_and_keeps_every_answer() -> None:
    limited = Echo(status=429, headers={"Retry-After": "1"})
    try:
        record = flood(
            _api(limited.port), account="A", api_key="k", rate_rps=100, duration_s=1.0, now=lambda: 0.0
        )
    finally:
        limited.server.shutdown()
        limited.server.server_close()
    assert 80 <= len(record.shots) <= 100, "about the rate asked for, never past rate x duration"
    assert all(s.status == 429 and s.retry_after == "1" for s in record.shots)
    assert limited.seen[0]["headers"]["Authorization"] == "Bearer k"


def test_the_floods_answers_are_on_the_callers_timeline() -> None:
    """The sender is a process of its own, yet its answers carry the caller's clock (a scenario's
    timeline), as the traders' do, so the checks can tell which orders fell during it."""
    limited = Echo(status=429, headers={"Retry-After": "1"})
    origin = time.monotonic() - 100.0  # a timeline that began 100 s ago
    try:
        record = flood(
            _api(limited.port),
            account="A",
            api_key="k",
            rate_rps=40,
            duration_s=0.5,
            now=lambda: time.monotonic() - origin,
        )
    finally:
        limited.server.shutdown()
        limited.server.server_close()
    assert 100.0 <= record.started <= record.shots[0].at <= record.shots[-1].at <= record.ended < 102.0
    # paced, not a burst: the k-th answer's request went no sooner than k / rate after the start
    # (a loaded box only makes them later)
    early = [
        (k, s.at - record.started)
        for k, s in enumerate(record.shots)
        if s.at - record.started < k / 40 - 0.002
    ]
    assert len(record.shots) >= 5 and not early, (early, record.shots)


def test_a_sender_that_dies_is_the_harnesss_failure_not_a_silent_empty_flood() -> None:
    with pytest.raises(FloodError, match=r"(?s)exited 1: .*KeyError"):
        # a plan without its pace (no type would allow it): the sender cannot start
        run_sender({"method": "GET"}, bound_s=10)  # type: ignore[typeddict-item]


def test_the_sweep_names_each_secret_found_and_never_shows_it() -> None:
    secrets = known_secrets(
        {"mocks": {"rithmic": {"user": "trader-one", "password": "s3cret-pass-123", "url": "ws://x"}}},
        {"account A": "trader-key-abcdef"},
    )
    assert secrets == {
        "mocks.rithmic.password": "s3cret-pass-123",
        "the trader key of account A": "trader-key-abcdef",
    }
    log = "start\nlogin user=trader-one password=s3cret-pass-123 ok\nauth Bearer trader-key-abcdef\n"
    leaks, searched = sweep(secrets, [("answer", '{"ok": true}'), *log_lines(log)])
    assert searched == 4 and [leak.where for leak in leaks] == ["log line 2", "log line 3"]
    assert all("s3cret" not in leak.context and "abcdef" not in leak.context for leak in leaks)
    assert "«mocks.rithmic.password»" in leaks[0].context


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("1", True),
        ("120", True),
        ("Wed, 21 Oct 2026 07:28:00 GMT", True),
        ("", False),
        (None, False),
        ("soon", False),
        ("-1", False),
    ],
)
def test_retry_after_is_seconds_or_a_date(value: str | None, valid: bool) -> None:
    assert valid_retry_after(value) is valid


@pytest.mark.parametrize(("serves", "met"), [(True, False), (False, True)])
def test_a_stream_that_serves_a_message_without_a_credential_is_caught(serves: bool, met: bool) -> None:
    from websockets.sync.server import ServerConnection, serve

    seen: list[dict[str, str]] = []

    def handler(ws: ServerConnection) -> None:
        seen.append(dict(ws.request.headers) if ws.request else {})
        if serves:
            ws.send(json.dumps({"type": "quote", "symbol": "ESZ6"}))
            ws.recv()
        else:
            ws.close(1008, "invalid or missing credentials")

    server = serve(handler, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.socket.getsockname()[1]
    stream = '[adapter.stream]\nurl = "ws://127.0.0.1:' + str(port) + '/s?account={account}"\nkind = "type"\n'
    target = parse(tomllib.loads(_target(adapter=AUTH + stream)), "t.toml")
    sender = Sender(HttpApi(target.adapter, {"port": 1, "env": dict(target.env)}))
    try:
        probe = sender.stream_probe("authentication", "n", "A", ("ESZ6",), credential="none")
    finally:
        sender.close()
        server.shutdown()
    assert probe is not None, "the target declares a stream"
    assert probe.met is met, probe.to_json()
    assert "Authorization" not in seen[0] and "authorization" not in seen[0]

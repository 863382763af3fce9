"""A running Zapier mock built from a TOML config, and a real threaded HTTP receiver playing the targets."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from mocks.zapier import ZapierMock, load
from tests.mocks.venue_thread import VenueThread

FAST_RETRY = "[retry]\nmax_attempts = 3\nbase_delay_ms = 20\nmax_delay_ms = 100\ntimeout_ms = 2000\n"


@dataclass
class Hit:
    method: str
    path: str
    headers: dict[str, str]
    raw: bytes
    at: float

    @property
    def json(self) -> Any:
        return json.loads(self.raw)


@dataclass
class Receiver:
    """Plays every step target: records each request, answers from `script[path]` (statuses, used up
    in order) then 200 with `answers[path]` (JSON) or `{"ok": true}`."""

    hits: list[Hit] = field(default_factory=list)
    script: dict[str, list[int]] = field(default_factory=dict)
    answers: dict[str, Any] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)  # seconds before answering, per path
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def to(self, path: str) -> list[Hit]:
        with self.lock:
            return [h for h in self.hits if h.path == path]

    def respond(self, method: str, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        path = handler.path
        with self.lock:
            self.hits.append(Hit(method, path, dict(handler.headers), raw, time.monotonic()))
            scripted = self.script.get(path.split("?")[0])
            status = scripted.pop(0) if scripted else 200
            answer = self.answers.get(path.split("?")[0], {"ok": True})
            delay = self.delays.get(path.split("?")[0], 0.0)
        time.sleep(delay)
        body = json.dumps(answer if status < 300 else {"error": status}).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)


def _handler_class(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            receiver.respond("POST", self)

        def do_PUT(self) -> None:
            receiver.respond("PUT", self)

        def do_GET(self) -> None:
            receiver.respond("GET", self)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(r))
    r.server.daemon_threads = True
    thread = threading.Thread(target=r.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield r
    finally:
        r.server.shutdown()
        r.server.server_close()
        thread.join(5)


@dataclass
class Zapier:
    vt: VenueThread
    http: httpx.Client

    @property
    def venue(self) -> ZapierMock:
        assert isinstance(self.vt.venue, ZapierMock)
        return self.vt.venue

    def hook(self, hook: str = "paid") -> str:
        return f"{self.vt.url}/hooks/catch/{self.venue.account_id}/{hook}/"

    def trigger(self, payload: Any, hook: str = "paid") -> httpx.Response:
        return self.http.post(self.hook(hook), json=payload)

    def control(self, method: str, path: str, body: Any = None) -> httpx.Response:
        return self.http.request(method, self.vt.control_url + path, json=body)

    def arm(self, fault: str, count: int = 1, **params: Any) -> None:
        r = self.control("POST", "/faults", {"fault": fault, "params": params, "count": count})
        assert r.status_code == 201, r.text

    def runs(self, **query: str) -> list[dict[str, Any]]:
        r = self.http.get(self.vt.control_url + "/zapier/runs", params=query)
        assert r.status_code == 200, r.text
        runs: list[dict[str, Any]] = r.json()["runs"]
        return runs

    def settle(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """The runs once `count` of them have reached a final state (bounded wait)."""
        deadline = time.monotonic() + timeout
        while True:
            runs = self.runs()
            done = [r for r in runs if r["state"] in ("success", "errored", "halted", "dropped")]
            if len(done) >= count or time.monotonic() > deadline:
                assert len(done) >= count, runs
                return runs
            time.sleep(0.01)


def wait_until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


ONE_STEP = """
account_id = "777"
[limits]
{limits}
{retry}
[[zaps]]
id = "pay"
hook = "paid"
[[zaps.steps]]
name = "notify"
url = "{{{{env.target}}}}/notify"
body = {{ email = "{{{{trigger.customer.email}}}}", amount = "{{{{trigger.amount}}}}" }}
"""


@pytest.fixture
def make_zapier(tmp_path: Path, receiver: Receiver) -> Iterator[Callable[..., Zapier]]:
    """Start a mock from a config text (`{{env.target}}` is the receiver); stopped at the end."""
    started: list[tuple[VenueThread, httpx.Client]] = []

    def make(text: str | None = None, limits: str = "jitter_ms = 0", seed: int = 0, **env: str) -> Zapier:
        path = tmp_path / f"zaps{len(started)}.toml"
        path.write_text(text if text is not None else ONE_STEP.format(limits=limits, retry=FAST_RETRY))
        values = {"target": receiver.url, **env}
        venue = ZapierMock(load(path, values), seed=seed, env=values)
        vt = VenueThread(venue).__enter__()
        client = httpx.Client(timeout=10)
        started.append((vt, client))
        return Zapier(vt, client)

    try:
        yield make
    finally:
        for vt, client in started:
            client.close()
            vt.__exit__(None, None, None)


@pytest.fixture
def zapier(make_zapier: Callable[..., Zapier]) -> Zapier:
    return make_zapier()

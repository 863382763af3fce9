"""Test doubles shipped as API (as trio ships `trio.testing`): the demo and the tests share them."""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


class _EchoHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(30)
        with contextlib.suppress(OSError):
            while data := sock.recv(65536):
                sock.sendall(data)


class _ThreadingServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False
    request_queue_size = 128  # tests open dozens of connections at once; the default 5 stalls them


class EchoServer:
    """A threaded TCP echo server on loopback; a context manager that always shuts down."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._server = _ThreadingServer((host, 0), _EchoHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.daemon = True

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def __enter__(self) -> EchoServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def postgres_missing() -> str:
    """Why no throwaway Postgres can start here, or "" when one can: the reason a skip gives."""
    from .postgres import PostgresUnavailable, find_bindir

    try:
        find_bindir()
    except PostgresUnavailable as exc:
        return str(exc)
    return ""


def reference_adapter(base_url: str, admin_key: str = "") -> Any:
    """The bundled reference target's declared adapter, pointed at a reference middleware that is
    already running at `base_url` (the tests start one without a whole topology) with this back
    office's key (REFMW_ADMIN_KEY; empty where it runs without authentication)."""
    from dataclasses import replace

    from .adapters import build
    from .target import load

    spec = load("reference").adapter
    port = urlsplit(base_url).port or 80
    return build(replace(spec, base_url=base_url), {"port": port, "env": {"REFMW_ADMIN_KEY": admin_key}})


def adapter_toml(base_url: str = "http://127.0.0.1:{port}") -> str:
    """The smallest valid `[adapter]` table (the four required operations), for targets written
    inline by tests that are about something else."""
    return (
        f'[adapter]\nbase_url = "{base_url}"\n'
        '[adapter.operations.place_order]\nmethod = "POST"\npath = "/orders"\n'
        '[adapter.operations.order_status]\nmethod = "GET"\npath = "/orders/{client_order_id}"\n'
        'fields = { status = "status" }\n'
        '[adapter.operations.positions]\nmethod = "GET"\npath = "/positions"\nitems = "rows"\n'
        'fields = { symbol = "symbol", net_qty = "net_qty" }\n'
        '[adapter.operations.health]\nmethod = "GET"\npath = "/health"\n'
    )


def adapter_table(base_url: str = "http://127.0.0.1:{port}") -> dict[str, Any]:
    """`adapter_toml()` as the table a parsed target file holds."""
    import tomllib

    table: dict[str, Any] = tomllib.loads(adapter_toml(base_url))["adapter"]
    return table


def _interrupt(procs: list[Any]) -> None:
    """Ctrl-C to each gate still running (each tears its topology down), then a kill after 60 s."""
    import signal
    import subprocess

    live = [proc for proc in procs if proc.poll() is None]
    for proc in live:
        proc.send_signal(signal.SIGINT)
    for proc in live:
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def gate_lanes(
    lanes: list[list[str]],
    report: Path,
    *,
    env: dict[str, str] | None = None,
    envs: list[dict[str, str]] | None = None,
    timeout_s: float = 900,
    width: int | None = None,
) -> list[tuple[int, dict[str, Any], str]]:
    """Run one `uat gate` per lane, each with its own topology and report dir (report/lane-N), and
    give back each one's exit code, gate.json and output tail, in lane order. A scenario run mostly
    waits on its phases, so gates side by side on two cores take a fraction of the wall time of one.
    `width` caps how many run at once (default: all): a lane starts as soon as another ends, so one
    slow lane never holds up the rest as lock-step groups would. `envs` gives each lane its own
    environment (e.g. a different mutant); `env` one for all. `timeout_s` counts from a lane's start;
    a lane past it gets Ctrl-C, so its gate tears its topology down."""
    import json
    import os
    import subprocess
    import sys
    import tempfile
    import time

    cap = max(1, width or len(lanes))
    codes: dict[int, int] = {}
    with contextlib.ExitStack() as stack:
        outs = [stack.enter_context(tempfile.TemporaryFile(mode="w+")) for _ in lanes]
        running: dict[int, tuple[subprocess.Popen[str], float]] = {}
        pending = list(range(len(lanes)))

        def stop_running() -> None:  # an exception or Ctrl-C here: no gate outlives the call
            _interrupt([proc for proc, _ in running.values()])

        stack.callback(stop_running)
        while pending or running:
            while pending and len(running) < cap:
                index = pending.pop(0)
                cmd = [sys.executable, "-m", "harness", "gate", *lanes[index], "--no-html"]
                cmd += ["--report", str(report / f"lane-{index}")]
                lane_env = envs[index] if envs is not None else env or dict(os.environ)
                proc = subprocess.Popen(
                    cmd, stdout=outs[index], stderr=subprocess.STDOUT, text=True, env=lane_env
                )
                running[index] = (proc, time.monotonic())
            for index, (proc, started) in list(running.items()):
                if proc.poll() is None and time.monotonic() - started > timeout_s:
                    _interrupt([proc])
                if proc.poll() is not None:
                    codes[index] = proc.returncode
                    del running[index]
            time.sleep(0.2)
        results = []
        for index, out in enumerate(outs):
            out.seek(0)
            gate_file = report / f"lane-{index}" / "gate.json"
            gate = json.loads(gate_file.read_text()) if gate_file.exists() else {}
            results.append((codes[index], gate, out.read()[-6000:]))
    return results

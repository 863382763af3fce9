"""The Express sample speaking CQG WebAPI with protobufjs (targets/express-sample/src/cqg/): its probe
CLI, a real Node process, against the CQG mock through the fault plane's `cqg` proxy. What it prints
is held to the mock's own records (ledger, price history, events); then the faults it must cope with
(junk frames, server pings, a 106 redirect) and those it must fail on with a clear message."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.mockstack import MockStack
from mocks.cqg.proto import webapi_pb2 as pb

ROOT = Path(__file__).resolve().parents[2]
APP_DIR = ROOT / "targets" / "express-sample"
PROBE = APP_DIR / "src" / "cqg" / "probe.js"
DEFAULTS = {"ping_interval_s": 10.0, "pong_timeout_s": 20.0}


def _missing() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed: the Express sample's CQG client needs Node.js 20"
    for module in ("protobufjs", "ws"):
        if not (APP_DIR / "node_modules" / module).is_dir():
            return f"the Express sample's npm module {module} is not installed: run `make express-sample`"
    return None


pytestmark = pytest.mark.skipif(_missing() is not None, reason=_missing() or "")


@pytest.fixture(scope="module")
def stack() -> Iterator[MockStack]:
    with MockStack(backend="embedded", venues=["cqg"]) as s:
        yield s


@pytest.fixture
def cqg(stack: MockStack) -> Iterator[dict[str, Any]]:
    """The mock's facts (its `url` is the proxy's), over a fresh ledger and default settings."""
    stack.reset_venue("cqg")
    facts: dict[str, Any] = stack.describe()["mocks"]["cqg"]
    yield facts
    httpx.post(f"{facts['control']}/cqg/config", json=DEFAULTS).raise_for_status()


def probe(
    cqg: dict[str, Any], *extra: str, env: dict[str, str] | None = None, **over: str
) -> subprocess.CompletedProcess[str]:
    args = {
        "url": cqg["url"],
        "user": cqg["user"],
        "password": cqg["password"],
        "symbol": "ESZ6",
        "account": str(cqg["accounts"][0]),
        "timeout-ms": "4000",
        **over,
    }
    argv = ["node", str(PROBE), *(f"--{k}={v}" for k, v in args.items()), *extra]
    return subprocess.run(
        argv, cwd=APP_DIR, capture_output=True, text=True, timeout=30, env={**os.environ, **(env or {})}
    )


def seen(run: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert run.returncode == 0, f"probe failed ({run.returncode}): {run.stderr}"
    lines = run.stdout.strip().splitlines()
    assert len(lines) == 1, run.stdout
    result: dict[str, Any] = json.loads(lines[0])
    return result


def control(cqg: dict[str, Any], path: str, **params: Any) -> Any:
    return httpx.get(f"{cqg['control']}{path}", params=params, timeout=5).json()


def arm(cqg: dict[str, Any], fault: str, params: dict[str, Any], **extra: Any) -> None:
    reply = httpx.post(f"{cqg['control']}/faults", json={"fault": fault, "params": params, **extra})
    assert reply.status_code == 201, reply.text


def test_probe_logon_quote_and_fill_match_the_mock(stack: MockStack, cqg: dict[str, Any]) -> None:
    # A latency toxic on the proxy shows every byte went through the fault plane; a zone far from
    # UTC shows base_time (written without a zone) is read as UTC.
    with stack.plane.client.get_proxy("cqg").toxic("latency", latency=150):
        started = time.time()
        got = seen(probe(cqg, env={"TZ": "America/Chicago"}))
    assert got["url"] == cqg["url"] and got["redirects"] == []
    assert got["ping_rtt_ms"] >= 150
    assert got["logon"]["result_code"] == 0 and got["logon"]["protocol"] == cqg["protocol_version"]
    logons = control(cqg, "/events", kind="logon")["events"]
    assert [(e["user"], e["app"]) for e in logons] == [(cqg["user"], "stackuat-express-probe")]
    assert got["logged_off"] == 1 and len(control(cqg, "/events", kind="logoff")["events"]) == 1

    quote = got["quote"]
    assert quote["bid"] < quote["ask"]
    steps = control(cqg, "/market/history", symbol="ESZ6")["steps"]
    assert any((s["bid"], s["ask"], s["last"]) == (quote["bid"], quote["ask"], quote["trade"]) for s in steps)
    assert abs(quote["utc_ms"] / 1000 - started) < 30  # hours off if base_time were read as local time

    ledger = control(cqg, "/ledger")
    order = got["order"]
    assert [(o["order_id"], o["client_tag"], o["status"], o["filled_qty"]) for o in ledger["orders"]] == [
        (order["order_id"], order["cl_order_id"], "filled", 1)
    ]
    assert order["status"] == 8 and order["fill_qty"] == 1 and order["remaining_qty"] == 0
    assert [(f["trade_id"], f["qty"], f["price"]) for f in got["fills"]] == [
        (f["fill_id"], f["qty"], f["price"]) for f in ledger["fills"]
    ]
    assert order["avg_fill_price"] == ledger["fills"][0]["price"]
    assert ledger["fills"][0]["price"] == quote["ask"] or ledger["fills"][0]["price"] in {
        s["ask"] for s in steps
    }


@pytest.mark.slow
def test_probe_answers_server_pings_and_skips_junk_frames(cqg: dict[str, Any]) -> None:
    """Pings every 0.2 s with a 0.6 s pong deadline, while text and garbage frames arrive: the
    session survives 1.5 s held open (no pong_timeout) and the order still fills."""
    httpx.post(f"{cqg['control']}/cqg/config", json={"ping_interval_s": 0.2, "pong_timeout_s": 0.6})
    # push faults fire each step from now on, logged on or not: armed for the probe's whole run
    arm(cqg, "text_frame", {"user": cqg["user"], "text": "hello"}, duration_ms=10_000)
    arm(cqg, "garbage_frame", {"user": cqg["user"], "size": 64}, duration_ms=10_000)
    got = seen(probe(cqg, "--hold-ms=1500"))
    assert got["stats"]["serverPingsAnswered"] >= 4
    assert got["stats"]["textFrames"] >= 1 and got["stats"]["badFrames"] >= 1
    assert control(cqg, "/events", kind="pong_timeout")["events"] == []
    assert got["order"]["status"] == 8 and len(control(cqg, "/ledger")["fills"]) == 1


def test_probe_follows_a_redirect(cqg: dict[str, Any]) -> None:
    """106 with a URL: the probe reconnects there (the venue's direct address) and trades."""
    arm(cqg, "redirect", {"url": cqg["direct_url"]}, count=1)
    got = seen(probe(cqg))
    assert got["redirects"] == [cqg["direct_url"]] and got["url"] == cqg["direct_url"]
    refused = control(cqg, "/events", kind="logon_refused")["events"]
    assert [e["code"] for e in refused] == [106]
    assert len(control(cqg, "/events", kind="logon")["events"]) == 1
    assert [o["client_tag"] for o in control(cqg, "/ledger")["orders"]] == [got["order"]["cl_order_id"]]


def test_probe_fails_with_a_clear_message(stack: MockStack, cqg: dict[str, Any]) -> None:
    arm(cqg, "redirect", {"url": cqg["url"]}, count=4)  # a redirect loop: given up after 3 hops
    run = probe(cqg)
    assert run.returncode == 1 and run.stdout == ""
    assert "logon refused (106)" in run.stderr and "after 3 redirects" in run.stderr, run.stderr

    run = probe(cqg, password="wrong")
    assert run.returncode == 1 and "logon refused (101)" in run.stderr, run.stderr

    with stack.plane.client.get_proxy("cqg").down():
        run = probe(cqg)
    assert run.returncode == 1 and "cannot connect to" in run.stderr, run.stderr
    assert control(cqg, "/ledger")["orders"] == []

    arm(cqg, "concurrent_session", {"user": cqg["user"]}, duration_ms=3000)  # kicked once logged on
    run = probe(cqg, "--hold-ms=1000")  # held over several steps, so the kick lands whatever the timing
    assert run.returncode == 1 and "logged off (reason 4)" in run.stderr, run.stderr
    stack.reset_venue("cqg")

    run = probe(cqg, symbol="NOPE")
    assert run.returncode == 1 and "cannot resolve" in run.stderr, run.stderr

    run = subprocess.run(
        ["node", str(PROBE), "--url", cqg["url"]], capture_output=True, text=True, timeout=30
    )
    assert run.returncode == 2 and "--user is required" in run.stderr


def test_decimal_quantities_decode_exactly() -> None:
    """CQG Decimals from the Python encoder, through protobufjs (zigzag sint64/sint32) to numbers."""
    cases = [
        (15, -1, 1.5),
        (3, 2, 300),
        (-25, -3, -0.025),
        (7, 0, 7),
        (10, -1, 1),
        (123456789012, -2, 1234567890.12),
    ]
    msg = pb.ServerMsg()
    for significand, exponent, _ in cases:
        msg.order_statuses.add(order_id="x", fill_qty=pb.Decimal(significand=significand, exponent=exponent))
    msg.order_statuses.add(order_id="unset")  # no fill_qty at all: 0
    script = (
        "const s = require('./src/cqg/schema');"
        "const m = s.loadSchema().decode(Buffer.from(process.argv[1], 'hex'));"
        "console.log(JSON.stringify(m.order_statuses.map((o) => s.fromDecimal(o.fill_qty))));"
    )
    run = subprocess.run(
        ["node", "-e", script, msg.SerializeToString().hex()],
        cwd=APP_DIR,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == [want for *_, want in cases] + [0]

"""The real npm client mt5-sdk 1.0.7 against the mock (over TLS: the SDK only speaks https).

sdk_client.js drives the SDK and prints what each call resolved to; these tests check that and the
mock's ledger. They also pin what the SDK does on its own: it resolves null on any error retcode,
ignores the server's proof (an impostor is accepted), and never settles when an answer is lost.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.faults import EmbeddedToxiproxy, ToxiproxyClient
from mocks.mt5 import MT5Config, MT5Mock
from tests.mocks.mt5.conftest import arm, fired, ledger
from tests.mocks.venue_thread import VenueThread

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = Path(__file__).with_name("sdk_client.js")


def _missing() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed: the mt5-sdk conformance test needs Node.js 20"
    if not (ROOT / "node_modules" / "mt5-sdk" / "package.json").is_file():
        return "node_modules/mt5-sdk is missing: run `npm ci` in the repository root"
    return None


pytestmark = pytest.mark.skipif(_missing() is not None, reason=_missing() or "")


@pytest.fixture
def mt5_tls() -> Iterator[VenueThread]:
    with VenueThread(MT5Mock(seed=9, config=MT5Config(tls=True))) as vt:
        yield vt


@pytest.fixture
def control(mt5_tls: VenueThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=mt5_tls.control_url, timeout=5) as client:
        yield client


def run_sdk(
    vt: VenueThread, steps: list[dict[str, Any]], via: tuple[str, int] | None = None
) -> dict[str, Any]:
    """Run the steps through mt5-sdk (a fresh SDK instance each, as the SDK re-authenticates per call),
    straight to the mock or `via` a (host, port) in front of it, such as a fault-plane proxy."""
    venue = vt.venue
    assert isinstance(venue, MT5Mock)
    manager, password = next(iter(venue.config.managers.items()))
    host, port = via or (venue.host, venue.port)
    spec = {"host": host, "port": port, "login": manager, "password": password, "steps": steps}
    done = subprocess.run(
        ["node", str(SCRIPT), json.dumps(spec)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    results: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return results


def step(name: str, call: str, args: dict[str, Any], **options: Any) -> dict[str, Any]:
    return {"name": name, "call": call, "args": args, **options}


def value(results: dict[str, Any], name: str) -> Any:
    assert "value" in results[name], results[name]
    return results[name]["value"]


def test_users_and_balance_through_mt5_sdk(mt5_tls: VenueThread, control: httpx.Client) -> None:
    new_user = {
        "Login": 710001,
        "Name": "SDK User",
        "Group": "demo\\uat",
        "Leverage": 100,
        "PassMain": "Main#1234",
    }
    results = run_sdk(
        mt5_tls,
        [
            step("get_seeded", "user_get", {"login": 500000}),
            step("create", "user_create", {**new_user, "PassInvestor": "Inv#1234"}),
            step("duplicate", "user_create", {**new_user, "Name": "Again"}),
            step("missing", "user_get", {"login": 799999}),
            step(
                "deposit",
                "balance_get",
                {"login": 710001, "type": 2, "balance": 1500.25, "comment": "sdk-dep-1"},
            ),
            step(
                "credit",
                "balance_get",
                {"login": 710001, "type": 3, "balance": 200, "comment": "sdk-credit-1"},
            ),
            step(
                "overdraw",
                "balance_get",
                {"login": 710001, "type": 2, "balance": -5000, "comment": "sdk-over"},
            ),
            step("update", "user_update", {"Login": 710001, "Name": "SDK User Renamed"}),
            step("get_new", "user_get", {"login": 710001}),
        ],
    )
    seeded = value(results, "get_seeded")
    assert seeded["Login"] == "500000" and Decimal(seeded["Balance"]) > 0
    assert value(results, "create")["Login"] == "710001"
    assert value(results, "duplicate") is None  # the SDK turns 3004 (and any error retcode) into null
    assert value(results, "missing") is None
    deposit_ticket = int(value(results, "deposit")["ticket"])
    credit_ticket = int(value(results, "credit")["ticket"])
    assert value(results, "overdraw") is None
    assert value(results, "update")["Name"] == "SDK User Renamed"
    final = value(results, "get_new")
    assert (final["Balance"], final["Credit"], final["Name"]) == ("1500.25", "200.00", "SDK User Renamed")
    book = ledger(control)
    deals = [d for d in book["deals"] if d["login"] == 710001]
    assert [(d["deal"], d["action"], d["amount"], d["comment"]) for d in deals] == [
        (deposit_ticket, 2, "1500.25", "sdk-dep-1"),
        (credit_ticket, 3, "200.00", "sdk-credit-1"),
    ]
    user = next(u for u in book["users"] if u["login"] == 710001)
    assert (user["balance"], user["credit"], user["name"]) == ("1500.25", "200.00", "SDK User Renamed")
    # every SDK call did its own handshake, each on its own connection
    oks = control.get("/events", params={"kind": "auth_ok"}).json()["events"]
    assert len(oks) == 9 and len({e["peer"] for e in oks}) == 9


def test_mt5_sdk_with_a_wrong_password(mt5_tls: VenueThread, control: httpx.Client) -> None:
    results = run_sdk(mt5_tls, [step("get", "user_get", {"login": 500000}, password="nope")])
    assert value(results, "get") is None
    failed = control.get("/events", params={"kind": "auth_failed"}).json()["events"]
    assert [e["retcode"] for e in failed] == ["3006 Invalid password"]


def test_mt5_sdk_posting_trade_balance_as_json_books_nothing(
    mt5_tls: VenueThread, control: httpx.Client
) -> None:
    """The SDK's updateTradeBalance POSTs a JSON body; trade/balance takes query parameters (§2)."""
    args = {"login": 500000, "type": 2, "balance": 10, "comment": "sdk-post"}
    results = run_sdk(mt5_tls, [step("post", "balance_post", args)])
    assert value(results, "post") is None  # answered 3 Invalid parameters
    assert len(ledger(control)["deals"]) == 3


def test_mt5_sdk_accepts_an_impostor_server(mt5_tls: VenueThread, control: httpx.Client) -> None:
    """The SDK computes the server's proof but goes on whether it matches or not."""
    arm(control, "handshake_failure", params={"stage": "server_proof"}, count=1)
    results = run_sdk(mt5_tls, [step("get", "user_get", {"login": 500000})])
    assert value(results, "get")["Login"] == "500000"
    assert fired(control, "handshake_failure") == 1


def test_mt5_sdk_never_settles_when_the_answer_is_lost(mt5_tls: VenueThread, control: httpx.Client) -> None:
    arm(control, "answer_lost", count=1)
    args = {"login": 500000, "type": 2, "balance": 10, "comment": "sdk-lost"}
    results = run_sdk(mt5_tls, [step("lost", "balance_get", args, timeout_ms=1500)])
    assert results["lost"] == {"timeout": True}
    assert len([d for d in ledger(control)["deals"] if d["comment"] == "sdk-lost"]) == 1


def test_mt5_sdk_logs_in_and_books_a_deposit_through_the_fault_plane(
    mt5_tls: VenueThread, control: httpx.Client
) -> None:
    """The SDK's TLS handshake, MD5 login and deposit cross a proxy of the embedded fault plane; a
    latency toxic on the proxy shows the traffic really goes through it."""
    with EmbeddedToxiproxy(host="127.0.0.1", port=0) as plane, ToxiproxyClient(plane.url) as client:
        proxy = client.create_proxy("mt5", upstream=f"127.0.0.1:{mt5_tls.venue.port}")
        proxy.add_toxic("latency", stream="downstream", latency=700)
        host, _, port = proxy.listen.rpartition(":")
        args = {"login": 500001, "type": 2, "balance": 250.5, "comment": "sdk-via-plane"}
        started = time.monotonic()
        results = run_sdk(mt5_tls, [step("deposit", "balance_get", args)], via=(host, int(port)))
        took = time.monotonic() - started
    ticket = int(value(results, "deposit")["ticket"])
    (deal,) = [d for d in ledger(control)["deals"] if d["comment"] == "sdk-via-plane"]
    assert (deal["deal"], deal["login"], deal["amount"]) == (ticket, 500001, "250.50")
    # the handshake's two calls and the deposit each waited on the toxic: at least 3 x 700 ms, far more
    # than starting node could take
    assert took >= 2.1, took

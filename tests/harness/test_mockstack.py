"""`uat mocks up`: every mock behind the fault plane, the JSON contract, and a clean exit."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys

import httpx
import pytest

from harness.mockstack import VENUES, MockStack
from harness.ports import is_listening
from reference_middleware.venues.cqg import BUY, MKT, CQGClient, CQGError
from reference_middleware.venues.mt5 import MT5Client, MT5Error


def test_stack_proxies_each_listening_venue_and_keeps_control_direct() -> None:
    with MockStack(backend="embedded", venues=["tt"]) as stack:
        info = stack.describe()
        tt = info["mocks"]["tt"]
        assert tt["proxy"] == "tt" and tt["url"] != tt["direct_url"]
        proxy = stack.plane.client.get_proxy("tt")
        assert tt["url"].endswith(f":{proxy.port}")
        assert httpx.get(f"{tt['control']}/health").json()["venue"] == "tt"
        with proxy.down():
            # The venue is unreachable through the proxy, yet its control API still answers.
            with pytest.raises(httpx.ConnectError):
                httpx.get(f"{tt['url']}/ttpds/ext_uat_cert/instrument/1", timeout=2)
            assert httpx.get(f"{tt['control']}/ledger").status_code == 200
        ports = [stack.controls["tt"].port, stack.venues["tt"].port, proxy.port]
    assert not any(is_listening("127.0.0.1", p) for p in ports)


def test_mt5_and_docusign_are_reached_through_their_proxies() -> None:
    """A real MT5 handshake and a DocuSign envelope read go through the fault plane (the facts'
    own URLs included), and a `down` on each proxy cuts that venue alone."""
    with MockStack(backend="embedded", venues=["mt5", "docusign"]) as stack:
        info = stack.describe()["mocks"]
        mt5, docusign = info["mt5"], info["docusign"]
        assert docusign["base_path"] == f"{docusign['url']}/restapi" != f"{docusign['direct_url']}/restapi"

        async def mt5_login() -> int:
            client = MT5Client(mt5["url"], int(mt5["manager"]), mt5["password"], timeout_s=3, max_attempts=1)
            try:
                await client.ping()
                return client.handshakes
            finally:
                await client.close()

        assert asyncio.run(mt5_login()) == 1
        listing = f"{docusign['base_path']}/v2.1/accounts/{docusign['account_id']}/envelopes"
        bearer = {"Authorization": f"Bearer {docusign['token']}"}
        answer = httpx.get(listing, params={"from_date": "2020-01-01"}, headers=bearer, timeout=5)
        assert answer.status_code == 200, answer.text
        with stack.plane.client.get_proxy("docusign").down():
            with pytest.raises(httpx.TransportError):
                httpx.get(listing, params={"from_date": "2020-01-01"}, headers=bearer, timeout=2)
            assert asyncio.run(mt5_login()) == 1  # the other venue is untouched
        with stack.plane.client.get_proxy("mt5").down(), pytest.raises(MT5Error):
            asyncio.run(mt5_login())


def test_cqg_is_reached_through_its_proxy() -> None:
    """The project's CQG client logs on, resolves a contract and places an order through the fault
    plane; with the proxy down it cannot connect, while the venue's control API still answers."""
    with MockStack(backend="embedded", venues=["cqg"]) as stack:
        cqg = stack.describe()["mocks"]["cqg"]
        assert cqg["url"].startswith("ws://") and cqg["url"] != cqg["direct_url"]

        async def trade() -> str:
            client = CQGClient(cqg["url"], cqg["user"], cqg["password"], request_timeout_s=3)
            try:
                await client.connect()
                contract = await client.resolve("ESZ6")
                await client.subscribe_trades()
                return await client.place_order(cqg["accounts"][0], contract, BUY, 1, MKT)
            finally:
                await client.close()

        cl_order_id = asyncio.run(trade())
        orders = httpx.get(f"{cqg['control']}/ledger").json()["orders"]
        assert [(o["client_tag"], o["status"]) for o in orders] == [(cl_order_id, "filled")]
        with stack.plane.client.get_proxy("cqg").down():
            with pytest.raises((OSError, CQGError, asyncio.TimeoutError)):
                asyncio.run(trade())
            assert httpx.get(f"{cqg['control']}/health").status_code == 200


def test_unknown_venue_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown venue 'nosuch'"):
        MockStack(venues=["nosuch"])


def test_mocks_up_json_contract_and_ctrl_c() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness", "mocks", "up", "--json", "--backend", "embedded"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, proc.stderr.read() if proc.stderr else ""
        info = json.loads(line)
        assert set(info["mocks"]) == set(VENUES)
        assert info["toxiproxy"].startswith("http://127.0.0.1:")
        for name in ("rithmic", "tt"):
            entry = info["mocks"][name]
            for key in ("url", "direct_url", "proxy", "control"):
                assert key in entry, f"{name} lacks {key}"
        rithmic = info["mocks"]["rithmic"]
        assert rithmic["url"].startswith("ws") and rithmic["system_name"] and rithmic["accounts"]
        assert {"symbol", "exchange"} <= set(rithmic["symbols"][0])
        assert info["mocks"]["tt"]["env"] == "ext_uat_cert" and info["mocks"]["tt"]["app_key"]
        assert info["mocks"]["stripe"]["secret"].startswith("whsec_")
        assert info["mocks"]["mt5"]["manager"] and info["mocks"]["mt5"]["password"]
        assert info["mocks"]["docusign"]["base_path"].startswith(info["mocks"]["docusign"]["url"])
        rippling = info["mocks"]["rippling"]
        bearer = {"Authorization": f"Bearer {rippling['token']}"}
        workers = httpx.get(f"{rippling['url']}/workers", headers=bearer)
        assert workers.status_code == 200 and workers.json()["results"], workers.text
        zapier = info["mocks"]["zapier"]
        assert zapier["account_id"] and zapier["hooks"] == {}  # Zaps are loaded through its control API
        endpoints = [info["toxiproxy"]] + [e["control"] for e in info["mocks"].values()]
        for url in endpoints[1:]:
            assert httpx.get(f"{url}/health").status_code == 200
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    assert proc.returncode == 0
    for url in endpoints:
        host, _, port = url.removeprefix("http://").rpartition(":")
        assert not is_listening(host, int(port)), f"{url} still listening after Ctrl-C"

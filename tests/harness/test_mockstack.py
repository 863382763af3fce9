"""`uat mocks up`: every mock behind the fault plane, the JSON contract, and a clean exit."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import httpx
import pytest

from harness.mockstack import VENUES, MockStack
from harness.ports import is_listening


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


def test_unknown_venue_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown venue 'cqg'"):
        MockStack(venues=["cqg"])


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

"""`python -m mocks.rithmic` runs standalone: one JSON line, serves, and cleans up on SIGTERM/SIGINT."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import RawClient, run


def _start(*args: str) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mocks.rithmic", "--port", "0", "--control-port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()  # bounded: the process prints it once listening, or exits
    if not line:
        proc.kill()
        raise AssertionError(f"no JSON line; stderr: {proc.communicate(timeout=5)[1]}")
    return proc, json.loads(line)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_standalone_prints_its_endpoints_serves_and_exits_cleanly(sig: signal.Signals) -> None:
    proc, info = _start("--seed", "4")
    try:
        assert info["url"].startswith("ws://127.0.0.1:") and info["control"].startswith("http://127.0.0.1:")
        assert {"system_name", "user", "password", "accounts", "symbols"} <= set(info)
        es = {"symbol": "ESZ6", "exchange": "CME", "point_value": 50.0, "fee_per_contract": 2.25}
        assert es in info["symbols"]
        assert httpx.get(info["control"] + "/health", timeout=5).json()["venue"] == "rithmic"

        async def login() -> list[str]:
            raw = await RawClient.open(info["url"])
            try:
                return list((await raw.login(info)).rp_code)
            finally:
                await raw.close()

        assert run(login(), timeout=10) == ["0"]
    finally:
        proc.send_signal(sig)
        proc.communicate(timeout=10)
        assert proc.returncode == 0


def test_standalone_tls_generates_and_removes_its_certificate() -> None:
    proc, info = _start("--tls")
    try:
        assert info["url"].startswith("wss://") and Path(info["cert"]).is_file()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=10)
        assert proc.returncode == 0
    assert not Path(info["cert"]).exists()

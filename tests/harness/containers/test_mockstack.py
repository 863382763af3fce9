"""The mocks and the fault plane in containers: the same `uat mocks up --json` contract as the
local backend, the real async-rithmic client trading through the containerised fault plane, and
nothing left behind after Ctrl-C, even in the middle of start-up."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from async_rithmic import DataType, OrderType, TransactionType

from harness.containers import LABEL, OWNER_LABEL, container_names, list_containers
from harness.mockstack import MockStack
from tests.mocks.rithmic.conftest import PLANTS, Recorder, make_client, run, shutdown, wait_until

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def _keys(info: dict[str, Any]) -> dict[str, Any]:
    """The contract's shape: top-level keys and each venue's keys."""
    return {"top": sorted(info), **{name: sorted(entry) for name, entry in info["mocks"].items()}}


def _containers(docker_host: str, pid: int) -> list[str]:
    return container_names(list_containers(docker_host, label=f"{OWNER_LABEL}={pid}"))


@pytest.fixture
def mocks_up(
    docker_engine: str, harness_image: str
) -> Iterator[tuple[subprocess.Popen[str], dict[str, Any]]]:
    with subprocess.Popen(
        [sys.executable, "-m", "harness", "mocks", "up", "--backend", "docker", "--json", "--seed", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert line, proc.stderr.read() if proc.stderr else ""
            yield proc, json.loads(line)
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                proc.wait(timeout=30)


def test_same_json_contract_as_the_local_backend(
    mocks_up: tuple[subprocess.Popen[str], dict[str, Any]], docker_engine: str
) -> None:
    proc, info = mocks_up
    with MockStack(seed=3, backend="embedded") as local:
        expected = local.describe()
    assert _keys(info) == _keys(expected)
    assert info["backend"] == "docker" and "stack-uat/harness:" in info["backend_reason"]
    # same seed, same venue: the credentials and accounts match the local mocks exactly
    for key in ("user", "password", "system_name", "accounts", "symbols"):
        assert info["mocks"]["rithmic"][key] == expected["mocks"]["rithmic"][key], key
    assert info["mocks"]["tt"]["app_key"] == expected["mocks"]["tt"]["app_key"]
    assert info["mocks"]["mt5"]["manager"] == expected["mocks"]["mt5"]["manager"]
    assert info["mocks"]["docusign"]["account_id"] == expected["mocks"]["docusign"]["account_id"]
    names = _containers(docker_engine, proc.pid)
    assert sorted(n.split("-")[1] for n in names) == ["mocks", "toxiproxy"]
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 0
    assert _containers(docker_engine, proc.pid) == []


def test_async_rithmic_logs_in_ticks_fills_and_reconnects_after_a_cut(
    mocks_up: tuple[subprocess.Popen[str], dict[str, Any]],
) -> None:
    _, info = mocks_up
    rithmic = info["mocks"]["rithmic"]
    api = httpx.Client(base_url=info["toxiproxy"], timeout=5, trust_env=False)

    async def scenario() -> None:
        client = make_client(rithmic["url"], rithmic)
        rec = Recorder(client)
        await asyncio.wait_for(client.connect(plants=PLANTS), 15)
        try:
            await client.subscribe_to_market_data("ESZ6", "CME", DataType.LAST_TRADE)
            assert await wait_until(lambda: len(rec.ticks) >= 3, 5), "no ticks through the containers"
            await client.submit_order("c-1", "ESZ6", "CME", 1, TransactionType.BUY, OrderType.MARKET)
            assert await wait_until(lambda: bool(rec.fills("c-1")), 5), "no fill through the containers"
            logins = len(rec.connected)
            cut = await asyncio.to_thread(api.post, "/proxies/rithmic", json={"enabled": False})
            assert cut.status_code == 200, cut.text
            await asyncio.sleep(0.5)
            back = await asyncio.to_thread(api.post, "/proxies/rithmic", json={"enabled": True})
            assert back.status_code == 200, back.text
            assert await wait_until(lambda: len(rec.connected) >= logins + 3, 20), "no reconnect"
            n = len(rec.ticks)
            assert await wait_until(lambda: len(rec.ticks) > n + 3, 10), "ticks did not resume"
        finally:
            await shutdown(client)

    try:
        run(scenario(), timeout=60)
    finally:
        api.close()
    ledger = httpx.get(f"{rithmic['control']}/ledger", timeout=5, trust_env=False).json()
    assert any(fill.get("user_tag") == "c-1" or "c-1" in json.dumps(fill) for fill in ledger["fills"])


def test_ctrl_c_during_start_up_removes_what_was_started(docker_engine: str, harness_image: str) -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "harness", "mocks", "up", "--backend", "docker", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        deadline = time.monotonic() + 30
        while not _containers(docker_engine, proc.pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _containers(docker_engine, proc.pid), "no container appeared"
        proc.send_signal(signal.SIGINT)  # the first container is up, the mocks are not ready yet
        assert proc.wait(timeout=30) == 130, proc.stderr.read() if proc.stderr else ""
    assert _containers(docker_engine, proc.pid) == []
    assert list_containers(docker_engine, label=LABEL) == []
    assert os.environ.get("DOCKER_HOST") == docker_engine

"""`python -m mocks.cqg` as a real process: one JSON line with the endpoints, a logon, a clean SIGTERM."""

from __future__ import annotations

import httpx

from reference_middleware.venues.cqg import CQGClient
from tests.mocks import standalone

from .conftest import run


def test_cli_prints_endpoints_and_serves() -> None:
    proc, info = standalone.start("mocks.cqg", "--seed", "3", "--port", "0", "--control-port", "0")
    try:
        assert info["venue"] == "cqg" and info["url"].startswith("ws://127.0.0.1:")
        assert (
            info["accounts"] == [10001, 10002, 10003, 10004]
            and info["user"] == "uat-trader"
            and info["password"]
        )
        assert [c["symbol"] for c in info["contracts"]] == ["ESZ6", "NQZ6", "CLF7", "GCG7"]
        assert httpx.get(f"{info['control']}/health", timeout=5).json()["venue"] == "cqg"
        c = CQGClient(info["url"], info["user"], info["password"], request_timeout_s=3)

        async def scenario() -> int:
            result = await c.connect()
            contract = await c.resolve("GC")
            await c.close()
            return result.result_code + contract.contract_id

        assert run(scenario()) == 0 + 4
    finally:
        assert standalone.stop(proc) == 0

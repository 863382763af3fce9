"""`python -m mocks.tt` runs on its own, prints its endpoints as one JSON line, and exits cleanly."""

from __future__ import annotations

import httpx

from tests.mocks import standalone
from tests.mocks.tt.conftest import TTClient


def test_python_m_mocks_tt() -> None:
    proc, info = standalone.start("mocks.tt", "--token-ttl", "60", "--seed", "4")
    try:
        assert set(info) >= {"url", "control", "env", "app_key", "app_secret"}
        assert info["env"] == "ext_uat_cert" and info["url"].startswith("http://127.0.0.1:")
        client = TTClient(info["url"], info["env"], info["app_key"], info["app_secret"])
        try:
            assert client.get_token().status_code == 200
            assert client.token_response["seconds_until_expiry"] == 60
            assert client.get("ttpds", "instruments").status_code == 200
        finally:
            client.close()
        assert httpx.get(info["control"] + "/health", timeout=5).json()["venue"] == "tt"
    finally:
        assert standalone.stop(proc) == 0
    # the ports are released
    try:
        httpx.get(info["control"] + "/health", timeout=1)
        raise AssertionError("control port still answers after exit")
    except httpx.ConnectError:
        pass

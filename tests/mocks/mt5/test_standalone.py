"""`python -m mocks.mt5` runs on its own, prints its endpoints as one JSON line, and exits cleanly."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx

from tests.mocks import standalone
from tests.mocks.mt5.conftest import Manager, retcode


def test_python_m_mocks_mt5() -> None:
    proc, info = standalone.start("mocks.mt5", "--seed", "4")
    try:
        assert set(info) >= {"url", "control", "manager", "password", "users", "login_range", "tls"}
        assert info["url"].startswith("http://127.0.0.1:") and info["tls"] is False
        m = Manager(info["url"], info["manager"], info["password"])
        try:
            assert retcode(m.handshake()) == "0 Done" and m.server_proof_ok
            assert retcode(m.get("/api/user/get", login=info["users"][0])) == "0 Done"
        finally:
            m.close()
        assert httpx.get(info["control"] + "/health", timeout=5).json()["venue"] == "mt5"
    finally:
        assert standalone.stop(proc) == 0
    try:
        httpx.get(info["control"] + "/health", timeout=1)
        raise AssertionError("control port still answers after exit")
    except httpx.ConnectError:
        pass


def test_tls_certificate_is_removed_on_exit() -> None:
    proc, info = standalone.start("mocks.mt5", "--tls")
    try:
        assert info["url"].startswith("https://") and info["cert"]
        with httpx.Client(verify=ssl.create_default_context(cafile=info["cert"]), timeout=5) as http:
            assert http.get(info["url"] + "/api/test/access").status_code == 403
    finally:
        assert standalone.stop(proc) == 0
    assert not Path(info["cert"]).exists()

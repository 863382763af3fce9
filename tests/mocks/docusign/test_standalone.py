"""`python -m mocks.docusign` runs on its own, prints its endpoints as one JSON line, and exits cleanly."""

from __future__ import annotations

import subprocess
import sys

import httpx

from tests.mocks import standalone


def test_python_m_mocks_docusign() -> None:
    proc, info = standalone.start("mocks.docusign", "--seed", "4", "--retry-base-ms", "20")
    try:
        assert set(info) >= {"url", "control", "base_path", "account_id", "user_id", "token", "hmac_keys"}
        assert info["url"].startswith("http://127.0.0.1:") and info["base_path"] == info["url"] + "/restapi"
        template = info["templates"][0]["templateId"]
        accounts = f"{info['base_path']}/v2.1/accounts/{info['account_id']}"
        headers = {"Authorization": f"Bearer {info['token']}"}
        body = {
            "templateId": template,
            "status": "sent",
            "templateRoles": [{"roleName": "Trader", "name": "Ann Trader", "email": "ann@firm.test"}],
        }
        created = httpx.post(f"{accounts}/envelopes", json=body, headers=headers, timeout=5)
        assert created.status_code == 201, created.text
        assert httpx.get(f"{accounts}/envelopes/{created.json()['envelopeId']}", timeout=5).status_code == 401
        config = httpx.get(info["control"] + "/docusign", timeout=5).json()
        assert config["retry"]["gaps_ms"][:2] == [20, 40] and config["token"] == info["token"]
        assert httpx.get(info["control"] + "/health", timeout=5).json()["venue"] == "docusign"
    finally:
        assert standalone.stop(proc) == 0


def test_a_non_loopback_listener_is_a_usage_error() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mocks.docusign", "--listener", "https://203.0.113.5/connect"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2 and "loopback" in done.stderr

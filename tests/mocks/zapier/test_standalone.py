"""`python -m mocks.zapier` runs on its own, prints its endpoints as one JSON line, and exits cleanly."""

from __future__ import annotations

import subprocess
import sys
import time
from importlib import resources

import httpx

from tests.mocks import standalone

from .conftest import Receiver, wait_until

EXAMPLE = str(resources.files("mocks.zapier").joinpath("zaps.example.toml"))


def sets(receiver: Receiver) -> list[str]:
    values = {
        "docusign_url": receiver.url, "docusign_account": "acc", "docusign_token": "tok",
        "docusign_template": "tpl", "provision_url": receiver.url + "/provision",
        "rippling_url": receiver.url, "rippling_token": "rtok",
    }  # fmt: skip
    return [arg for name, value in values.items() for arg in ("--set", f"{name}={value}")]


def test_python_m_mocks_zapier(receiver: Receiver) -> None:
    receiver.answers["/restapi/v2.1/accounts/acc/envelopes"] = {"envelopeId": "env-9"}
    proc, info = standalone.start("mocks.zapier", "--config", EXAMPLE, "--seed", "2", *sets(receiver))
    try:
        assert info["venue"] == "zapier" and info["account_id"] == "4242424"
        hook = info["hooks"]["onboarding"]
        assert hook == f"{info['url']}/hooks/catch/4242424/stripe-checkout-paid/"
        session = {"id": "cs_1", "customer": "cus_1", "client_reference_id": "T-7", "amount_total": 10000,
                   "customer_details": {"name": "Ann Trader", "email": "ann@firm.test"},
                   "metadata": {"first_name": "Ann", "last_name": "Trader"}}  # fmt: skip
        event = {"type": "checkout.session.completed", "data": {"object": session}}
        assert httpx.post(hook, json=event, timeout=5).json()["status"] == "success"
        wait_until(lambda: len(receiver.to("/workers")) == 1)
        contract = receiver.to("/restapi/v2.1/accounts/acc/envelopes")[0]
        assert contract.json["templateRoles"][0]["email"] == "ann@firm.test"
        provision = receiver.to("/provision")[0].json
        assert provision["envelope_id"] == "env-9" and provision["amount_total"] == 10000
        worker = receiver.to("/workers")[0]
        assert worker.headers["Authorization"] == "Bearer rtok" and worker.json["external_id"] == "T-7"
        deadline = time.monotonic() + 5
        while httpx.get(info["control"] + "/zapier/runs?state=success", timeout=5).json()["runs"] == []:
            assert time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        assert standalone.stop(proc) == 0


def test_a_bad_config_is_a_usage_error_naming_the_field() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mocks.zapier", "--config", EXAMPLE],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2 and "zaps[0].steps[0].url: {{env.docusign_url}}: no value" in done.stderr

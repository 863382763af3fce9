"""`python -m mocks.stripe` runs on its own, prints its control URL and secret, exits cleanly."""

from __future__ import annotations

import httpx

from mocks.stripe import secret_from_seed
from tests.mocks import standalone


def test_python_m_mocks_stripe() -> None:
    proc, info = standalone.start("mocks.stripe", "--seed", "9")
    try:
        assert info["secret"] == secret_from_seed(9)
        assert info["control"].startswith("http://127.0.0.1:")
        r = httpx.get(info["control"] + "/stripe", timeout=5)
        assert r.json()["secret"] == info["secret"]
        bad = httpx.post(info["control"] + "/send", json={"type": "invoice.paid"}, timeout=5)
        assert bad.status_code == 400 and bad.json()["field"] == "url"
    finally:
        assert standalone.stop(proc) == 0


def test_emitter_has_no_listener_to_proxy() -> None:
    from mocks.stripe import StripeEmitter

    emitter = StripeEmitter(seed=1)
    assert emitter.listens is False and emitter.url == ""

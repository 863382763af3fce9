"""The lifecycle's pure parts: its settings (all or none), Connect's HMAC check, status moves."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from reference_middleware.config import Config, ConfigError
from reference_middleware.lifecycle.contracts import RANK, connect_status
from reference_middleware.lifecycle.docusign import signed
from reference_middleware.lifecycle.outbox import backoff

from ..test_config import BASE

LIFECYCLE = {
    "REFMW_ZAPIER_HOOK_URL": "http://127.0.0.1:9/hooks/catch/1/funded-checkout/",
    "REFMW_DOCUSIGN_URL": "http://127.0.0.1:10/",
    "REFMW_DOCUSIGN_ACCOUNT": "acc",
    "REFMW_DOCUSIGN_TOKEN": "tok",
    "REFMW_DOCUSIGN_HMAC_KEYS": "a2V5LW9uZQ==,a2V5LXR3bw==",
    "REFMW_MT5_URL": "http://127.0.0.1:11",
    "REFMW_MT5_LOGIN": "1000",
    "REFMW_MT5_PASSWORD": "Manager#1000",
    "REFMW_RIPPLING_URL": "http://127.0.0.1:12",
    "REFMW_RIPPLING_TOKEN": "rtok",
}


def test_the_lifecycle_is_off_without_the_hook_and_needs_everything_with_it() -> None:
    assert Config.from_env(dict(BASE)).lifecycle is None
    cfg = Config.from_env({**BASE, **LIFECYCLE})
    assert cfg.lifecycle is not None and cfg.lifecycle.docusign_hmac_keys == ("a2V5LW9uZQ==", "a2V5LXR3bw==")
    assert cfg.lifecycle.mt5_login == 1000 and cfg.lifecycle.docusign_url == "http://127.0.0.1:10"
    assert "rtok" in cfg.secrets() and "Manager#1000" in cfg.secrets()
    for name in LIFECYCLE:
        if name == "REFMW_ZAPIER_HOOK_URL":
            continue
        with pytest.raises(ConfigError, match=name):
            Config.from_env({**BASE, **{k: v for k, v in LIFECYCLE.items() if k != name}})
    with pytest.raises(ConfigError, match="REFMW_MT5_LOGIN"):
        Config.from_env({**BASE, **LIFECYCLE, "REFMW_MT5_LOGIN": "abc"})
    listed = Config.from_env({**BASE, **LIFECYCLE, "REFMW_DOCUSIGN_HMAC_KEYS": "['k1', 'k2']"}).lifecycle
    assert listed is not None and listed.docusign_hmac_keys == ("k1", "k2")


def _sign(key: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


def test_any_signature_header_under_any_key_verifies() -> None:
    body = b'{"event":"envelope-completed"}'
    keys = ("old", "new")
    assert signed(keys, body, {"X-DocuSign-Signature-1": _sign("new", body)})
    assert signed(
        keys, body, {"x-docusign-signature-1": "junk", "X-DocuSign-Signature-2": _sign("old", body)}
    )
    assert not signed(keys, body, {"X-DocuSign-Signature-1": _sign("other", body)})
    assert not signed(keys, body + b" ", {"X-DocuSign-Signature-1": _sign("new", body)})
    assert not signed(keys, body, {})


def test_connect_status_and_the_forward_only_ranks() -> None:
    event = {
        "event": "envelope-completed",
        "data": {"envelopeId": "AB-1", "envelopeSummary": {"status": "Completed"}},
    }
    assert connect_status(event) == ("ab-1", "completed")
    assert connect_status({"event": "envelope-sent", "data": {"envelopeId": "e"}}) == ("e", "sent")
    assert connect_status({"data": {}}) is None and connect_status([]) is None
    assert RANK["sent"] < RANK["delivered"] < RANK["completed"] == RANK["voided"] == RANK["declined"]


def test_backoff_doubles_and_is_capped() -> None:
    assert [backoff(n, 3.0) for n in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 3.0, 3.0]

"""Rotated credentials are picked up without a restart (secretsource.py), and never logged.

Every test watches the log at DEBUG and ends by checking that no secret value ever reached it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mocks.tt import TTMock
from reference_middleware.config import Config, ConfigError
from reference_middleware.logsafe import MASK, RedactingFormatter
from reference_middleware.secretsource import (
    RITHMIC_PASSWORD,
    STRIPE_SECRETS,
    TT_APP_SECRET,
    SecretSource,
)
from reference_middleware.venues.rithmic import LiveCredentials
from reference_middleware.venues.tt import TTClient, TTError
from reference_middleware.webhooks import WebhookRejected, verify
from tests.mocks.venue_thread import VenueThread

from .test_config import BASE

PW0, PW1, PW2 = "pw-start-0000", "pw-rotated-111", "pw-rotate-222"  # PW2: as long as PW0
EVERY_VALUE = (PW0, PW1, PW2, "tt-secret-0", "tt-secret-1", "whsec_old", "whsec_new")


def write(path: Path, body: Any) -> None:
    """As the harness does it: a temporary file, then os.replace (atomic)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(body if isinstance(body, str) else json.dumps(body))
    os.replace(tmp, path)


@pytest.fixture
def log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG)
    yield caplog
    leaked = [v for v in EVERY_VALUE if v in caplog.text]
    assert not leaked, f"secret values reached the log: {leaked}\n{caplog.text}"


@pytest.fixture
def secrets_file(tmp_path: Path) -> Path:
    path = tmp_path / "secrets.json"
    write(path, {RITHMIC_PASSWORD: PW0, TT_APP_SECRET: "tt-secret-0", STRIPE_SECRETS: "whsec_old"})
    return path


def source(path: Path, *, live: bool = True, poll_s: float = 60.0) -> SecretSource:
    cfg = Config.from_env(dict(BASE, REFMW_SECRETS_FILE=str(path), REFMW_SECRETS_POLL_S=str(poll_s)))
    made = SecretSource.from_config(cfg)
    made.live = live
    made.load()
    return made


async def _until(ok: Callable[[], bool], timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while not ok() and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    return ok()


# ---------------------------------------------------------------------- start-up (Config)
def test_the_file_overrides_the_environment_at_start(secrets_file: Path, log: Any) -> None:
    cfg = Config.from_env(dict(BASE, REFMW_SECRETS_FILE=str(secrets_file)))
    assert (cfg.rithmic_password, cfg.tt_app_secret, cfg.stripe_secrets) == (
        PW0,
        "tt-secret-0",
        ("whsec_old",),
    )
    assert cfg.secrets_poll_s == 1.0  # the documented default
    without = Config.from_env(dict(BASE))
    assert (without.rithmic_password, without.secrets_file) == ("p", "")


def test_a_missing_file_at_start_is_a_config_error_naming_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^REFMW_SECRETS_FILE: no such file"):
        Config.from_env(dict(BASE, REFMW_SECRETS_FILE=str(tmp_path / "absent.json")))


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("{not json", "not valid JSON"),
        (f'["{PW1}"]', "not a JSON object"),
        ({RITHMIC_PASSWORD: 12345}, f"{RITHMIC_PASSWORD} is not a string"),
        ({TT_APP_SECRET: ""}, f"{TT_APP_SECRET} is empty"),
        ({"unrelated": ["x"]}, "unrelated is not a string"),
    ],
)
def test_a_malformed_file_at_start_is_a_config_error_without_its_content(
    tmp_path: Path, body: Any, reason: str
) -> None:
    path = tmp_path / "s.json"
    write(path, body)
    with pytest.raises(ConfigError) as raised:
        Config.from_env(dict(BASE, REFMW_SECRETS_FILE=str(path)))
    assert str(raised.value).startswith("REFMW_SECRETS_FILE: ") and reason in str(raised.value)
    assert PW1 not in str(raised.value)


def test_the_service_exits_2_when_the_file_is_missing(tmp_path: Path) -> None:
    env = dict(BASE, REFMW_SECRETS_FILE=str(tmp_path / "absent.json"), PATH="/usr/bin:/bin")
    proc = subprocess.run(
        [sys.executable, "-m", "reference_middleware"], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2, proc.stderr
    assert "REFMW_SECRETS_FILE" in proc.stderr


# ---------------------------------------------------------------------- reloading
def test_a_rewritten_file_is_picked_up_by_the_poll(secrets_file: Path, log: Any) -> None:
    async def scenario() -> None:
        src = source(secrets_file, poll_s=0.05)
        src.start()
        try:
            assert src.get(RITHMIC_PASSWORD) == PW0 and src.reloads == 0
            write(
                secrets_file,
                {RITHMIC_PASSWORD: PW1, TT_APP_SECRET: "tt-secret-0", STRIPE_SECRETS: "whsec_old"},
            )
            assert await _until(lambda: src.get(RITHMIC_PASSWORD) == PW1), "the poll never saw the new file"
            assert src.reloads == 1 and src.get(TT_APP_SECRET) == "tt-secret-0"
            await asyncio.sleep(0.3)  # unchanged since: no further reloads
            assert src.reloads == 1
        finally:
            await src.stop()
        assert src._task is None

    asyncio.run(scenario())
    lines = [r.getMessage() for r in log.records if "reloaded" in r.getMessage()]
    assert lines == [f"secrets file reloaded (reloads 1): changed {RITHMIC_PASSWORD}"]


def test_a_replacement_with_the_same_size_and_mtime_is_still_seen(secrets_file: Path, log: Any) -> None:
    """Two rotations within one mtime tick, to values of one length: the inode (os.replace) differs."""
    src = source(secrets_file)
    stamp = os.stat(secrets_file).st_mtime_ns
    write(secrets_file, {RITHMIC_PASSWORD: PW2, TT_APP_SECRET: "tt-secret-1", STRIPE_SECRETS: "whsec_new"})
    os.utime(secrets_file, ns=(stamp, stamp))
    assert src.check() is True
    assert (src.get(RITHMIC_PASSWORD), src.get(TT_APP_SECRET), src.stripe_secrets()) == (
        PW2,
        "tt-secret-1",
        ("whsec_new",),
    )
    assert src.check() is False  # nothing new


def test_sighup_rereads_at_once(secrets_file: Path, log: Any) -> None:
    async def scenario() -> None:
        src = source(secrets_file, poll_s=3600)  # only the signal can explain a reload
        src.start()
        try:
            write(secrets_file, {RITHMIC_PASSWORD: PW1})
            await asyncio.sleep(0.1)
            assert src.get(RITHMIC_PASSWORD) == PW0
            os.kill(os.getpid(), signal.SIGHUP)
            assert await _until(lambda: src.reloads == 1, 2.0), "SIGHUP did not reload"
            assert src.get(RITHMIC_PASSWORD) == PW1
        finally:
            await src.stop()

    asyncio.run(scenario())


@pytest.mark.parametrize("body", ["{not json", f'["{PW1}"]', {RITHMIC_PASSWORD: 7}, {RITHMIC_PASSWORD: ""}])
def test_a_bad_file_keeps_the_last_good_secrets_and_is_logged_once(
    secrets_file: Path, log: pytest.LogCaptureFixture, body: Any
) -> None:
    src = source(secrets_file)
    write(secrets_file, body)
    assert src.check() is False and src.check() is False
    assert src.check(force=True) is False
    assert src.get(RITHMIC_PASSWORD) == PW0 and src.reloads == 0
    errors = [r.getMessage() for r in log.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and errors[0].startswith("REFMW_SECRETS_FILE: "), errors
    write(secrets_file, {RITHMIC_PASSWORD: PW2})  # a good version afterwards applies
    assert src.check() is True and src.get(RITHMIC_PASSWORD) == PW2


def test_a_file_gone_later_keeps_the_last_good_secrets(
    secrets_file: Path, log: pytest.LogCaptureFixture
) -> None:
    src = source(secrets_file)
    secrets_file.unlink()
    assert [src.check(), src.check(), src.check(force=True)] == [False, False, False]
    assert src.get(RITHMIC_PASSWORD) == PW0
    warnings = [r.getMessage() for r in log.records if "no such file" in r.getMessage()]
    assert len(warnings) == 1, warnings
    write(secrets_file, {RITHMIC_PASSWORD: PW1})
    assert src.check() is True and src.get(RITHMIC_PASSWORD) == PW1


def test_unknown_keys_are_named_once_and_ignored(secrets_file: Path, log: pytest.LogCaptureFixture) -> None:
    src = source(secrets_file)
    write(secrets_file, {RITHMIC_PASSWORD: PW0, "REFMW_ADMIN_KEY": PW2})
    assert src.check() is True
    write(secrets_file, {RITHMIC_PASSWORD: PW1, "REFMW_ADMIN_KEY": PW2})
    assert src.check() is True
    assert src.get("REFMW_ADMIN_KEY") == "" and src.get(RITHMIC_PASSWORD) == PW1
    named = [r.getMessage() for r in log.records if "REFMW_ADMIN_KEY" in r.getMessage()]
    assert named == ["REFMW_SECRETS_FILE: ignoring keys this service does not use: REFMW_ADMIN_KEY"]


def test_the_read_once_build_never_rereads_and_survives_sighup(secrets_file: Path, log: Any) -> None:
    async def scenario() -> SecretSource:
        src = source(secrets_file, live=False, poll_s=0.05)
        src.start()
        try:
            write(secrets_file, {RITHMIC_PASSWORD: PW1})
            os.kill(os.getpid(), signal.SIGHUP)  # handled (ignored), so the process is not ended
            await asyncio.sleep(0.4)
            assert src.check(force=True) is False
            return src
        finally:
            await src.stop()

    src = asyncio.run(scenario())
    assert src.get(RITHMIC_PASSWORD) == PW0 and src.reloads == 0
    assert any("SIGHUP ignored" in r.getMessage() for r in log.records)


# ---------------------------------------------------------------------- users read through
def test_the_log_masks_rotated_values_old_and_new(secrets_file: Path, log: Any) -> None:
    src = source(secrets_file)
    formatter = RedactingFormatter("%(message)s", ("admin-key-0123456789",), src)

    def shown(text: str) -> str:
        return formatter.format(logging.LogRecord("t", logging.INFO, __file__, 1, text, None, None))

    assert shown(f"login with {PW0}") == f"login with {MASK}"
    assert shown(f"sent {PW1}") == f"sent {PW1}"  # not a secret yet
    write(secrets_file, {RITHMIC_PASSWORD: PW1, STRIPE_SECRETS: "whsec_old,whsec_new"})
    assert src.check() is True
    assert shown(f"sent {PW1} then {PW0}; {'whsec_new'}") == f"sent {MASK} then {MASK}; {MASK}"
    assert shown("admin-key-0123456789") == MASK


def test_rithmic_logins_read_the_current_password(secrets_file: Path, log: Any) -> None:
    src = source(secrets_file)
    credentials = LiveCredentials({"user": "u", "password": "from-the-environment"}, src)
    assert credentials["password"] == PW0 and credentials["user"] == "u"
    write(secrets_file, {RITHMIC_PASSWORD: PW1})
    src.check()
    assert credentials["password"] == credentials.get("password") == PW1


def _signed(payload: bytes, secret: str) -> str:
    stamp = int(time.time())
    mac = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={mac}"


def test_webhook_verification_uses_the_current_secrets(secrets_file: Path, log: Any) -> None:
    src = source(secrets_file)
    cfg = Config.from_env(dict(BASE))
    payload = json.dumps({"id": "evt_1", "type": "invoice.paid", "data": {"object": {}}}).encode()
    with pytest.raises(WebhookRejected):
        verify(cfg, payload, _signed(payload, "whsec_new"), src.stripe_secrets())
    write(secrets_file, {STRIPE_SECRETS: "whsec_old,whsec_new"})  # the grace: both accepted
    src.check()
    for secret in ("whsec_old", "whsec_new"):
        assert verify(cfg, payload, _signed(payload, secret), src.stripe_secrets())["id"] == "evt_1"
    write(secrets_file, {STRIPE_SECRETS: "whsec_new"})
    src.check()
    with pytest.raises(WebhookRejected):
        verify(cfg, payload, _signed(payload, "whsec_old"), src.stripe_secrets())


def test_a_tt_token_request_uses_the_current_app_secret(tmp_path: Path, log: Any) -> None:
    """Against the TT mock: a wrong secret is refused, the file is fixed, the next request logs in."""
    with VenueThread(TTMock(seed=5)) as venue:
        mock = venue.venue
        assert isinstance(mock, TTMock)
        path = tmp_path / "s.json"
        write(path, {TT_APP_SECRET: "tt-secret-0"})  # not the mock's secret
        env = dict(
            BASE,
            REFMW_TT_URL=venue.url,
            REFMW_TT_ENV=mock.config.env,
            REFMW_TT_APP_KEY=mock.config.app_key,
            REFMW_SECRETS_FILE=str(path),
        )
        cfg = Config.from_env(env)
        src = SecretSource.from_config(cfg)
        src.load()
        client = TTClient(cfg, src)

        async def scenario() -> str:
            try:
                with pytest.raises(TTError):
                    await client.token()
                write(path, {TT_APP_SECRET: mock.config.app_secret})
                assert src.check() is True
                return await client.token()
            finally:
                await client.close()

        assert asyncio.run(scenario())
        assert client.token_fetches == 1

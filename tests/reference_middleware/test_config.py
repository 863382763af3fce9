"""Configuration comes from the environment only, and a bad variable is named."""

from __future__ import annotations

import subprocess
import sys

import pytest

from reference_middleware.config import Config, ConfigError

BASE = {
    "REFMW_PORT": "8123",
    "REFMW_DATABASE_URL": "postgresql://u@127.0.0.1:5/db",
    "REFMW_RITHMIC_URL": "ws://127.0.0.1:1",
    "REFMW_RITHMIC_USER": "u",
    "REFMW_RITHMIC_PASSWORD": "p",
    "REFMW_TT_URL": "http://127.0.0.1:2/",
    "REFMW_TT_APP_KEY": "k",
    "REFMW_TT_APP_SECRET": "s",
    "REFMW_STRIPE_WEBHOOK_SECRET": "whsec_a,whsec_b",
}


def test_a_full_environment_parses() -> None:
    cfg = Config.from_env(dict(BASE, REFMW_MUTANTS="no_reconnect, admin_coupled"))
    assert cfg.port == 8123 and cfg.tt_url == "http://127.0.0.1:2"
    assert cfg.stripe_secrets == ("whsec_a", "whsec_b")
    assert cfg.mutants == {"no_reconnect", "admin_coupled"}
    assert cfg.mutant("no_reconnect") and not cfg.mutant("no_reconcile")
    assert cfg.keepalive_s == 75  # a trading client keeps its connection between orders
    assert Config.from_env(dict(BASE, REFMW_KEEPALIVE_S="5")).keepalive_s == 5
    assert ("ESZ6", "CME") in cfg.symbols


def test_port_falls_back_to_port() -> None:
    env = {k: v for k, v in BASE.items() if k != "REFMW_PORT"}
    assert Config.from_env(dict(env, PORT="9000")).port == 9000


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("REFMW_DATABASE_URL", "", "REFMW_DATABASE_URL is required"),
        ("REFMW_PORT", "eighty", "REFMW_PORT must be an integer"),
        ("REFMW_MUTANTS", "no_such_bug", "REFMW_MUTANTS: unknown mutant 'no_such_bug'"),
        ("REFMW_ORDER_TIMEOUT_S", "-1", "REFMW_ORDER_TIMEOUT_S must be positive"),
        ("REFMW_SYMBOLS", "ESZ6", "REFMW_SYMBOLS items must be SYMBOL:EXCHANGE"),
    ],
)
def test_a_bad_variable_is_named(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Config.from_env(dict(BASE, **{name: value}))


def test_the_service_refuses_a_bad_environment_with_exit_2() -> None:
    env = dict(BASE, REFMW_MUTANTS="nope", PATH="/usr/bin:/bin")
    proc = subprocess.run(
        [sys.executable, "-m", "reference_middleware"], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    assert "unknown mutant 'nope'" in proc.stderr


def test_database_and_deployment_bounds_have_defaults_and_can_be_set() -> None:
    cfg = Config.from_env(BASE)
    assert (cfg.db_lock_timeout_ms, cfg.db_statement_timeout_ms, cfg.db_idle_in_tx_timeout_ms) == (
        1000,
        5000,
        10_000,
    )
    assert (cfg.db_acquire_timeout_s, cfg.db_connect_timeout_s, cfg.db_request_timeout_s) == (2.0, 2.0, 2.5)
    assert cfg.shutdown_grace_s == 10.0 and cfg.bad_release is False
    tuned = Config.from_env(
        dict(BASE, REFMW_DB_LOCK_TIMEOUT_MS="250", REFMW_DB_ACQUIRE_TIMEOUT_S="0.5", REFMW_BAD_RELEASE="1")
    )
    assert tuned.db_lock_timeout_ms == 250 and tuned.db_acquire_timeout_s == 0.5 and tuned.bad_release
    assert Config.from_env(dict(BASE, REFMW_DB_LOCK_TIMEOUT_MS="0")).db_lock_timeout_ms == 0  # off
    with pytest.raises(ConfigError, match="REFMW_BAD_RELEASE must be 1 or 0"):
        Config.from_env(dict(BASE, REFMW_BAD_RELEASE="maybe"))
    with pytest.raises(ConfigError, match="REFMW_DB_ACQUIRE_TIMEOUT_S must be positive"):
        Config.from_env(dict(BASE, REFMW_DB_ACQUIRE_TIMEOUT_S="0"))

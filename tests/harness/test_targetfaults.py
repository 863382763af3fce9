"""`[database]` and `[deploy]` in a target file: what they offer scenarios, and each bad field named."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.target import TargetError, load
from harness.targetfaults import DeploySpec

from .test_target import GOOD, _write

STATE = """
[database]
lock_table = "public.orders"

[database.locks]
accounts = "SELECT 1 FROM accounts WHERE id = ANY($1::text[]) FOR UPDATE"

[deploy]
stop_signal = "SIGINT"
drain_s = 5
bad_release_env = { APP_BROKEN = "1" }
"""


def test_declared_state_faults_parse_and_are_offered(tmp_path: Path) -> None:
    parsed = load(_write(tmp_path, GOOD + STATE))
    assert parsed.database.locks["accounts"].startswith("SELECT 1 FROM accounts")
    assert parsed.database.lock_table == "public.orders"
    assert parsed.deploy.signal is signal.SIGINT and parsed.deploy.drain_s == 5
    assert parsed.deploy.bad_release_env == {"APP_BROKEN": "1"}
    offers = set(parsed.offers())
    assert {
        "postgres",
        "db_sql",
        "db_restart",
        "db_lock:accounts",
        "db_table",
        "deploy",
        "deploy:bad_release",
    } <= offers


def test_without_declarations_only_the_link_and_plain_redeploys_are_offered(tmp_path: Path) -> None:
    parsed = load(_write(tmp_path, GOOD))
    assert parsed.deploy == DeploySpec()
    offers = set(parsed.offers())
    assert {"postgres", "db_sql", "deploy"} <= offers
    assert not offers & {"db_lock:accounts", "db_table", "deploy:bad_release"}


def test_an_external_database_is_never_locked_or_restarted(tmp_path: Path) -> None:
    external = GOOD + STATE + '\n[postgres]\ndsn = "postgresql://app@127.0.0.1:5432/app"\n'
    offers = set(load(_write(tmp_path, external)).offers())
    assert "postgres" in offers  # its link can still be faulted through the proxy
    assert not offers & {"db_sql", "db_restart"}


@pytest.mark.parametrize(
    ("edit", "field", "message"),
    [
        (lambda t: t.replace("accounts = ", "acounts = "), r"database\.locks\.acounts", "unknown lock"),
        (lambda t: t.replace("ANY($1::text[])", "ANY('{}')"), r"database\.locks\.accounts", r"must use \$1"),
        (
            lambda t: t.replace('"public.orders"', '"orders; DROP TABLE x"'),
            r"database\.lock_table",
            "table name",
        ),
        (
            lambda t: t.replace('lock_table = "public.orders"', "lock_tabel = 1"),
            r"database\.lock_tabel",
            "unknown",
        ),
        (lambda t: t.replace('"SIGINT"', '"SIGSTOP"'), r"deploy\.stop_signal", "must be one of"),
        (lambda t: t.replace("drain_s = 5", "drain_s = 0"), r"deploy\.drain_s", "positive"),
        (
            lambda t: t.replace('APP_BROKEN = "1"', "APP_BROKEN = 1"),
            r"deploy\.bad_release_env\.APP_BROKEN",
            "string",
        ),
        (lambda t: t.replace("drain_s = 5", "rollout = 1"), r"deploy\.rollout", "unknown field"),
    ],
)
def test_each_bad_field_is_named(
    tmp_path: Path, edit: Callable[[str], str], field: str, message: str
) -> None:
    with pytest.raises(TargetError, match=rf"target\.toml: {field}: .*{message}"):
        load(_write(tmp_path, edit(GOOD + STATE)))

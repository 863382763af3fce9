"""`uat target probe`: each read-only operation once against a live target, and what was read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.resources import data
from tests.harness.reference_copy import companions

pytestmark = pytest.mark.slow


def _probe(target: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", "target", "probe", target, "--backend", "embedded", *extra],
        capture_output=True, text=True, timeout=180, env=dict(os.environ), check=False,
    )  # fmt: skip


def test_the_reference_reads_cleanly() -> None:
    done = _probe("reference", "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    rows = {r["operation"]: r for r in map(json.loads, done.stdout.splitlines())}
    assert set(rows) == {"health", "accounts_for_customer", "account", "positions", "order_status"}
    (account,) = rows["accounts_for_customer"]["read"]["ids"]
    assert rows["account"]["read"]["account_id"] == account
    assert rows["positions"]["read"] == {"positions": []}
    assert rows["order_status"]["status"] == 404  # the order nobody placed: a definite refusal


def test_a_wrong_mapping_is_shown_next_to_the_answer(tmp_path: Path) -> None:
    text = (
        data("targets", "reference.toml").read_text().replace('account_id = "id"', 'account_id = "data.id"')
    )
    text = text.replace('fields = { accounts = "accounts" }', 'fields = { accounts = "data.accounts" }')
    companions(tmp_path)
    target = tmp_path / "wrong.toml"
    target.write_text(text)
    done = _probe(str(target))
    assert done.returncode == 1, done.stdout + done.stderr[-2000:]
    assert "accounts ('data.accounts') is not in the answer" in done.stdout
    assert '"accounts": ["ACC-' in done.stdout  # the answer it came from, to fix the mapping by

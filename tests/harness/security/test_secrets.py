"""The `[secrets]` table and the run's secret file: every bad field named, and a file replaced whole,
private, and only when its content changes."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from harness.security.secretfile import SecretFile
from harness.security.secretspec import ROTATION_NEED, SecretsSpec
from harness.target import TargetError, load

BASE = """
name = "agency"
[start]
command = ["node", "server.js"]
[ready]
url = "http://127.0.0.1:{port}/health"
[env]
SECRETS_FILE = "{secrets.file}"
[adapter]
base_url = "http://127.0.0.1:{port}"
[adapter.operations.place_order]
method = "POST"
path = "/orders"
[adapter.operations.order_status]
method = "GET"
path = "/orders/{client_order_id}"
fields = { status = "state" }
[adapter.operations.positions]
method = "GET"
path = "/positions/{account}"
items = "rows"
fields = { symbol = "symbol", net_qty = "qty" }
[adapter.operations.health]
method = "GET"
path = "/health"
"""
SECRETS = """
[secrets]
file = "venue.json"
[secrets.values]
RITHMIC_PASSWORD = "{mocks.rithmic.password}"
STRIPE_SECRET = "{mocks.stripe.secret}"
TT_APP_KEY = "{mocks.tt.app_key}"
"""


def _load(tmp_path: Path, text: str) -> object:
    path = tmp_path / "target.toml"
    path.write_text(BASE + text)
    return load(str(path))


def test_a_secret_source_is_read_with_what_it_can_rotate(tmp_path: Path) -> None:
    target = _load(tmp_path, SECRETS)
    spec = target.secrets  # type: ignore[attr-defined]
    assert spec == SecretsSpec(
        "venue.json",
        "watch",
        "SIGHUP",
        2.0,
        {
            "RITHMIC_PASSWORD": "{mocks.rithmic.password}",
            "STRIPE_SECRET": "{mocks.stripe.secret}",
            "TT_APP_KEY": "{mocks.tt.app_key}",
        },
    )
    # the TT app key does not rotate (its secret does): TT is not rotatable through this file
    assert spec.rotatable() == ("rithmic", "stripe")
    assert ROTATION_NEED in target.offers()  # type: ignore[attr-defined]
    assert "rithmic" in target.wired and "stripe" in target.wired  # type: ignore[attr-defined]


def test_without_a_rotating_credential_the_rotation_need_is_not_offered(tmp_path: Path) -> None:
    target = _load(tmp_path, '[secrets]\nvalues = { KEY = "{mocks.tt.app_key}" }\n')
    assert target.secrets.rotatable() == ()  # type: ignore[attr-defined]
    assert ROTATION_NEED not in target.offers()  # type: ignore[attr-defined]
    assert _load(tmp_path, "").secrets is None  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [
        ('file = "../etc/x.json"\n', "secrets.file", "plain file name"),
        ('reload = "inotify"\n', "secrets.reload", "one of watch, signal"),
        ('reload = "signal"\nsignal = "HUP"\n', "secrets.signal", "signal name"),
        ('signal = "SIGNOPE"\n', "secrets.signal", "signal name"),
        ("settle_s = 0\n", "secrets.settle_s", "positive"),
        ("sometimes = 1\n", "secrets.sometimes", "unknown field"),
    ],
)
def test_every_bad_field_is_named(tmp_path: Path, extra: str, field: str, message: str) -> None:
    text = "[secrets]\n" + extra + '[secrets.values]\nP = "{mocks.rithmic.password}"\n'
    with pytest.raises(TargetError, match=rf"{field}: .*{message}"):
        _load(tmp_path, text)


def test_values_are_required_strings_and_checked_placeholders(tmp_path: Path) -> None:
    with pytest.raises(TargetError, match=r"secrets\.values: is required"):
        _load(tmp_path, '[secrets]\nfile = "a.json"\n')
    with pytest.raises(TargetError, match=r"secrets\.values\.P: must be a string"):
        _load(tmp_path, "[secrets.values]\nP = 3\n")
    with pytest.raises(TargetError, match=r"secrets\.values\.P: unknown placeholder \{mocks\.nowhere\.x\}"):
        _load(tmp_path, '[secrets.values]\nP = "{mocks.nowhere.x}"\n')


def test_a_container_target_cannot_use_a_secret_file_yet(tmp_path: Path) -> None:
    text = (BASE + SECRETS).replace('command = ["node", "server.js"]', 'image = "agency:1"')
    (tmp_path / "target.toml").write_text(text.replace('SECRETS_FILE = "{secrets.file}"', ""))
    with pytest.raises(TargetError, match=r"secrets\.file: a container target"):
        load(str(tmp_path / "target.toml"))


def test_the_file_is_replaced_whole_private_and_only_when_it_changes(tmp_path: Path) -> None:
    spec = SecretsSpec(values={"PW": "{mocks.rithmic.password}", "URL": "{mocks.rithmic.url}"})
    file = SecretFile(spec, tmp_path / "s.json", "target.toml")
    values = {"mocks": {"rithmic": {"password": "pw-0", "url": "ws://127.0.0.1:1"}}}
    assert file.write(values) is True
    assert json.loads(file.path.read_text()) == {"PW": "pw-0", "URL": "ws://127.0.0.1:1"}
    assert stat.S_IMODE(file.path.stat().st_mode) == 0o600
    inode = file.path.stat().st_ino
    assert file.write(values) is False and file.writes == 1  # unchanged: the middleware is not disturbed
    values["mocks"]["rithmic"]["password"] = "pw-1"
    assert file.write(values) is True and file.writes == 2
    assert json.loads(file.path.read_text())["PW"] == "pw-1"
    assert file.path.stat().st_ino != inode  # a new file renamed over the old one, never rewritten in place
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]  # no temporary left behind

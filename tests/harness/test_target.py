"""Target files: a good one parses, and every bad field is named in the error."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.target import Slo, TargetError, load, parse

GOOD = """
name = "agency-build"
passthrough_env = ["REFMW_MUTANTS"]

[start]
command = ["node", "server.js"]
cwd = "app"

[ready]
url = "http://127.0.0.1:{port}/health"
timeout_s = 30

[env]
RITHMIC_URL = "{mocks.rithmic.url}"
DATABASE_URL = "{postgres.dsn}"

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

[slo]
recovery_s = 10
fast_reject_ms = 500

[network]
allowed_hosts = ["uat-db.internal"]
"""


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "target.toml"
    path.write_text(text)
    return str(path)


def test_a_good_target_parses_with_defaults(tmp_path: Path) -> None:
    target = load(_write(tmp_path, GOOD))
    assert target.name == "agency-build" and target.command == ("node", "server.js")
    assert target.cwd == (tmp_path / "app").resolve()
    assert target.slo == Slo(recovery_s=10, fast_reject_ms=500, fill_visible_s=Slo.fill_visible_s)
    assert target.allowed_hosts == ("uat-db.internal",) and target.adapter.kind == "http"
    assert target.venues == ("rithmic",)  # from the placeholders that wire it to the mocks


def test_env_is_rendered_from_the_topology(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFMW_MUTANTS", "no_reconnect")
    target = load(_write(tmp_path, GOOD))
    values = {
        "mocks": {"rithmic": {"url": "ws://127.0.0.1:5"}},
        "postgres": {"dsn": "postgresql://x"},
        "port": 9,
    }
    env = target.render(values)
    assert env == {
        "RITHMIC_URL": "ws://127.0.0.1:5",
        "DATABASE_URL": "postgresql://x",
        "REFMW_MUTANTS": "no_reconnect",
    }
    with pytest.raises(TargetError, match=r"env\.RITHMIC_URL: unknown placeholder \{mocks\.rithmic\.url\}"):
        target.render({"mocks": {}, "postgres": {"dsn": "x"}})


@pytest.mark.parametrize(
    ("edit", "field", "message"),
    [
        (lambda t: t.replace('name = "agency-build"\n', ""), "name", "is required"),
        (lambda t: t.replace('name = "agency-build"', "name = 7"), "name", "must be a string"),
        (
            lambda t: t.replace('command = ["node", "server.js"]', 'command = ["node", 3]'),
            r"start\.command\[1\]",
            "non-empty string",
        ),
        (
            lambda t: t.replace('command = ["node", "server.js"]', ""),
            r"start\.command",
            "give start.command",
        ),
        (
            lambda t: t.replace('command = ["node", "server.js"]', 'image = "x"\ncommand = ["a"]'),
            r"start\.cwd",
            "cannot be used with start.image",
        ),
        (
            lambda t: t.replace('command = ["node", "server.js"]', 'image = "my app:1"'),
            r"start\.image",
            "image reference",
        ),
        (
            lambda t: t.replace('command = ["node", "server.js"]\ncwd = "app"', 'image = "app:1"').replace(
                'DATABASE_URL = "{postgres.dsn}"', 'SCHEMA_PYTHON = "{python}"'
            ),
            r"env\.SCHEMA_PYTHON",
            "absent from start.image",
        ),
        (
            lambda t: t.replace("timeout_s = 30", 'timeout_s = "soon"'),
            r"ready\.timeout_s",
            "must be a number",
        ),
        (lambda t: t.replace("recovery_s = 10", "recovery_s = -1"), r"slo\.recovery_s", "positive"),
        (lambda t: t.replace("recovery_s = 10", "recovery_s = true"), r"slo\.recovery_s", "boolean"),
        (
            lambda t: t.replace("[slo]", "[slo]\nquote_conflation_ms = -1"),
            r"slo\.quote_conflation_ms",
            "0 or more",
        ),
        (lambda t: t.replace("[slo]", "[slo]\nrecovery = 3"), r"slo\.recovery", "unknown field"),
        (
            lambda t: t.replace("[adapter]", '[adapter]\nkind = "grpc"'),
            r"adapter\.kind",
            "unknown adapter kind",
        ),
        (lambda t: t.replace('base_url = "http://127.0.0.1:{port}"', ""), r"adapter\.base_url", "required"),
        (lambda t: t.replace('url = "http://127.0.0.1:{port}/health"', ""), r"ready\.url", "required"),
        (lambda t: "surprise = 1\n" + t, "surprise", "unknown field"),
        (
            lambda t: t.replace('RITHMIC_URL = "{mocks.rithmic.url}"', "RITHMIC_URL = 5"),
            r"env\.RITHMIC_URL",
            "must be a string",
        ),
        (
            lambda t: t.replace("[network]", "[network]\nallowed_hosts = 'x'\n[other]"),
            r"network\.allowed_hosts",
            "must be a list",
        ),
        (lambda t: t.replace("[start]", "[start"), "toml", ""),
        (
            lambda t: t.replace("{mocks.rithmic.url}", "{mock.rithmic.url}"),
            r"env\.RITHMIC_URL",
            "unknown placeholder",
        ),
        (lambda t: t.replace("{mocks.rithmic.url}", "{mocks.cqgg.url}"), r"env\.RITHMIC_URL", "VENUE one of"),
        (
            lambda t: t.replace(
                'url = "http://127.0.0.1:{port}/health"', 'url = "http://127.0.0.1:{prot}/health"'
            ),
            r"ready\.url",
            "unknown placeholder",
        ),
    ],
)
def test_each_bad_field_is_named(tmp_path: Path, edit, field: str, message: str) -> None:
    with pytest.raises(TargetError, match=rf"target\.toml: {field}: .*{message}"):
        load(_write(tmp_path, edit(GOOD)))


def test_a_missing_file_lists_the_bundled_targets(tmp_path: Path) -> None:
    with pytest.raises(TargetError, match="no such file"):
        load(str(tmp_path / "nope.toml"))


def test_parse_requires_a_table() -> None:
    with pytest.raises(TargetError, match="start: must be a table"):
        parse({"name": "x", "start": "node"}, "inline")


def test_an_external_database_must_be_a_loopback_or_allowlisted_postgres_url(tmp_path: Path) -> None:
    good = GOOD + '\n[postgres]\ndsn = "postgresql://app@127.0.0.1:5432/uat"\n'
    assert load(_write(tmp_path, good)).postgres_dsn == "postgresql://app@127.0.0.1:5432/uat"
    allowlisted = GOOD + '\n[postgres]\ndsn = "postgresql://app@uat-db.internal/uat"\n'
    assert load(_write(tmp_path, allowlisted)).postgres_dsn == "postgresql://app@uat-db.internal/uat"
    far = GOOD + '\n[postgres]\ndsn = "postgresql://app@db.prod.example.com/live"\n'
    with pytest.raises(TargetError, match=r"postgres\.dsn: refusing database host 'db\.prod\.example\.com'"):
        load(_write(tmp_path, far))
    with pytest.raises(TargetError, match=r"postgres\.dsn: must be a postgresql://"):
        load(_write(tmp_path, GOOD + '\n[postgres]\ndsn = "mysql://127.0.0.1/x"\n'))


OFF_LOOPBACK = "192.0.2.10"


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (
            lambda t: t.replace(
                'url = "http://127.0.0.1:{port}/health"', f'url = "http://{OFF_LOOPBACK}:{{port}}/h"'
            ),
            r"ready\.url",
        ),
        (
            lambda t: t.replace(
                'base_url = "http://127.0.0.1:{port}"', f'base_url = "http://{OFF_LOOPBACK}"'
            ),
            r"adapter\.base_url",
        ),
        (
            lambda t: t.replace('path = "/health"', f'path = "https://{OFF_LOOPBACK}/health"'),
            r"adapter\.operations\.health\.path",
        ),
        (lambda t: t + f'\n[webhooks]\nstripe = "http://{OFF_LOOPBACK}/hook"\n', r"webhooks\.stripe"),
    ],
)
def test_every_url_off_loopback_is_refused_before_anything_starts(tmp_path: Path, edit, field: str) -> None:
    with pytest.raises(TargetError, match=rf"target\.toml: {field}: refusing .*'{OFF_LOOPBACK}'"):
        load(_write(tmp_path, edit(GOOD)))
    allowlisted = edit(GOOD).replace(
        'allowed_hosts = ["uat-db.internal"]', f'allowed_hosts = ["{OFF_LOOPBACK}"]'
    )
    assert load(_write(tmp_path, allowlisted)).name == "agency-build"


def test_the_reconciliation_sql_is_named_by_the_target(tmp_path: Path) -> None:
    (tmp_path / "recon.sql").write_text("-- name: x\nSELECT 1 WHERE false;\n")
    target = load(_write(tmp_path, GOOD + '\n[checks]\nsql = "recon.sql"\n'))
    assert target.checks_sql == (tmp_path / "recon.sql").resolve()
    with pytest.raises(TargetError, match=r"checks\.sql: no such file"):
        load(_write(tmp_path, GOOD + '\n[checks]\nsql = "missing.sql"\n'))


def test_settings_map_the_harness_words_onto_the_targets_variables(tmp_path: Path) -> None:
    text = GOOD + '\n[settings]\norder_timeout_s = { env = "ORDER_TIMEOUT_MS", unit = "ms" }\n'
    target = load(_write(tmp_path, text))
    assert target.setting_env({"order_timeout_s": 1.5}) == {"ORDER_TIMEOUT_MS": "1500"}
    plain = load(_write(tmp_path, GOOD + '\n[settings]\norder_timeout_s = "TIMEOUT_S"\n'))
    assert plain.setting_env({"order_timeout_s": 1.0}) == {"TIMEOUT_S": "1"}
    with pytest.raises(TargetError, match=r"settings\.order_timeout: unknown setting"):
        load(_write(tmp_path, GOOD + '\n[settings]\norder_timeout = "X"\n'))
    with pytest.raises(TargetError, match=r"settings\.order_timeout_s\.unit: must be s or ms"):
        load(_write(tmp_path, GOOD + '\n[settings]\norder_timeout_s = { env = "X", unit = "min" }\n'))

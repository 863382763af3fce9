"""Config files: a malformed one is refused with the field named, the way a reader finds it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mocks.zapier import ConfigError, ZapierMock, example_text, load, loads, parse

GOOD_STEP = {"name": "s", "url": "http://127.0.0.1:1/x"}


def zaps(*steps: dict[str, Any], **zap: Any) -> dict[str, Any]:
    return {"zaps": [{"id": "a", "hook": "h1", "steps": [GOOD_STEP]}, {"id": "b", "hook": "h2", **zap,
                     "steps": list(steps) or [GOOD_STEP]}]}  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        ({}, "zaps", "missing"),
        ({"zaps": [], "extra": 1}, "extra", "unknown field"),
        (zaps({"name": "s"}), "zaps[1].steps[0].url", "missing"),
        (zaps({"url": "http://127.0.0.1:1/"}), "zaps[1].steps[0].name", "missing"),
        (zaps({**GOOD_STEP, "method": "TRACE"}), "zaps[1].steps[0].method", "one of"),
        (zaps({**GOOD_STEP, "encoding": "xml"}), "zaps[1].steps[0].encoding", "json"),
        (zaps({**GOOD_STEP, "encoding": "form", "body": [1]}), "zaps[1].steps[0].body", "table"),
        (zaps({**GOOD_STEP, "body": "text"}), "zaps[1].steps[0].body", "JSON template"),
        (zaps({**GOOD_STEP, "body": {"n": float("nan")}}), "zaps[1].steps[0].body.n", "nan"),
        (zaps({**GOOD_STEP, "headers": {"Bad Name": "x"}}), "zaps[1].steps[0].headers.Bad Name", "header"),
        (zaps({**GOOD_STEP, "headers": {"X": 1}}), "zaps[1].steps[0].headers.X", "string"),
        (zaps({**GOOD_STEP, "url": "https://203.0.113.5/x"}), "zaps[1].steps[0].url", "loopback"),
        (zaps({**GOOD_STEP, "url": "{{env.nope}}/x"}), "zaps[1].steps[0].url", "--set nope="),
        (zaps({**GOOD_STEP, "body": {"a": "{{steps.s.id}}"}}), "zaps[1].steps[0].body", "earlier step"),
        (zaps({**GOOD_STEP, "body": {"a": "{{trigger..x}}"}}), "zaps[1].steps[0].body", "segments"),
        (zaps({**GOOD_STEP, "body": {"a": "{{customer}}"}}), "zaps[1].steps[0].body", "trigger, steps"),
        (zaps(GOOD_STEP, GOOD_STEP), "zaps[1].steps[1].name", "already a step"),
        (zaps(hook="h1"), "zaps[1].hook", "earlier Zap"),
        (zaps(hook="a/b"), "zaps[1].hook", "letters"),
        (zaps(enabled="yes"), "zaps[1].enabled", "true or false"),
        (zaps(colour="red"), "zaps[1].colour", "unknown field"),
        ({**zaps(), "limits": {"burst": 0}}, "limits.burst", "int in"),
        ({**zaps(), "limits": {"workers": 1.5}}, "limits.workers", "int in"),
        ({**zaps(), "retry": {"max_attempts": 0}}, "retry.max_attempts", "number"),
        ({**zaps(), "account_id": "a b"}, "account_id", "letters"),
    ],
)
def test_a_bad_field_is_named(raw: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(raw, {})
    assert caught.value.field == field and words in str(caught.value)
    assert str(caught.value).startswith(f"{field}: ")


def test_toml_dates_and_bad_files(tmp_path: Path) -> None:
    path = tmp_path / "z.toml"
    path.write_text('[[zaps]]\nid = "a"\nhook = "h"\n[[zaps.steps]]\nname = "s"\n'
                    'url = "http://127.0.0.1:1/"\nbody = { when = 2025-01-02 }\n')  # fmt: skip
    with pytest.raises(ConfigError, match=r"^zaps\[0\]\.steps\[0\]\.body\.when: a date"):
        load(path, {})
    path.write_text("zaps = [")
    with pytest.raises(ConfigError, match=r"^file: not valid TOML"):
        load(path, {})
    with pytest.raises(ConfigError, match=r"^file: cannot read"):
        load(tmp_path / "missing.toml", {})
    path.write_bytes(b'account_id = "\xff"')
    with pytest.raises(ConfigError, match=r"^file: not UTF-8"):
        load(path, {})


def test_a_mock_without_a_config_has_no_hooks() -> None:
    venue = ZapierMock(seed=1)
    assert venue.describe()["hooks"] == {} and venue.account_id == ZapierMock(seed=1).account_id
    assert venue.zap_for_hook("anything") is None


def test_the_example_config_loads_with_its_set_values() -> None:
    env = {name: "http://127.0.0.1:9" for name in ("docusign_url", "provision_url", "rippling_url")}
    env |= {"docusign_account": "a", "docusign_token": "t", "docusign_template": "x", "rippling_token": "r"}
    config = loads(example_text(), env)
    (zap,) = config.zaps
    assert [s.name for s in zap.steps] == ["contract", "provision", "worker"]
    assert zap.hook == "stripe-checkout-paid"
    assert config.limits.burst == 100 and config.retry.max_attempts == 3
    with pytest.raises(ConfigError, match=r"^zaps\[0\]\.steps\[2\]\.url: .*rippling_url"):
        loads(example_text(), {k: v for k, v in env.items() if k != "rippling_url"})


def test_a_non_loopback_host_passes_when_allowed() -> None:
    raw = zaps({**GOOD_STEP, "url": "https://crm.firm.test/x"})
    assert parse(raw, {}, ["crm.firm.test"]).zaps[1].steps[0].url == "https://crm.firm.test/x"
    with pytest.raises(ConfigError, match=r"^env\.1x"):
        parse(zaps(), {"1x": "v"})

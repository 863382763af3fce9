"""The target file's `[lifecycle]` table: the Zaps file it names, its `set` templates, and each bad
field named; and the placeholders a lifecycle needs (a list indexed, a list of keys joined)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.target import TargetError, load, render_template
from harness.targetlifecycle import LIFECYCLE_NEED

from .test_target import GOOD

LIFECYCLE = """
[lifecycle]
zaps = "zaps.toml"
provisioned_s = 20
[lifecycle.set]
docusign_url = "{mocks.docusign.url}"
middleware_url = "http://127.0.0.1:{port}"
"""


def _target(tmp_path: Path, table: str = LIFECYCLE, zaps: bool = True) -> str:
    if zaps:
        (tmp_path / "zaps.toml").write_text("[[zaps]]\n")
    path = tmp_path / "target.toml"
    path.write_text(GOOD + table)
    return str(path)


def test_a_lifecycle_is_offered_and_wires_its_mocks(tmp_path: Path) -> None:
    target = load(_target(tmp_path))
    spec = target.lifecycle
    assert spec is not None and spec.zaps == (tmp_path / "zaps.toml").resolve()
    assert spec.provisioned_s == 20 and spec.deposit == "25000.00"
    assert spec.values == {
        "docusign_url": "{mocks.docusign.url}",
        "middleware_url": "http://127.0.0.1:{port}",
    }
    assert LIFECYCLE_NEED in target.offers()
    assert {"docusign", "zapier"} <= set(target.wired)  # started for it: the Zaps' calls and the bus


def test_without_the_table_there_is_no_lifecycle(tmp_path: Path) -> None:
    target = load(_target(tmp_path, ""))
    assert target.lifecycle is None and LIFECYCLE_NEED not in target.offers()


@pytest.mark.parametrize(
    ("table", "zaps", "field", "message"),
    [
        (LIFECYCLE, False, "lifecycle.zaps", "no such file"),
        ("[lifecycle]\nprovisioned_s = 5\n", True, "lifecycle.zaps", "is required"),
        (
            LIFECYCLE.replace("provisioned_s = 20", "provisioned_s = 0"),
            True,
            "lifecycle.provisioned_s",
            "positive",
        ),
        (LIFECYCLE.replace("provisioned_s = 20", 'deposit = "lots"'), True, "lifecycle.deposit", "an amount"),
        (LIFECYCLE.replace("provisioned_s = 20", "zapz = 1"), True, "lifecycle.zapz", "unknown"),
        (LIFECYCLE.replace("docusign_url =", '"2bad" ='), True, "lifecycle.set.2bad", "letters, digits"),
        (
            LIFECYCLE.replace("{mocks.docusign.url}", "{mocks.nowhere.url}"),
            True,
            "lifecycle.set.docusign_url",
            "VENUE",
        ),
        (
            LIFECYCLE.replace('"{mocks.docusign.url}"', "3"),
            True,
            "lifecycle.set.docusign_url",
            "must be a string",
        ),
    ],
)
def test_each_bad_field_is_named(tmp_path: Path, table: str, zaps: bool, field: str, message: str) -> None:
    with pytest.raises(TargetError, match=rf"{field}.*{message}"):
        load(_target(tmp_path, table, zaps))


def test_placeholders_index_lists_and_join_lists_of_keys() -> None:
    values = {"mocks": {"docusign": {"templates": [{"templateId": "t-1"}, {"templateId": "t-2"}],
                                     "hmac_keys": ["k1", "k2"]}}}  # fmt: skip
    assert render_template("{mocks.docusign.templates.1.templateId}", values, "w", "s") == "t-2"
    assert render_template("{mocks.docusign.hmac_keys}", values, "w", "s") == "k1,k2"
    with pytest.raises(
        TargetError, match=r"unknown placeholder \{mocks\.docusign\.templates\.2\.templateId\}"
    ):
        render_template("{mocks.docusign.templates.2.templateId}", values, "w", "s")

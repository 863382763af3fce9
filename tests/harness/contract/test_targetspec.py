"""A target file's [contract] table: a good one parses, every bad field is named."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.contract import ContractSpec
from harness.target import TargetError, load

BASE = """
name = "agency"

[start]
command = ["node", "server.js"]

[ready]
url = "http://127.0.0.1:{port}/health"

[adapter]
base_url = "http://127.0.0.1:{port}"

[adapter.operations]
place_order = { method = "POST", path = "/orders" }
order_status = { method = "GET", path = "/orders/{client_order_id}", fields = { status = "state" } }
positions = { method = "GET", path = "/p/{account}", items = "r", fields = { symbol = "s", net_qty = "q" } }
health = { method = "GET", path = "/health" }
"""


def _load(tmp_path: Path, table: str) -> ContractSpec | None:
    path = tmp_path / "target.toml"
    path.write_text(BASE + table)
    return load(str(path)).contract


def test_a_url_spec_with_its_bounds_and_exclusions(tmp_path: Path) -> None:
    spec = _load(
        tmp_path,
        '[contract]\nspec = "http://127.0.0.1:{port}/openapi.json"\nmax_examples = 5\ntime_budget_s = 20\n'
        'exclude = ["GET /v1/stream"]\n',
    )
    assert spec is not None
    assert (spec.spec, spec.url, spec.max_examples, spec.time_budget_s, spec.exclude) == (
        "http://127.0.0.1:{port}/openapi.json", True, 5, 20.0, ("GET /v1/stream",),
    )  # fmt: skip


def test_a_file_spec_is_relative_to_the_target_file_and_defaults_apply(tmp_path: Path) -> None:
    (tmp_path / "api.yaml").write_text("openapi: 3.0.3\n")
    spec = _load(tmp_path, '[contract]\nspec = "api.yaml"\n')
    assert spec is not None
    assert (spec.spec, spec.url, spec.max_examples, spec.time_budget_s) == (
        str(tmp_path / "api.yaml"), False, 25, 50.0,
    )  # fmt: skip


def test_no_table_means_no_contract(tmp_path: Path) -> None:
    assert _load(tmp_path, "") is None


@pytest.mark.parametrize(
    ("table", "field", "message"),
    [
        ("max_examples = 5", "contract.spec", "is required"),
        ('spec = "nope.yaml"', "contract.spec", "no such file"),
        (
            'spec = "ftp://127.0.0.1/openapi.json"',
            "contract.spec",
            "must be an http(s):// URL or a file path",
        ),
        ('spec = "http://api.example.com/openapi.json"', "contract.spec", "api.example.com"),
        ('spec = "http://127.0.0.1:{prot}/openapi.json"', "contract.spec", "unknown placeholder {prot}"),
        ('spec = "http://127.0.0.1:{port}/o"\nmax_examples = 0', "contract.max_examples", "must be from 1"),
        (
            'spec = "http://127.0.0.1:{port}/o"\nmax_examples = "9"',
            "contract.max_examples",
            "must be a number",
        ),
        ('spec = "http://127.0.0.1:{port}/o"\ntime_budget_s = -1', "contract.time_budget_s", "positive"),
        (
            'spec = "http://127.0.0.1:{port}/o"\nexclude = ["/v1/stream"]',
            "contract.exclude[0]",
            "METHOD /path",
        ),
        ('spec = "http://127.0.0.1:{port}/o"\nseed = 3', "contract.seed", "unknown field"),
    ],
)
def test_a_bad_field_is_named(tmp_path: Path, table: str, field: str, message: str) -> None:
    with pytest.raises(TargetError) as caught:
        _load(tmp_path, f"[contract]\n{table}\n")
    assert caught.value.field == field and message in str(caught.value)


def test_the_reference_target_declares_its_contract() -> None:
    spec = load("reference").contract
    assert spec is not None and spec.url and spec.spec == "http://127.0.0.1:{port}/openapi.json"
    assert spec.exclude == ("GET /v1/stream", "POST /v1/webhooks/stripe", "POST /v1/webhooks/docusign")

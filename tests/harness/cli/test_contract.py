"""`uat contract --target X` as the architect and CI run it: a subprocess, its exit code and outputs.

The slow tests bring up the whole topology: the healthy reference passes (exit 0), and a target whose
API has deliberate bugs fails (exit 1) with each failing case's curl command."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import main
from tests.harness.contract.conftest import ROOT

BROKEN_TARGET = f"""
name = "broken-items"
venues = []

[start]
command = ["{{python}}", "-m", "tests.harness.contract.brokenapp", "{{port}}"]
cwd = "{ROOT}"

[ready]
url = "http://127.0.0.1:{{port}}/ping"
timeout_s = 30

[adapter]
base_url = "http://127.0.0.1:{{port}}"

[adapter.operations]
place_order = {{ method = "POST", path = "/items" }}
order_status = {{ method = "GET", path = "/items/{{client_order_id}}", fields = {{ status = "name" }} }}
positions = {{ method = "GET", path = "/ping", items = "rows", fields = {{ symbol = "s", net_qty = "q" }} }}
health = {{ method = "GET", path = "/ping" }}
"""
CONTRACT = (
    '\n[contract]\nspec = "http://127.0.0.1:{port}/openapi.json"\nmax_examples = 10\ntime_budget_s = 30\n'
)


def _uat(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", "contract", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=ROOT,
    )


def test_contract_is_a_registered_command() -> None:
    assert "contract" in main.commands
    result = CliRunner().invoke(main, ["contract", "--help"])
    assert result.exit_code == 0
    for option in ("--target", "--seed", "--max-examples", "--time-budget", "--json FILE|-", "--allure-dir"):
        assert option in result.output


def test_a_target_file_without_a_contract_table_exits_2_naming_it(tmp_path: Path) -> None:
    target = tmp_path / "t.toml"
    target.write_text(BROKEN_TARGET)
    done = _uat("--target", str(target))
    assert done.returncode == 2, done.stderr
    assert f"Error: {target}: contract: the target file has no [contract] table" in done.stderr


def test_a_bad_contract_field_exits_2_naming_it(tmp_path: Path) -> None:
    target = tmp_path / "t.toml"
    target.write_text(BROKEN_TARGET + CONTRACT.replace("max_examples = 10", "max_examples = -3"))
    done = _uat("--target", str(target))
    assert done.returncode == 2
    assert done.stderr.startswith(f"Error: {target}: contract.max_examples: must be from 1 to 10000, got -3")


@pytest.mark.slow
def test_the_broken_target_fails_with_exit_1_and_curl_commands(tmp_path: Path) -> None:
    target, report = tmp_path / "broken.toml", tmp_path / "contract.json"
    target.write_text(BROKEN_TARGET + CONTRACT)
    done = _uat("--target", str(target), "--seed", "3", "--json", str(report), timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAILED POST /items not_a_server_error: No 5xx answer" in done.stdout
    assert '    curl -X POST -H \'Content-Type: application/json\' -d \'{"name": ""' in done.stdout
    assert "FAILED GET /secret ignored_auth: Authentication is enforced" in done.stdout
    assert "contract FAILED: broken-items against http://127.0.0.1:" in done.stdout
    document = json.loads(report.read_text())
    assert (document["verdict"], document["seed"], document["max_examples"]) == ("failed", 3, 10)
    failed = {
        (op["operation"], c["check"])
        for op in document["operations"]
        for c in op["checks"]
        if c["status"] == "failed"
    }
    assert ("GET /items/{item_id}", "use_after_free") in failed


@pytest.mark.slow
def test_the_reference_passes_with_every_not_run_check_explained(tmp_path: Path) -> None:
    results = tmp_path / "allure-results"
    started = time.monotonic()
    done = _uat("--target", "reference", "--json", "-", "--allure-dir", str(results), timeout=180)
    wall_s = time.monotonic() - started
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    document = json.loads(done.stdout)
    assert document["verdict"] == "passed" and document["stopped"] == "completed"
    assert document["excluded"] == [
        "GET /v1/stream",
        "POST /v1/webhooks/stripe",
        "POST /v1/webhooks/docusign",
    ]
    ops = {op["operation"]: {c["check"]: c for c in op["checks"]} for op in document["operations"]}
    assert len(ops) == 15  # the quote and P&L reads, the key endpoints and the lifecycle's three included
    for name, checks in ops.items():
        assert (
            checks["not_a_server_error"]["status"] == "passed" and checks["not_a_server_error"]["cases"] > 0
        )
        # every operation but health declares bearer security: a request without the key is refused
        auth = checks["ignored_auth"]
        if name == "GET /health":
            assert auth["status"] == "not_run" and "no security requirement" in auth["reason"]
        else:
            assert auth["status"] == "passed" and auth["cases"] > 0, (name, auth)
        assert all(c["reason"] for c in checks.values() if c["status"] == "not_run")
    assert ops["POST /v1/orders"]["negative_data_rejection"]["status"] == "passed"
    order = ops["GET /v1/orders/{client_order_id}"]
    assert (
        order["use_after_free"]["reason"]
        == "no OpenAPI link leads to a DELETE: no sequence deletes a resource"
    )
    assert (
        order["ensure_resource_availability"]["status"] == "not_run"
    )  # no order is placed for a new account
    assert "contract PASSED: reference against http://127.0.0.1:" in done.stderr
    written = [json.loads(p.read_text()) for p in results.glob("*-result.json")]
    assert sorted(r["name"] for r in written) == sorted(ops)
    assert {r["status"] for r in written} == {"passed"}
    print(f"uat contract --target reference: {wall_s:.1f} s wall, {document['wall_s']:.1f} s of Schemathesis")

"""`uat spec review SPEC` as the architect and CI run it: a subprocess, its exit code and outputs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from harness.cli import main
from tests.harness.spec import SPECS


def _uat(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", "spec", "review", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_spec_review_is_a_registered_command() -> None:
    assert "spec" in main.commands
    result = CliRunner().invoke(main, ["spec", "review", "--help"])
    assert result.exit_code == 0
    for option in ("SPEC", "--json FILE|-", "--allure-dir", "--quiet"):
        assert option in result.output


def test_the_good_spec_passes_with_exit_0() -> None:
    done = _uat(str(SPECS / "good.yaml"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"spec review PASSED: {SPECS / 'good.yaml'}: 0 blockers" in done.stdout


def test_a_blocker_fails_with_exit_1_and_majors_alone_do_not() -> None:
    blocker = _uat(str(SPECS / "bad-decimal-money.json"))
    assert blocker.returncode == 1
    assert "#/components/schemas/Position/properties/avgPrice" in blocker.stdout
    assert "spec review FAILED" in blocker.stdout
    major = _uat(str(SPECS / "bad-pagination.yaml"))
    assert major.returncode == 0
    assert "GET /v1/fills returns a list but takes no `limit`" in major.stdout  # printed, but not failing
    assert "spec review PASSED" in major.stdout and "1 major" in major.stdout


def test_a_spec_without_operations_fails() -> None:
    done = _uat(str(SPECS / "empty-paths.yaml"), "--quiet")
    assert done.returncode == 1
    assert done.stdout.startswith("spec review FAILED:") and "1 blocker" in done.stdout


def test_an_unreadable_spec_exits_2_naming_the_problem(tmp_path: Path) -> None:
    broken = _uat(str(SPECS / "broken.yaml"))
    assert broken.returncode == 2
    assert broken.stderr.startswith(
        f"Error: SPEC: {SPECS / 'broken.yaml'}: not valid YAML at line 9 column 3"
    )
    missing = _uat(str(tmp_path / "nope.json"))
    assert (missing.returncode, missing.stderr) == (
        2,
        f"Error: SPEC: {tmp_path / 'nope.json'}: no such file\n",
    )
    remote = _uat("https://api.example.com/openapi.json")
    assert remote.returncode == 2 and "refusing spec URL 'api.example.com'" in remote.stderr


def test_json_and_allure_results_are_written(tmp_path: Path) -> None:
    report, results = tmp_path / "review.json", tmp_path / "allure-results"
    done = _uat(
        str(SPECS / "bad-webhook-signature.yaml"), "--json", str(report), "--allure-dir", str(results)
    )
    assert done.returncode == 1, done.stderr
    document = json.loads(report.read_text())
    assert (document["verdict"], document["openapi"]) == ("failed", "3.1.0")
    assert [r["id"] for r in document["rules"] if r["status"] == "failed"] == ["webhook-signature"]
    written = [json.loads(p.read_text()) for p in results.glob("*-result.json")]
    assert len(written) == len(document["rules"]) == 9
    statuses = {r["fullName"].removeprefix("spec-review."): r["status"] for r in written}
    assert statuses == {
        r["id"]: {"not_applicable": "skipped"}.get(r["status"], r["status"]) for r in document["rules"]
    }


def test_json_to_stdout_keeps_the_table_on_stderr() -> None:
    done = _uat(str(SPECS / "good.yaml"), "--json", "-")
    assert done.returncode == 0
    assert json.loads(done.stdout)["verdict"] == "passed"
    assert "spec review PASSED" in done.stderr


def test_an_unwritable_json_file_is_a_usage_error(tmp_path: Path) -> None:
    done = _uat(str(SPECS / "good.yaml"), "--json", str(tmp_path / "no-such-dir" / "review.json"))
    assert done.returncode == 2 and "--json:" in done.stderr


def test_the_reference_middleware_passes_every_rule() -> None:
    """The bundled reference middleware's spec: since it got API keys (issue #13) every operation but
    health, metrics, the spec and the signed Stripe webhook declares bearer security and documents 401,
    403 and 429 (with Retry-After), and it takes money as decimal strings (NewOrder.limit_price,
    AccountPatch.daily_loss_limit), so it passes. Lists it has none of: pagination is not applicable."""
    done = _uat("reference", "--json", "-")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    rules = {r["id"]: r for r in json.loads(done.stdout)["rules"]}
    assert {r["status"] for r in rules.values()} == {"passed", "not_applicable"}
    for rule in ("valid-openapi", "webhook-signature", "security-scheme", "auth-responses", "decimal-money"):
        assert rules[rule]["status"] == "passed", rules[rule]
    assert rules["idempotency-key"]["status"] == "passed"  # client_order_id is required in NewOrder

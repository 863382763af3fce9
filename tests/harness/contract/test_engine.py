"""A contract run against a live API with deliberate bugs (brokenapp.py, its own process): each bug
fails the check that names it, with the curl commands that reproduce it; a check with nothing to
judge is NOT RUN with its reason; the same seed sends the same cases."""

from __future__ import annotations

import json
import os
import re
from typing import Any

import pytest

from harness.contract import Budget, ContractRun, run_contract, to_json
from harness.exitcodes import UsageFailure
from tests.harness.contract.brokenapp import SPEC
from tests.harness.contract.conftest import running_broken_app


def _run(base_url: str, seed: int = 3, **kw: Any) -> ContractRun:
    budget = Budget(seed=seed, max_examples=kw.pop("max_examples", 5), time_budget_s=kw.pop("budget", 30.0))
    return run_contract(SPEC, target="broken", spec="brokenapp", base_url=base_url, budget=budget, **kw)


def test_every_seeded_bug_fails_the_check_that_names_it_with_a_curl_command(broken_app: str) -> None:
    run = _run(broken_app)
    assert (run.verdict, run.exit_code, run.stopped) == ("failed", 1, "completed")
    failed = {(op.label, o.check) for op in run.operations for o in op.outcomes if o.status == "failed"}
    assert {
        ("POST /items", "not_a_server_error"),
        ("GET /items/{item_id}", "response_schema_conformance"),
        ("GET /items/{item_id}", "use_after_free"),
        ("GET /secret", "ignored_auth"),
    } <= failed
    ops = {op.label: op for op in run.operations}
    crash = ops["POST /items"].outcome("not_a_server_error").failures[0]
    assert (
        crash.status_code == 500
        and crash.curl.startswith("curl -X POST ")
        and f"{broken_app}/items" in crash.curl
    )
    stale = ops["GET /items/{item_id}"].outcome("use_after_free").failures[0]
    steps = stale.curl.splitlines()  # the whole sequence: create, delete, read
    assert [s.split()[2] for s in steps] == ["POST", "DELETE", "GET"] and stale.status_code == 200
    assert any(
        "name" in f.message
        for f in ops["GET /items/{item_id}"].outcome("response_schema_conformance").failures
    )
    ping = ops["GET /ping"]
    assert not ping.failed and ping.outcome("not_a_server_error").status == "passed"
    assert (
        ping.outcome("ignored_auth").reason == "the spec declares no security requirement for this operation"
    )
    assert ops["GET /secret"].outcome("negative_data_rejection").status == "not_run"


def _normalized(run: ContractRun) -> str:
    document = to_json(run)
    document.pop("wall_s")
    return re.sub(r"127\.0\.0\.1:\d+", "HOST", json.dumps(document))


def test_the_same_seed_sends_the_same_cases_and_another_seed_others() -> None:
    runs = {}
    for name, seed in (("first", 5), ("again", 5), ("other", 6)):
        with running_broken_app() as base_url:  # each from an empty store
            runs[name] = _normalized(_run(base_url, seed=seed, max_examples=3))
    assert runs["first"] == runs["again"]
    assert runs["first"] != runs["other"]


def test_a_spent_time_budget_stops_the_run_and_says_so(broken_app: str) -> None:
    run = _run(broken_app, budget=0.05, exclude=("GET /secret",))
    assert run.stopped == "time_budget" and run.excluded == ("GET /secret",)
    assert "GET /secret" not in {op.label for op in run.operations}
    reasons = [o.reason for op in run.operations for o in op.outcomes if o.status == "not_run"]
    assert any(r.endswith("(the time budget ran out first)") for r in reasons)


def test_a_target_that_does_not_answer_fails_with_the_error_named() -> None:
    run = _run("http://127.0.0.1:9", max_examples=2)  # the discard port: nothing listens
    assert (run.verdict, run.exit_code) == ("failed", 1)
    for op in run.operations:
        assert op.errors and op.errors[0].startswith("Network Error: Connection failed")
        assert {o.status for o in op.outcomes} == {"not_run"}
    reasons = {o.reason for o in run.operations[0].outcomes}
    assert "no case was answered (see the operation's errors)" in reasons


def test_an_exclusion_the_spec_does_not_have_is_a_usage_error() -> None:
    with pytest.raises(UsageFailure, match=r"contract.exclude\[1\]: no operation 'GET /nope' in brokenapp"):
        _run("http://127.0.0.1:9", exclude=("GET /ping", "GET /nope"))


def test_a_spec_schemathesis_cannot_load_is_a_usage_error() -> None:
    with pytest.raises(UsageFailure, match=r"contract\.spec: brokenapp: Schemathesis cannot load it"):
        run_contract(
            {"openapi": "9.9.9", "info": {}, "paths": {}},
            target="broken",
            spec="brokenapp",
            base_url="http://127.0.0.1:9",
            budget=Budget(1, 1, 1.0),
        )


def test_a_proxy_in_the_environment_does_not_take_the_targets_requests(
    broken_app: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """requests honours HTTP_PROXY: a dead proxy would turn every case into a transport error
    blamed on the target, unless the run names the target's host in NO_PROXY."""
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "example.test")
    monkeypatch.delenv("no_proxy", raising=False)
    run = _run(broken_app, max_examples=2)
    assert not run.errors, run.errors
    assert any(o.status == "passed" for op in run.operations for o in op.outcomes)
    assert "127.0.0.1" in os.environ["NO_PROXY"].split(",") and "example.test" in os.environ["NO_PROXY"]

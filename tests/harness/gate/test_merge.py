"""`uat report DIR... --out OUT`: shards' report dirs merged into one gate, and the merges it refuses.
Fast: each shard's dir is written by the gate's own writers (harness.gate.outputs) from records
shaped like a real run's, with allure-results files named as allure-pytest names them."""

from __future__ import annotations

import json
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.gate import merge, outputs, status
from harness.gate.shard import Shard, assign

SELECTION = ("MALFORMED-GARBAGE-FRAME", "WEBHOOK-DUPLICATE", "WEBHOOK-REORDER")


class Sc:
    def __init__(self, sid: str) -> None:
        self.id = sid
        self.steady_s, self.fault_s, self.recovery_s = 2.0, 0.0, 3.0


def record(sid: str, state: str = "passed", seed: int = 7) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "id": sid,
        "title": sid.lower(),
        "suite": "webhooks",
        "seed": seed,
        "reproduce": f"uat reproduce {sid} --seed {seed}",
        "status": state,
        "reason": state,
        "duration_s": 2.5,
        "missing_evidence": ["no fill at the venue"] if state == "inconclusive" else [],
        "failing_checks": [{"check": "no_lost_fill", "summary": "lost 1 fill"}] if state == "failed" else [],
        "skipped_checks": [],
    }
    if state == "skipped":
        rec["reason"] = "not applicable to this target: no venue `tt`"
    if state == "harness_error":
        rec["error"] = "OSError: port in use"
    return rec


def write_shard(
    root: Path,
    index: int,
    count: int,
    *,
    selection: tuple[str, ...] = SELECTION,
    states: dict[str, str] | None = None,
    seed: int = 7,
    build: dict[str, Any] | None = None,
    target: dict[str, str] | None = None,
    strict: bool = False,
    ran: list[str] | None = None,
) -> Path:
    """A shard's report dir as `uat gate --shard index/count` writes it."""
    scenarios = [Sc(sid) for sid in selection]
    mine = assign(scenarios, Shard(index, count))
    records = [
        record(s.id, (states or {}).get(s.id, "passed"), seed) for s in mine if ran is None or s.id in ran
    ]
    rc = status.pytest_rc([1 if any(r["status"] in ("failed", "inconclusive") for r in records) else 0])
    code = status.exit_code(records, len(mine), rc, strict=strict) if mine else 0
    meta = {
        "verdict": status.VERDICTS[code] if mine else "empty_shard",
        "exit_code": code,
        "strict": strict,
        "counts": status.counts(records),
        "target": "reference",
        "target_identity": target or {"name": "reference", "sha256": "abc"},
        "build": build or {"image": "", "env": {}, "harness_commit": "c0ffee", "label": ""},
        "seed": seed,
        "backend": "auto",
        "wall_time_s": 10.0 * index,
        "started_at": f"2026-01-01T00:00:0{index}Z",
        "pytest_exit": rc,
        "shard": outputs.shard_meta(Shard(index, count), scenarios, mine),
    }
    report = root / f"shard-{index}-of-{count}"
    outputs.write(report, meta, records)
    results = report / outputs.RESULTS
    results.mkdir()
    for r in records:
        test = str(uuid.uuid4())
        (results / f"{test}-result.json").write_text(json.dumps({"uuid": test, "name": r["id"]}))
        (results / f"{uuid.uuid4()}-container.json").write_text(json.dumps({"children": [test]}))
        (results / f"{uuid.uuid4()}-attachment.txt").write_text(r["reproduce"])
    (results / "environment.properties").write_text(f"seed={seed}\nshard={index}\n")
    (results / "categories.json").write_text("[]")
    return report


def uat_report(*args: str) -> Any:
    return CliRunner().invoke(main, ["report", *args, "--no-html"])


def test_two_shards_merge_into_one_gate_with_every_scenario_once(tmp_path: Path) -> None:
    one, two = write_shard(tmp_path, 1, 2), write_shard(tmp_path, 2, 2)
    out = tmp_path / "merged"
    result = uat_report(str(two), str(one), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "merged shards 1/2, 2/2 of a selection of 3 scenarios" in result.output
    assert "gate PASSED: 3/3 scenarios passed, seed 7" in result.output
    gate = json.loads((out / "gate.json").read_text())
    assert [r["id"] for r in gate["scenarios"]] == list(SELECTION)
    assert gate["exit_code"] == 0 and gate["verdict"] == "passed"
    assert gate["merged"]["missing"] == [] and gate["merged"]["complete"] is True
    assert gate["wall_time_s"] == 20.0, "shards run side by side: the merge took as long as the slowest"
    suite = ET.parse(out / "junit.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("tests") == "3" and suite.get("failures") == "0"
    assert "# UAT gate: PASSED" in (out / "gate-summary.md").read_text()
    results = sorted(p.name for p in (out / "allure-results").iterdir())
    assert sum(n.endswith("-result.json") for n in results) == 3
    assert sum(n.endswith("-container.json") for n in results) == 3
    assert sum("-attachment" in n for n in results) == 3
    environment = (out / "allure-results" / "environment.properties").read_text()
    assert environment.startswith("seed=7\nshard=1\n") and "merged_shards=1/2, 2/2" in environment


def test_a_missing_shard_is_named_and_the_merge_does_not_pass(tmp_path: Path) -> None:
    three = [write_shard(tmp_path, k, 3) for k in (1, 3)]
    out = tmp_path / "merged"
    result = uat_report(*map(str, three), "--out", str(out))
    assert result.exit_code == 1, result.output
    gate = json.loads((out / "gate.json").read_text())
    missing_ids = gate["merged"]["not_run"]
    assert gate["merged"]["missing"] == [2] and len(missing_ids) == 1
    assert f"incomplete: shard 2/3 missing: not run: {missing_ids[0]}" in result.output
    assert "gate FAILED (incomplete: shard 2/3 missing)" in result.output
    assert "incomplete: shard 2/3 missing" in (out / "gate-summary.md").read_text()
    case = ET.parse(out / "junit.xml").getroot().find("testsuite/testcase[@name='shard 2/3']")
    assert case is not None and case.find("failure") is not None, "CI must see the hole"


@pytest.mark.parametrize(
    ("states", "code"),
    [
        ({"WEBHOOK-REORDER": "failed"}, 1),
        ({"WEBHOOK-DUPLICATE": "inconclusive"}, 1),
        ({"MALFORMED-GARBAGE-FRAME": "harness_error"}, 3),
        ({"WEBHOOK-REORDER": "failed", "MALFORMED-GARBAGE-FRAME": "config_error"}, 2),
        ({sid: "skipped" for sid in SELECTION}, 1),  # judged nothing, across every shard: not a pass
        ({"WEBHOOK-DUPLICATE": "skipped", "WEBHOOK-REORDER": "skipped"}, 0),  # a skip-only shard
    ],
)
def test_the_merged_exit_code_follows_the_gates_rules(
    tmp_path: Path, states: dict[str, str], code: int
) -> None:
    dirs = [write_shard(tmp_path, k, 2, states=states) for k in (1, 2)]
    merged = merge.merge([merge.load(d) for d in dirs])
    records = [record(sid, states.get(sid, "passed")) for sid in SELECTION]
    assert merged.exit_code == code == status.exit_code(records, 3, 1 if code == 1 else 0)


def test_a_shard_that_lost_a_scenario_is_a_harness_error(tmp_path: Path) -> None:
    one = write_shard(tmp_path, 1, 1, ran=["WEBHOOK-DUPLICATE"])
    assert merge.merge([merge.load(one)]).exit_code == 3


def test_an_empty_shard_merges_as_present(tmp_path: Path) -> None:
    dirs = [write_shard(tmp_path, k, 4) for k in (1, 2, 3, 4)]
    assert json.loads((dirs[3] / "gate.json").read_text())["verdict"] == "empty_shard"
    merged = merge.merge([merge.load(d) for d in dirs])
    assert merged.exit_code == 0 and merged.missing == [] and len(merged.records) == 3


def _refused(tmp_path: Path, *dirs: Path) -> str:
    result = uat_report(*map(str, dirs), "--out", str(tmp_path / "merged"))
    assert result.exit_code == 2, result.output
    assert not (tmp_path / "merged" / "gate.json").exists(), "a refused merge writes nothing"
    return str(result.output)


def test_runs_of_different_seeds_are_refused(tmp_path: Path) -> None:
    a, b = write_shard(tmp_path / "a", 1, 2, seed=7), write_shard(tmp_path / "b", 2, 2, seed=8)
    assert "cannot merge runs of different seeds" in _refused(tmp_path, a, b)


def test_runs_of_different_targets_are_refused(tmp_path: Path) -> None:
    a = write_shard(tmp_path / "a", 1, 2)
    b = write_shard(tmp_path / "b", 2, 2, target={"name": "reference", "sha256": "edited"})
    assert "cannot merge runs of different targets" in _refused(tmp_path, a, b)


@pytest.mark.parametrize(
    "build",
    [
        {"image": "", "env": {"REFMW_MUTANTS": "admin_coupled"}, "harness_commit": "c0ffee", "label": ""},
        {"image": "", "env": {}, "harness_commit": "decade", "label": ""},
        {"image": "", "env": {}, "harness_commit": "c0ffee", "label": "agency-1.2.4"},
    ],
)
def test_runs_of_different_builds_are_refused(tmp_path: Path, build: dict[str, Any]) -> None:
    a, b = write_shard(tmp_path / "a", 1, 2), write_shard(tmp_path / "b", 2, 2, build=build)
    assert "cannot merge runs of different builds" in _refused(tmp_path, a, b)


def test_strict_and_lenient_shards_are_refused(tmp_path: Path) -> None:
    a, b = write_shard(tmp_path / "a", 1, 2), write_shard(tmp_path / "b", 2, 2, strict=True)
    assert "different strictness" in _refused(tmp_path, a, b)


def test_shards_of_different_splits_or_selections_are_refused(tmp_path: Path) -> None:
    a, b = write_shard(tmp_path / "a", 1, 2), write_shard(tmp_path / "b", 2, 3)
    assert "different splits" in _refused(tmp_path, a, b)
    c = write_shard(tmp_path / "c", 2, 2, selection=(*SELECTION, "WEBHOOK-BAD-SIGNATURE"))
    assert "different selections" in _refused(tmp_path, a, c)


def test_the_same_shard_twice_is_refused(tmp_path: Path) -> None:
    a, b = write_shard(tmp_path / "a", 1, 2), write_shard(tmp_path / "b", 1, 2)
    assert f"shard 1/2 given twice: {a} and {b}" in _refused(tmp_path, a, b)


def test_overlapping_scenarios_are_refused(tmp_path: Path) -> None:
    # two unsharded runs are each shard 1/1: refused as the same shard twice; a forged share as overlap
    a, b = write_shard(tmp_path / "a", 1, 1), write_shard(tmp_path / "b", 1, 1)
    assert "shard 1/1 given twice" in _refused(tmp_path, a, b)
    one, two = write_shard(tmp_path / "c", 1, 2), write_shard(tmp_path / "d", 2, 2)
    data = json.loads((two / "gate.json").read_text())
    data["shard"]["scenarios"].append(data["shard"]["selection"][0])
    (two / "gate.json").write_text(json.dumps(data))
    assert "overlapping scenarios" in _refused(tmp_path, one, two)


def test_the_same_allure_file_in_two_shards_is_refused(tmp_path: Path) -> None:
    one, two = write_shard(tmp_path, 1, 2), write_shard(tmp_path, 2, 2)
    copied = next((one / "allure-results").glob("*-result.json"))
    (two / "allure-results" / copied.name).write_text(copied.read_text())
    assert f"overlapping results: {copied.name}" in _refused(tmp_path, one, two)


def test_a_dir_without_gate_json_or_missing_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert "no gate.json" in _refused(tmp_path, tmp_path / "empty")
    assert "no such directory" in _refused(tmp_path, tmp_path / "nope")


def test_out_may_not_be_an_input_and_dirs_need_out(tmp_path: Path) -> None:
    one = write_shard(tmp_path, 1, 1)
    result = uat_report(str(one), "--out", str(one))
    assert result.exit_code == 2 and "--out" in result.output
    result = CliRunner().invoke(main, ["report", str(one), str(one)])
    assert result.exit_code == 2 and "needs --out OUT" in result.output


def test_a_merge_writes_over_a_previous_merge(tmp_path: Path) -> None:
    one, two = write_shard(tmp_path, 1, 2), write_shard(tmp_path, 2, 2)
    out = tmp_path / "merged"
    (out / "allure-results").mkdir(parents=True)
    (out / "allure-results" / "stale-result.json").write_text("{}")
    assert uat_report(str(one), str(two), "--out", str(out)).exit_code == 0
    assert not (out / "allure-results" / "stale-result.json").exists()

"""Runs the gate: pytest in-process over harness/gate/suite.py with the plugin, a live progress
display, then gate.json, gate-summary.md, JUnit XML and the single-file Allure HTML."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from harness.exitcodes import EXIT_OK, Interrupted

from . import outputs, plugin, shard, status
from .reporting import ProgressHook
from .shard import Shard

SUITE_FILE = Path(__file__).with_name("suite.py")


class GateUsageError(ValueError):
    """A bad target file, suite or scenario id: exit 2."""


@dataclass
class GateConfig:
    target: str = "reference"
    suites: tuple[str, ...] = ()
    scenarios: tuple[str, ...] = ()
    seed: int | None = None
    backend: str = "auto"
    report_dir: Path | None = None
    html: bool = True
    strict: bool = False  # also fail on a skipped scenario (not applicable) or a skipped check
    shard: Shard | None = None  # run only this shard's share of the selection (harness.gate.shard)


@dataclass
class GateOutcome:
    exit_code: int
    report_dir: Path
    records: list[dict[str, Any]] = field(default_factory=list)
    seed: int = 0
    wall_time_s: float = 0.0
    html: Path | None = None
    html_error: str = ""
    interrupted: bool = False
    pytest_rc: int = 0
    shard: dict[str, Any] | None = None  # gate.json's `shard` when sharded

    @property
    def empty_shard(self) -> bool:
        return self.shard is not None and not self.shard["scenarios"]


@dataclass(frozen=True)
class Plan:
    """What a gate will run: the target, the whole selection, and this run's share of it."""

    target: Any
    selection: list[Any]
    scenarios: list[Any]


class _Collector:
    """Handed to pytest.main: feeds progress to the display and keeps the plugin's state."""

    def __init__(self, progress: ProgressHook) -> None:
        self.progress = progress
        self.state: plugin.GateState | None = None

    @pytest.hookimpl(trylast=True)
    def pytest_configure(self, config: pytest.Config) -> None:
        config.stash[plugin.PROGRESS] = self.progress
        self.state = config.stash.get(plugin.STATE, None)


def plan(config: GateConfig) -> Plan:
    """The target file and the selection, checked before anything starts (GateUsageError: exit 2)."""
    from harness.target import TargetError, load

    if config.shard is not None and config.seed is None:
        raise GateUsageError(
            f"--shard {config.shard}: needs --seed N, the same for every shard, so that the shards run "
            "the same data and can be merged (`uat report DIR... --out OUT`)"
        )
    try:
        target = load(config.target)
    except TargetError as exc:
        raise GateUsageError(str(exc)) from None
    if target.image:
        from harness.containers.target import missing_image

        problem = missing_image(target)  # an image the engine lacks is the file's error: nothing is pulled
        if problem:
            raise GateUsageError(problem)
    try:
        selection = plugin.select(config.suites, config.scenarios)
    except ValueError as exc:
        raise GateUsageError(str(exc)) from None
    mine = selection if config.shard is None else shard.assign(selection, config.shard)
    return Plan(target, selection, mine)


def validate(config: GateConfig) -> list[Any]:
    """The scenarios this run will run (see plan)."""
    return plan(config).scenarios


def default_report_dir() -> Path:
    return Path("reports") / time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())


def run_gate(config: GateConfig, progress: ProgressHook, on_result: Any = None) -> GateOutcome:
    """Exit codes (harness.gate.status): 0 passed; 1 a scenario failed or was inconclusive (or, with
    strict, was skipped or skipped a check); 3 harness error; GateUsageError for 2; KeyboardInterrupt
    propagates after everything is torn down. A shard whose share of the selection is empty runs
    nothing and exits 0 (the merge judges the selection; see README)."""
    from harness.report.allure import write_metadata

    chosen = plan(config)
    selected = chosen.scenarios
    report = config.report_dir or default_report_dir()
    report.mkdir(parents=True, exist_ok=True)
    results = report / outputs.RESULTS
    meta: dict[str, Any] = {
        "target": config.target,
        "target_identity": outputs.target_identity(chosen.target),
        "build": outputs.build_identity(chosen.target),
    }
    sharded = None
    if config.shard is not None:
        sharded = outputs.shard_meta(config.shard, chosen.selection, selected)
        if not selected:
            return _empty_shard(config, report, meta, sharded)
    collector = _Collector(progress)
    args = [
        str(SUITE_FILE),
        # only the plugins the gate uses: autoloading every installed one (locust, schemathesis,
        # hypothesis...) and rewriting their asserts cost about 2 s of every gate's start
        "--disable-plugin-autoload",
        "--assert=plain",
        "-p", "allure_pytest.plugin",
        "-p", "harness.gate.plugin",
        "-p", "no:cacheprovider",
        "-p", "no:randomly",
        "-p", "no:terminal",
        "-s",
        "-o", "addopts=",
        "-W", "ignore",
        f"--alluredir={results}",
        "--clean-alluredir",
        "--target", config.target,
        "--backend", config.backend,
    ]  # fmt: skip
    if config.seed is not None:
        args += ["--seed", str(config.seed)]
    if config.strict:
        args.append("--uat-strict")
    for scenario in selected:
        args += ["--scenario", scenario.id]
    began = time.monotonic()
    rc = pytest.main(args, plugins=[collector])
    wall = time.monotonic() - began
    state = collector.state
    records = state.records if state is not None else []
    seed = state.seed if state is not None else (config.seed or 0)
    if rc == pytest.ExitCode.INTERRUPTED:
        raise Interrupted
    if rc == pytest.ExitCode.USAGE_ERROR:
        raise GateUsageError("pytest refused the gate's arguments (see above)")
    exit_code = status.exit_code(records, len(selected), int(rc), strict=config.strict)
    outcome = GateOutcome(exit_code, report, records, seed, wall, pytest_rc=int(rc), shard=sharded)
    meta = {
        "verdict": status.VERDICTS.get(exit_code, "harness_error"),
        "exit_code": exit_code,
        "strict": config.strict,
        "counts": status.counts(records),
        **meta,
        "seed": seed,
        "backend": config.backend,
        "wall_time_s": round(wall, 1),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - wall)),
        "pytest_exit": int(rc),
    }
    if sharded is not None:
        meta["shard"] = sharded
    if config.strict:
        meta["strict_violations"] = status.strict_violations(records)
    if state is not None and not (results / "environment.properties").exists():
        write_metadata(results, state.environment(), name=f"seed {seed}")
    outputs.write(report, meta, records)
    if config.html:
        outcome.html, outcome.html_error = outputs.build_report_html(results, report)
    return outcome


def _empty_shard(
    config: GateConfig, report: Path, identity: dict[str, Any], sharded: dict[str, Any]
) -> GateOutcome:
    """A shard that the split gives nothing (more shards than scenarios): nothing starts, and its
    outputs say so; exit 0, since the other shards hold the whole selection and the merge judges it
    (where a gate that judged nothing still fails)."""
    (report / outputs.RESULTS).mkdir(exist_ok=True)
    seed = config.seed or 0
    meta = {
        "verdict": "empty_shard",
        "exit_code": EXIT_OK,
        "strict": config.strict,
        "counts": status.counts([]),
        **identity,
        "seed": seed,
        "backend": config.backend,
        "wall_time_s": 0.0,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "pytest_exit": 0,
        "shard": sharded,
    }
    outputs.write(report, meta, [])
    return GateOutcome(EXIT_OK, report, [], seed, 0.0, shard=sharded)

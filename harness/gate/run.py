"""Runs the gate: pytest in-process over harness/gate/suite.py with the plugin, a live progress
display, then gate.json, gate-summary.md, JUnit XML and the single-file Allure HTML."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from . import plugin, status

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


class _Collector:
    """Handed to pytest.main: feeds progress to the display and keeps the plugin's state."""

    def __init__(self, progress: plugin.ProgressHook) -> None:
        self.progress = progress
        self.state: plugin.GateState | None = None

    @pytest.hookimpl(trylast=True)
    def pytest_configure(self, config: pytest.Config) -> None:
        config.stash[plugin.PROGRESS] = self.progress
        self.state = config.stash.get(plugin.STATE, None)


def validate(config: GateConfig) -> list[Any]:
    from harness.target import TargetError, load

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
        return plugin.select(config.suites, config.scenarios)
    except ValueError as exc:
        raise GateUsageError(str(exc)) from None


def default_report_dir() -> Path:
    return Path("reports") / time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())


def run_gate(config: GateConfig, progress: plugin.ProgressHook, on_result: Any = None) -> GateOutcome:
    """Exit codes (harness.gate.status): 0 passed; 1 a scenario failed or was inconclusive (or, with
    strict, was skipped or skipped a check); 3 harness error; GateUsageError for 2; KeyboardInterrupt
    propagates after everything is torn down."""
    from harness.report.allure import write_metadata
    from harness.report.junit import junit_xml
    from harness.report.summary import gate_json, gate_markdown

    selected = validate(config)
    report = config.report_dir or default_report_dir()
    report.mkdir(parents=True, exist_ok=True)
    results = report / "allure-results"
    collector = _Collector(progress)
    args = [
        str(SUITE_FILE),
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
        raise KeyboardInterrupt
    if rc == pytest.ExitCode.USAGE_ERROR:
        raise GateUsageError("pytest refused the gate's arguments (see above)")
    exit_code = status.exit_code(records, len(selected), int(rc), strict=config.strict)
    outcome = GateOutcome(exit_code, report, records, seed, wall)
    meta = {
        "verdict": status.VERDICTS.get(exit_code, "harness_error"),
        "exit_code": exit_code,
        "strict": config.strict,
        "counts": status.counts(records),
        "target": config.target,
        "seed": seed,
        "backend": config.backend,
        "wall_time_s": round(wall, 1),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - wall)),
    }
    if config.strict:
        meta["strict_violations"] = status.strict_violations(records)
    if state is not None and not (results / "environment.properties").exists():
        write_metadata(results, state.environment(), name=f"seed {seed}")
    (report / "gate.json").write_text(gate_json(meta, records))
    (report / "gate-summary.md").write_text(gate_markdown(meta, records))
    (report / "junit.xml").write_text(junit_xml(meta, records))
    if config.html:
        from harness.report.html import ReportError, build_html

        try:
            outcome.html = build_html(results, report / "html")
        except ReportError as exc:
            outcome.html_error = str(exc)
    return outcome

"""The pytest plugin that runs scenarios through the harness: a session topology from
--target/--seed/--backend, one test per scenario selected by --suite/--scenario, and each
result reported to Allure (labels, a step per phase, attachments). The root conftest.py loads
it; `uat gate` drives it in-process.

A harness error (the topology or a mock failing, a HarnessError) is never a failed test: the
test is *broken* and its record says harness_error, so the gate exits 3, not 1."""

from __future__ import annotations

import json
import os
import shlex
import sys
import time
from typing import Any

import pytest

from harness.report.allure import write_metadata

from .reporting import ProgressHook, Steps, report

BACKENDS = ("auto", "binary", "docker", "embedded")
STATE = pytest.StashKey["GateState"]()
PROGRESS = pytest.StashKey[ProgressHook]()


class HarnessFailure(Exception):
    """Raised in a test when the harness, not the middleware, could not run the scenario."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("uat", "stack-uat gate (scenarios run through the harness)")
    group.addoption("--target", default="reference", help="Target file or bundled name (default: reference).")
    group.addoption("--seed", type=int, default=None, help="Fixes data and fault schedule (default: random).")
    group.addoption(
        "--backend",
        default="auto",
        choices=BACKENDS,
        help="Fault plane backend; docker also runs the mocks in containers.",
    )
    group.addoption("--suite", action="append", default=[], help="Only this suite (repeatable).")
    group.addoption("--scenario", action="append", default=[], help="Only this scenario id (repeatable).")
    group.addoption(
        "--uat-strict",
        action="store_true",
        default=False,
        help="Also fail on any skipped scenario (not applicable to the target) or skipped check.",
    )


def select(suites: list[str] | tuple[str, ...], ids: list[str] | tuple[str, ...]) -> list[Any]:
    """The scenarios a --suite/--scenario selection names, in registry order; ValueError names
    the unknown one. No selection: every scenario."""
    from scenarios import SCENARIOS, SUITES

    for suite in suites:
        if suite not in SUITES:
            raise ValueError(f"--suite: unknown suite {suite!r}; known: {', '.join(SUITES)}")
    for sid in ids:
        if sid not in SCENARIOS:
            raise ValueError(f"--scenario: unknown scenario id {sid!r} (see `uat gate --list`)")
    if not suites and not ids:
        return list(SCENARIOS.values())
    wanted = {s.id for suite in suites for s in SUITES[suite]} | set(ids)
    return [s for s in SCENARIOS.values() if s.id in wanted]


def pytest_configure(config: pytest.Config) -> None:
    try:
        scenarios = select(config.getoption("suite"), config.getoption("scenario"))
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    seed = config.getoption("seed")
    if seed is None:
        from .seeds import draw_seed

        seed = draw_seed()
    config.stash[STATE] = GateState(config, scenarios, seed)


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(STATE, None)
    if state is not None:
        state.close()


def pytest_sessionfinish(session: pytest.Session) -> None:
    state = session.config.stash.get(STATE, None)
    results = getattr(session.config.option, "allure_report_dir", None)
    if state is not None and state.strict and session.exitstatus == pytest.ExitCode.OK:
        from .status import strict_violations

        violations = strict_violations(state.records)
        if violations:  # a skipped scenario or check passes pytest, but not a strict gate
            print("strict: " + "; ".join(violations), file=sys.stderr, flush=True)
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if state is not None and results and state.records:
        from pathlib import Path

        state.environment_snapshot = state.environment()
        write_metadata(Path(results), state.environment_snapshot, name=f"seed {state.seed}")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "uat_scenario" in metafunc.fixturenames:
        state = metafunc.config.stash[STATE]
        metafunc.parametrize("uat_scenario", state.scenarios, ids=[s.id for s in state.scenarios])


@pytest.fixture(scope="session")
def uat_gate(pytestconfig: pytest.Config) -> GateState:
    return pytestconfig.stash[STATE]


class GateState:
    def __init__(self, config: pytest.Config, scenarios: list[Any], seed: int) -> None:
        self.config = config
        self.scenarios = scenarios
        self.seed = seed
        self.target_spec: str = config.getoption("target")
        self.backend: str = config.getoption("backend")
        self.strict = bool(config.getoption("uat_strict", False))
        self.records: list[dict[str, Any]] = []
        self._topology: Any = None
        self._startup_error: BaseException | None = None
        self._target: Any = None
        self.environment_snapshot: dict[str, str] = {}

    # -- the session topology, started on first use and shared by every scenario
    def target(self) -> Any:
        if self._target is None:
            from harness.target import load

            self._target = load(self.target_spec)
        return self._target

    def topology(self) -> Any:
        if self._startup_error is not None:
            raise self._startup_error
        if self._topology is None:
            from harness.topology import Topology

            try:
                topo = Topology(
                    self.target(),
                    seed=self.seed,
                    backend=self.backend,  # type: ignore[arg-type]
                    progress=lambda message: print(message, file=sys.stderr, flush=True),
                )
                topo.start()
            except BaseException as exc:
                if not isinstance(exc, Exception):
                    raise
                self._startup_error = exc
                raise
            self._topology = topo
        return self._topology

    def close(self) -> None:
        topo, self._topology = self._topology, None
        if topo is not None:
            topo.stop()

    def progress(self) -> ProgressHook:
        return self.config.stash.get(PROGRESS, lambda *_: None)

    def reproduce_command(self, scenario_id: str) -> str:
        parts = []
        try:
            target = self.target()
        except Exception:
            target = None
        for name in getattr(target, "passthrough_env", ()):
            if os.environ.get(name):
                parts.append(f"{name}={shlex.quote(os.environ[name])}")
        parts += ["uat", "reproduce", scenario_id, "--seed", str(self.seed)]
        if self.target_spec != "reference":
            parts += ["--target", shlex.quote(self.target_spec)]
        if self.backend != "auto":
            parts += ["--backend", self.backend]
        elif self._topology is not None and self._topology.stack.plane.backend_name in ("binary", "embedded"):
            # what `auto` chose (the same toxic code on replay); an auto-chosen docker plane is left to
            # auto, since --backend docker would also move the mocks into containers
            parts += ["--backend", self._topology.stack.plane.backend_name]
        return " ".join(parts)

    def environment(self) -> dict[str, str]:
        from pathlib import Path

        from harness.report.allure import git_commit, versions

        env = {"target": self.target_spec, "seed": str(self.seed), "fault_plane_backend": self.backend}
        topo = self._topology
        if topo is not None:
            plane = topo.stack.plane
            env["fault_plane_backend"] = f"{self.backend}: {getattr(plane, 'backend_name', '?')}"
            env["fault_plane_reason"] = str(getattr(plane, "reason", ""))
        target = self._target
        if target is not None:
            env["target_name"] = target.name
            for name in target.passthrough_env:
                if os.environ.get(name):
                    env[name] = os.environ[name]
        env["git_commit"] = git_commit(Path(__file__).resolve().parents[2])
        env.update({f"version.{k}": v for k, v in versions().items()})
        return env

    # -- one scenario
    def run(self, scenario: Any) -> None:
        import allure

        from harness.scenario import HarnessError, ScenarioRunner
        from harness.target import TargetError
        from harness.topology import TargetNotReady
        from scenarios.docs import section

        dynamic: Any = allure.dynamic  # allure-python is untyped
        dynamic.title(f"{scenario.id}: {scenario.title}")
        dynamic.description(scenario.description)
        dynamic.epic(scenario.venue)
        dynamic.feature(scenario.fault_class)
        dynamic.story(scenario.suite)
        dynamic.severity(scenario.severity)
        if scenario.doc_url:  # the installed scenarios/README.md, on the machine that ran the gate
            dynamic.link(scenario.doc_url, name=f"{scenario.id} documentation")
        # The same section inside the report itself: it travels with the single-file HTML, offline.
        allure.attach("\n".join(section(scenario)), "scenario documentation", "text/markdown", "md")
        dynamic.label("scenario_id", scenario.id)
        dynamic.parameter("seed", self.seed)
        dynamic.parameter("uat_scenario", scenario.id)
        record: dict[str, Any] = {
            "id": scenario.id,
            "title": scenario.title,
            "suite": scenario.suite,
            "venue": scenario.venue,
            "fault_class": scenario.fault_class,
            "severity": scenario.severity,
            "seed": self.seed,
            "reproduce": self.reproduce_command(scenario.id),
        }
        self.records.append(record)
        began = time.monotonic()
        hook = self.progress()
        unmet = self._unmet_needs(scenario)
        if unmet:
            self._not_applicable(record, "; ".join(unmet))
        steps = Steps()

        def progress(sid: str, phase: str, faults: tuple[str, ...]) -> None:
            steps.on_progress(phase, faults)
            hook(sid, phase, faults)

        try:
            try:
                hook(scenario.id, "starting topology", ())
                with allure.step("start the topology (Postgres, fault plane, mocks, middleware)"):
                    topo = self.topology()
                record["reproduce"] = self.reproduce_command(scenario.id)  # names the backend chosen
                result = ScenarioRunner(topo, self.seed, progress=progress).run(scenario)
            except BaseException as exc:
                steps.close(exc)
                raise
            steps.close()
        except TargetNotReady as exc:
            self._middleware_did_not_start(record, began, exc)
        except TargetError as exc:
            self._config_error(record, began, exc)
        except HarnessError as exc:
            if isinstance(exc.__cause__, TargetNotReady):
                self._middleware_did_not_start(record, began, exc.__cause__)
            self._harness_error(record, began, exc)
        except Exception as exc:
            self._harness_error(record, began, exc)
        self._save_lifecycle(record, result)  # before report(), which fails the test of a failed scenario
        report(record, result, self.progress())

    def _save_lifecycle(self, record: dict[str, Any], result: Any) -> None:
        """REPORT/lifecycle/<ID>/lifecycle-snapshot.json: every system's records of the scenario's
        funded traders, for `uat investigate REPORT` long after the mocks are gone."""
        results = getattr(self.config.option, "allure_report_dir", None)
        if not results or not getattr(result, "lifecycle", None):
            return
        from pathlib import Path

        where = Path(results).parent / "lifecycle" / str(record["id"]) / "lifecycle-snapshot.json"
        where.parent.mkdir(parents=True, exist_ok=True)
        where.write_text(json.dumps(result.lifecycle, indent=1, default=str), encoding="utf-8")
        record["lifecycle_snapshot"] = str(where.relative_to(Path(results).parent))

    def _unmet_needs(self, scenario: Any) -> list[str]:
        """What the target lacks for this scenario: venues it is not wired to, adapter operations its
        file does not declare (Scenario.requires), extension toxics a real Toxiproxy lacks."""
        from harness.scenario.evidence import unmet_needs
        from harness.scenario.faults import PLANE_EXTENSIONS

        target = self.target()
        offers = target.offers()
        if PLANE_EXTENSIONS in scenario.requires and self.topology().stack.plane.extensions:
            offers = (*offers, PLANE_EXTENSIONS)
        return unmet_needs(scenario.requires, offers, target.adapter.supports, target.settings)

    def _not_applicable(self, record: dict[str, Any], why: str) -> None:
        """Skipped, with its reason: never run, never passed (and a failure under --strict)."""
        reason = f"not applicable to this target: {why}"
        record.update(status="skipped", duration_s=0.0, reason=reason, missing_evidence=[])
        self.progress()(record["id"], f"SKIPPED: {reason}", ())
        pytest.skip(reason)

    def _middleware_did_not_start(self, record: dict[str, Any], began: float, exc: BaseException) -> None:
        import allure

        record.update(status="failed", duration_s=round(time.monotonic() - began, 2), error=str(exc))
        record["reason"] = f"failed: the middleware did not start ({str(exc).splitlines()[0]})"
        self.progress()(record["id"], "FAILED: the middleware did not start", ())
        record["failing_checks"] = [
            {
                "check": "target_ready",
                "passed": False,
                "summary": str(exc).splitlines()[0],
                "category": "target not ready",
                "evidence": [],
            }
        ]
        allure.attach(str(exc), "middleware log tail (redacted)", allure.attachment_type.TEXT)
        allure.attach(record["reproduce"], "reproduce", allure.attachment_type.TEXT)
        pytest.fail(f"[target not ready] {exc}", pytrace=False)

    def _config_error(self, record: dict[str, Any], began: float, exc: BaseException) -> None:
        """The target file is wrong in a way only running it showed: exit 2, never a verdict."""
        import allure

        record.update(status="config_error", duration_s=round(time.monotonic() - began, 2), error=str(exc))
        record["reason"] = f"the target file is wrong, not a verdict on the middleware: {exc}"
        self.progress()(record["id"], "TARGET FILE ERROR", ())
        allure.attach(
            str(exc), "target file error (not a verdict on the middleware)", allure.attachment_type.TEXT
        )
        raise HarnessFailure(f"[target file error] {exc}") from exc

    def _harness_error(self, record: dict[str, Any], began: float, exc: BaseException) -> None:
        import allure

        message = f"{type(exc).__name__}: {exc}"
        record.update(status="harness_error", duration_s=round(time.monotonic() - began, 2), error=message)
        record["reason"] = f"harness error, not a verdict on the middleware: {message}"
        self.progress()(record["id"], "HARNESS ERROR", ())
        allure.attach(message, "harness error (not a verdict on the middleware)", allure.attachment_type.TEXT)
        raise HarnessFailure(f"[harness error] {message}") from exc


def dumps(records: list[dict[str, Any]]) -> str:
    return json.dumps(records, indent=2, default=str)

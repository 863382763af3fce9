"""The pytest plugin that runs scenarios through the harness: a session topology from
--target/--seed/--backend, one test per scenario selected by --suite/--scenario, and each
result reported to Allure (labels, a step per phase, attachments). The root conftest.py loads
it; `uat gate` drives it in-process.

A harness error (the topology or a mock failing, a HarnessError) is never a failed test: the
test is *broken* and its record says harness_error, so the gate exits 3, not 1."""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import sys
import time
from collections.abc import Callable
from typing import Any

import pytest

from harness.report.allure import write_metadata

BACKENDS = ("auto", "binary", "docker", "embedded")
ProgressHook = Callable[[str, str, tuple[str, ...]], None]
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
        seed = int.from_bytes(os.urandom(3), "big")
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


class _Steps:
    """Allure steps opened and closed as the runner reports its phases."""

    def __init__(self) -> None:
        self.current: Any = None
        self.phase = ""
        self.faults: tuple[str, ...] = ()
        self.started = time.monotonic()

    def on_progress(self, phase: str, faults: tuple[str, ...]) -> None:
        import allure

        if phase != self.phase:
            self.close()
            self.phase = phase
            self.current = allure.step(f"{phase}")
            self.current.__enter__()
        if faults != self.faults:
            at = time.monotonic() - self.started
            title = f"t+{at:.1f} s: " + (
                f"faults active: {', '.join(faults)}" if faults else "faults cleared"
            )
            with allure.step(title):
                pass
            self.faults = faults

    def close(self, exc: BaseException | None = None) -> None:
        step, self.current = self.current, None
        if step is not None:
            if exc is None:
                step.__exit__(None, None, None)
            else:
                step.__exit__(type(exc), exc, exc.__traceback__)


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
        steps = _Steps()

        def progress(sid: str, phase: str, faults: tuple[str, ...]) -> None:
            steps.on_progress(phase, faults)
            hook(sid, phase, faults)

        try:
            try:
                hook(scenario.id, "starting topology", ())
                with allure.step("start the topology (Postgres, fault plane, mocks, middleware)"):
                    topo = self.topology()
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
        self._report(record, result)

    def _unmet_needs(self, scenario: Any) -> list[str]:
        """What the target lacks for this scenario: venues it is not wired to, adapter operations its
        file does not declare (Scenario.requires)."""
        from harness.scenario.evidence import unmet_needs

        target = self.target()
        return unmet_needs(scenario.requires, target.offers(), target.adapter.supports, target.settings)

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

    def _report(self, record: dict[str, Any], result: Any) -> None:
        import allure

        from harness.report.attachments import attach_result

        by_status: dict[str, list[Any]] = {}
        for verdict in result.verdicts:
            by_status.setdefault(verdict.status, []).append(verdict)
        failed, thin = by_status.get("failed", []), by_status.get("no_evidence", [])
        skipped = by_status.get("skipped", [])
        title = (
            f"verdict per check: {len(failed)} failed, {len(thin)} without evidence, {len(skipped)} skipped "
            f"of {len(result.verdicts)}"
        )
        with contextlib.suppress(AssertionError), allure.step(title):  # a failed step, not a raise
            for verdict in result.verdicts:
                _verdict_step(verdict)
            if failed or thin:
                raise AssertionError(", ".join(v.check for v in [*failed, *thin]))
        measured = json.dumps(result.measured.to_json() if result.measured else {})
        with contextlib.suppress(AssertionError), allure.step(f"evidence measured: {measured}"):
            if result.missing:
                raise AssertionError("; ".join(result.missing))
        attach_result(result, record["reproduce"])
        data = result.to_json()
        record.update(
            status=result.status,
            reason=result.reason,
            missing_evidence=result.missing_evidence,
            evidence=data["evidence"],
            duration_s=data["duration_s"],
            phases=data["phases"],
            faults=data["faults"],
            verdicts=[{k: v for k, v in verdict.items() if k != "evidence"} for verdict in data["verdicts"]],
            failing_checks=[v.to_json() for v in failed],
            inconclusive_checks=[v.to_json() for v in thin],
            skipped_checks=[v.to_json() for v in skipped],
        )
        done = {
            "passed": "passed",
            "failed": f"FAILED ({', '.join(v.check for v in failed)})",
            "inconclusive": f"INCONCLUSIVE (no evidence: {_first(result.missing_evidence)})",
        }.get(result.status, result.status)
        self.progress()(record["id"], f"{done} in {record['duration_s']:.1f} s", ())
        if result.status == "failed":
            lines = []
            for v in failed:
                lines.append(f"[{v.category or 'protocol handling'}] {v.check}: {v.summary}")
                if v.diagnosis:
                    lines.append(f"  diagnosis: {v.diagnosis['summary']}")
            if result.missing_evidence:
                lines.append("the run was also short of evidence: " + "; ".join(result.missing_evidence))
            lines.append(f"reproduce: {record['reproduce']}")
            pytest.fail("\n".join(lines), pytrace=False)
        if result.status == "inconclusive":
            lines = ["[no evidence] inconclusive: not enough evidence to judge the middleware"]
            lines += [f"missing: {what}" for what in result.missing_evidence]
            lines.append(f"reproduce: {record['reproduce']}")
            pytest.fail("\n".join(lines), pytrace=False)


def _first(items: list[str], shown: int = 2) -> str:
    more = f"; and {len(items) - shown} more" if len(items) > shown else ""
    return "; ".join(items[:shown]) + more


def _verdict_step(verdict: Any) -> None:
    """One Allure step per check: passed, failed, no evidence (failed, its own words) or skipped."""
    import allure

    label = {"passed": "ok", "failed": "FAILED", "no_evidence": "NO EVIDENCE", "skipped": "skipped"}
    title = f"{verdict.check}: {label.get(verdict.status, verdict.status)}: {verdict.summary}"
    with contextlib.suppress(AssertionError, pytest.skip.Exception), allure.step(title):
        if verdict.diagnosis:
            with allure.step(f"diagnosis: {verdict.diagnosis['summary']}"):
                pass
        if verdict.status in ("failed", "no_evidence"):
            raise AssertionError(verdict.summary)
        if verdict.status == "skipped":
            pytest.skip(verdict.summary)


def dumps(records: list[dict[str, Any]]) -> str:
    return json.dumps(records, indent=2, default=str)

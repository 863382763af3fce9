"""`uat gate --repeat N`: the gate run N times on one build, each run's report in its own subdirectory
(run-01/, run-02/, ...), then each scenario's pass rate in flake.json.

Every run uses the same seed by default (the one given, or one drawn once and printed), so a run that
fails is reproduced by the `uat reproduce` command it prints, and a scenario that fails only some of
the time is flaky against fixed data and a fixed fault schedule; `--seed-step K` gives run k the seed
seed + (k-1)*K instead, to vary the data as well. N is bounded (MAX_RUNS); Ctrl-C stops after the
current run's teardown, and flake.json then holds the runs that completed, marked interrupted."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from harness.exitcodes import EXIT_INTERRUPTED

from . import status
from .reporting import ProgressHook
from .run import GateConfig, GateOutcome, default_report_dir, plan, run_gate
from .seeds import draw_seed

MAX_RUNS = 1000
FLAKE_JSON = "flake.json"


@dataclass
class ScenarioRate:
    id: str
    runs: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(status.STATUSES, 0))
    failed_runs: list[int] = field(default_factory=list)  # runs in which it did not pass or skip
    reproduce: list[str] = field(default_factory=list)  # each distinct command of those runs

    @property
    def judged(self) -> int:
        return self.runs - self.counts["skipped"]

    @property
    def pass_rate(self) -> float | None:
        """Passed over the runs that judged it (not skipped); None if no run judged it."""
        return self.counts["passed"] / self.judged if self.judged else None

    def to_json(self) -> dict[str, Any]:
        rate = self.pass_rate
        return {
            "id": self.id,
            "runs": self.runs,
            **self.counts,
            "pass_rate": None if rate is None else round(rate, 4),
            "failed_runs": self.failed_runs,
            "reproduce": self.reproduce,
        }


@dataclass
class RepeatOutcome:
    exit_code: int
    report_dir: Path
    requested: int
    seeds: list[int]
    runs: list[GateOutcome] = field(default_factory=list)
    scenarios: list[ScenarioRate] = field(default_factory=list)
    interrupted: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "exit_code": self.exit_code,
            "verdict": "interrupted" if self.interrupted else status.VERDICTS.get(self.exit_code, "?"),
            "requested_runs": self.requested,
            "completed_runs": len(self.runs),
            "interrupted": self.interrupted,
            "seed_per_run": self.seeds[: len(self.runs)],
            "runs": [
                {
                    "run": k,
                    "dir": run.report_dir.name,
                    "seed": run.seed,
                    "exit_code": run.exit_code,
                    "verdict": status.VERDICTS.get(run.exit_code, "harness_error"),
                    "wall_time_s": round(run.wall_time_s, 1),
                }
                for k, run in enumerate(self.runs, 1)
            ],
            "scenarios": [rate.to_json() for rate in self.scenarios],
        }


def run_dir(base: Path, run: int, total: int) -> Path:
    return base / f"run-{run:0{max(2, len(str(total)))}d}"


def rates(runs: list[GateOutcome]) -> list[ScenarioRate]:
    """Each scenario's statuses over the runs, in the order the runs listed them."""
    found: dict[str, ScenarioRate] = {}
    for k, run in enumerate(runs, 1):
        for record in run.records:
            rate = found.setdefault(record["id"], ScenarioRate(record["id"]))
            rate.runs += 1
            state = str(record.get("status"))
            rate.counts[state] = rate.counts.get(state, 0) + 1
            if state not in ("passed", "skipped"):
                rate.failed_runs.append(k)
                if record.get("reproduce") and record["reproduce"] not in rate.reproduce:
                    rate.reproduce.append(record["reproduce"])
    return list(found.values())


def run_repeated(
    config: GateConfig,
    repeat: int,
    progress: ProgressHook,
    *,
    seed_step: int = 0,
    on_run: Callable[[int, GateOutcome], None] | None = None,
    jobs: int = 1,
) -> RepeatOutcome:
    """Run the gate `repeat` times, each as `jobs` shards side by side where jobs > 1
    (GateUsageError from the first run's checks: exit 2). The exit
    code is status.worst over the runs: 1 if any scenario failed or was inconclusive in any run;
    130 when interrupted (flake.json still written)."""
    if not 1 <= repeat <= MAX_RUNS:
        raise ValueError(f"--repeat: must be between 1 and {MAX_RUNS}, not {repeat}")
    plan(config)  # a bad target, selection or shard: exit 2 before anything runs
    base = config.report_dir or default_report_dir()
    first = config.seed if config.seed is not None else draw_seed()
    seeds = [first + k * seed_step for k in range(repeat)]
    outcome = RepeatOutcome(0, base, repeat, seeds)
    try:
        for k in range(1, repeat + 1):
            one = replace(config, seed=seeds[k - 1], report_dir=run_dir(base, k, repeat))
            result = run_gate(one, progress) if jobs == 1 else _run_jobs(one, jobs, progress)
            outcome.runs.append(result)
            if on_run is not None:
                on_run(k, result)
    except KeyboardInterrupt:
        outcome.interrupted = True
    outcome.scenarios = rates(outcome.runs)
    codes = [run.exit_code for run in outcome.runs]
    outcome.exit_code = EXIT_INTERRUPTED if outcome.interrupted else status.worst(codes)
    base.mkdir(parents=True, exist_ok=True)
    (base / FLAKE_JSON).write_text(json.dumps(outcome.to_json(), indent=2) + "\n")
    return outcome


def _run_jobs(config: GateConfig, jobs: int, progress: ProgressHook) -> GateOutcome:
    """One run as `jobs` shards side by side (harness.gate.jobs), as a GateOutcome."""
    from .jobs import run_jobs

    done = run_jobs(config, jobs, progress)
    return GateOutcome(
        done.exit_code,
        done.report_dir,
        records=done.merged.records,
        seed=done.seed,
        wall_time_s=done.wall_time_s,
        html=done.html,
        html_error=done.html_error,
    )

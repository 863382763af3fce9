"""`uat gate` (one run, one shard of it, or N repeats) and `uat reproduce`: options in, the live
display, then one line per scenario and the verdict out, with the gate's exit code."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..exitcodes import EXIT_INTERRUPTED, EXIT_NAMES, UsageFailure
from .display import Display

if TYPE_CHECKING:
    from ..gate import GateConfig, GateOutcome
    from ..gate.repeat import RepeatOutcome

BACKEND = click.Choice(["auto", "binary", "docker", "embedded"])
BACKEND_HELP = "Where the fault plane runs; docker also runs the mocks in containers."
MAX_RUNS_HELP = 1000  # harness.gate.repeat.MAX_RUNS, which a test holds this to (the help is lazy)
INTERRUPTED = "interrupted: every process, port and temp dir of this run was torn down"


def _quiet_logging() -> None:
    if logging.getLogger().level == logging.INFO:  # the live display is the progress report
        logging.getLogger().setLevel(logging.WARNING)


def run_and_report(config: GateConfig, *, show_html: bool) -> None:
    """One gate run (or one shard of it) with the live display, then its report; exits."""
    from ..gate import GateUsageError, run_gate

    _quiet_logging()
    display = Display()
    try:
        with display:
            outcome = run_gate(config, display.progress)
    except GateUsageError as exc:
        raise UsageFailure(str(exc)) from None
    except KeyboardInterrupt:
        click.echo(INTERRUPTED, err=True)
        sys.exit(EXIT_INTERRUPTED)
    print_outcome(outcome, strict=config.strict)
    if show_html:
        if outcome.html is not None:
            click.echo(f"html report: {outcome.html}")
        elif outcome.html_error:
            click.echo(f"html report not built: {outcome.html_error}", err=True)
    sys.exit(outcome.exit_code)


def print_records(records: list[dict[str, Any]]) -> None:
    """One line per scenario; for each that did not simply pass, why, and how to reproduce it."""
    for record in records:
        status = record.get("status")
        line = f"{record['id']}: {status}"
        if status == "failed":
            checks = ", ".join(c["check"] for c in record.get("failing_checks", []))
            line += f" ({checks})"
        elif status == "skipped":
            line += f" ({record.get('reason', '')})"
        click.echo(line)
        for check in record.get("failing_checks", []):
            click.echo(f"  {check['check']}: {check['summary']}")
            if check.get("diagnosis"):
                click.echo(f"    diagnosis: {check['diagnosis']['summary']}")
        for missing in record.get("missing_evidence", []):
            click.echo(f"  no evidence: {missing}")
        for check in record.get("skipped_checks", []):
            click.echo(f"  {check['check']} skipped: {check['summary']}")
        if status == "harness_error":
            click.echo(f"  harness error, not a verdict on the middleware: {record.get('error', '')}")
        if status == "config_error":
            click.echo(f"  target file error, not a verdict on the middleware: {record.get('error', '')}")
        if status not in ("passed", "skipped"):
            click.echo(f"  reproduce: {record['reproduce']}")


def verdict_line(
    exit_code: int,
    records: list[dict[str, Any]],
    *,
    strict: bool,
    seed: int,
    wall_s: float,
    report: Path,
    note: str = "",
) -> str:
    from ..gate.status import counts

    n = counts(records)
    others = ", ".join(
        f"{n[s]} {s.replace('_', ' ')}"
        for s in ("failed", "inconclusive", "skipped", "harness_error", "config_error")
        if n[s]
    )
    return (
        f"gate {EXIT_NAMES[exit_code]}{' (strict)' if strict else ''}{f' ({note})' if note else ''}: "
        f"{n['passed']}/{len(records)} "
        f"scenarios passed{f' ({others})' if others else ''}, seed {seed}, "
        f"{wall_s:.0f} s; report in {report}"
    )


def print_outcome(outcome: GateOutcome, *, strict: bool) -> None:
    shard = outcome.shard
    if shard is not None:
        click.echo(
            f"shard {shard['index']}/{shard['count']}: {len(shard['scenarios'])} of the "
            f"{len(shard['selection'])} selected scenarios"
        )
    if outcome.empty_shard:
        click.echo(
            "this shard's share of the selection is empty (more shards than scenarios): nothing ran here, "
            "and it is not a pass by itself; merge every shard with `uat report DIR... --out OUT` "
            f"for the verdict; report in {outcome.report_dir}"
        )
        return
    print_verdict(
        outcome.records,
        outcome.exit_code,
        strict=strict,
        seed=outcome.seed,
        wall_s=outcome.wall_time_s,
        report=outcome.report_dir,
    )


def print_verdict(
    records: list[dict[str, Any]],
    exit_code: int,
    *,
    strict: bool,
    seed: int,
    wall_s: float,
    report: Path,
    note: str = "",
) -> None:
    """Each scenario's line, what --strict adds, a gate that judged nothing, then the verdict line."""
    from ..gate.status import counts, strict_violations

    print_records(records)
    if strict:
        for violation in strict_violations(records):
            click.echo(f"strict: {violation}")
    if records and counts(records)["skipped"] == len(records):
        click.echo("no selected scenario applies to this target: the gate judged nothing, so it did not pass")
    click.echo(
        verdict_line(exit_code, records, strict=strict, seed=seed, wall_s=wall_s, report=report, note=note)
    )


def run_jobs_and_report(config: GateConfig, jobs: int) -> None:
    """`--jobs N`: the gate as N shards side by side, merged into one report; exits."""
    from ..gate import GateUsageError
    from ..gate.jobs import JobFailed, run_jobs

    _quiet_logging()
    display = Display()
    try:
        with display:
            outcome = run_jobs(config, jobs, display.progress)
    except GateUsageError as exc:
        raise UsageFailure(str(exc)) from None
    except JobFailed as exc:
        click.echo(str(exc), err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo(INTERRUPTED, err=True)
        sys.exit(EXIT_INTERRUPTED)
    print_verdict(
        outcome.merged.records,
        outcome.exit_code,
        strict=config.strict,
        seed=outcome.seed,
        wall_s=outcome.wall_time_s,
        report=outcome.report_dir,
        note=f"{jobs} jobs side by side, merged",
    )
    if outcome.html is not None:
        click.echo(f"html report: {outcome.html}")
    elif outcome.html_error:
        click.echo(f"html report not built: {outcome.html_error}", err=True)
    sys.exit(outcome.exit_code)


def run_repeats(config: GateConfig, repeat: int, seed_step: int, jobs: int = 1) -> None:
    """`--repeat N`: the gate N times, one line per run, then each scenario's pass rate; exits."""
    from ..gate import GateUsageError
    from ..gate.jobs import JobFailed
    from ..gate.repeat import run_repeated

    _quiet_logging()
    display = Display()
    current = [1]

    def progress(sid: str, phase: str, faults: tuple[str, ...]) -> None:
        display.progress(sid, f"run {current[0]}/{repeat}: {phase}", faults)

    def on_run(k: int, run: GateOutcome) -> None:
        current[0] = k + 1
        failing = [r["id"] for r in run.records if r.get("status") not in ("passed", "skipped")]
        click.echo(
            f"run {k}/{repeat}: {EXIT_NAMES.get(run.exit_code, '?')}, seed {run.seed}, "
            f"{run.wall_time_s:.0f} s" + (f" (did not pass: {', '.join(failing)})" if failing else "")
        )

    try:
        with display:
            outcome = run_repeated(config, repeat, progress, seed_step=seed_step, on_run=on_run, jobs=jobs)
    except GateUsageError as exc:
        raise UsageFailure(str(exc)) from None
    except JobFailed as exc:
        click.echo(str(exc), err=True)
        sys.exit(exc.exit_code)
    print_rates(outcome, seed_step)
    sys.exit(outcome.exit_code)


def print_rates(outcome: RepeatOutcome, seed_step: int) -> None:
    done = len(outcome.runs)
    if outcome.interrupted:
        click.echo(f"{INTERRUPTED}; {done} of {outcome.requested} runs completed", err=True)
    seeds = (
        f"seed {outcome.seeds[0]} in every run"
        if seed_step == 0
        else f"seeds {outcome.seeds[0]}, {outcome.seeds[0] + seed_step}, ... (step {seed_step})"
    )
    click.echo(f"pass rate per scenario over {done} run{'s' if done != 1 else ''} ({seeds}):")
    for rate in outcome.scenarios:
        shown = "n/a (skipped)" if rate.pass_rate is None else f"{rate.pass_rate:6.1%}"
        line = f"  {rate.id:<44} {rate.counts['passed']:>4}/{rate.judged:<4} {shown}"
        if rate.failed_runs:
            line += f"  did not pass in run {', '.join(map(str, rate.failed_runs))}"
        click.echo(line)
        for command in rate.reproduce:
            click.echo(f"    reproduce: {command}")
    flaky = [r.id for r in outcome.scenarios if r.failed_runs]
    verdict = "INTERRUPTED" if outcome.interrupted else EXIT_NAMES.get(outcome.exit_code, "?")
    click.echo(
        f"flake {verdict}: {len(flaky)} of {len(outcome.scenarios)} scenarios did not pass every run; "
        f"flake.json in {outcome.report_dir}"
    )


@click.command()
@click.option(
    "--target", "target_spec", default="reference", show_default=True, help="Target file or bundled name."
)
@click.option("--suite", "suites", multiple=True, help="Only this suite (repeatable); default: every suite.")
@click.option("--scenario", "scenario_ids", multiple=True, help="Only this scenario id (repeatable).")
@click.option(
    "--seed", type=int, default=None, help="Fixes data and fault schedules (default: random, printed)."
)
@click.option(
    "--report", "report_dir", type=click.Path(file_okay=False), help="Default: reports/<timestamp>/."
)
@click.option("--backend", default="auto", show_default=True, type=BACKEND, help=BACKEND_HELP)
@click.option("--no-html", is_flag=True, help="Skip the single-file HTML (allure-results are still written).")
@click.option(
    "--strict",
    is_flag=True,
    help="Also fail (exit 1) on any skipped scenario (not applicable to the target) or skipped check.",
)
@click.option(
    "--shard",
    "shard_spec",
    metavar="I/N",
    help="Run only shard I of N of the selection (needs --seed); merge the shards with `uat report --out`.",
)
@click.option(
    "--repeat",
    type=int,
    default=None,
    metavar="N",
    help=f"Run the gate N times (1 to {MAX_RUNS_HELP}), each in REPORT/run-NN/, and report each "
    "scenario's pass rate (flake.json).",
)
@click.option(
    "--seed-step",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="With --repeat: run k uses seed + (k-1)*STEP; 0 keeps one seed for every run.",
)
@click.option(
    "--jobs",
    type=int,
    default=1,
    show_default=True,
    metavar="N",
    help="Run the selection as N shards side by side, each with its own topology, merged into one "
    "report (2 on a 2-core machine about halves the wall time).",
)
@click.option("--list", "list_only", is_flag=True, help="List the suites and scenarios, then exit.")
def gate(
    target_spec: str,
    suites: tuple[str, ...],
    scenario_ids: tuple[str, ...],
    seed: int | None,
    report_dir: str | None,
    backend: str,
    no_html: bool,
    strict: bool,
    shard_spec: str | None,
    repeat: int | None,
    seed_step: int,
    jobs: int,
    list_only: bool,
) -> None:
    """Run the UAT gate. Exit 0 passed, 1 failed (a scenario failed or was inconclusive: too little
    evidence to judge; with --strict, also skipped), 2 usage or configuration error, 3 harness error.

    Writes allure-results/, html/index.html (one file), gate.json, gate-summary.md and junit.xml
    into the report dir.
    """
    from ..gate import GateConfig
    from ..gate.shard import parse

    if list_only:
        from scenarios import SUITES

        for suite, members in SUITES.items():
            click.echo(suite)
            for scenario in members:
                click.echo(f"  {scenario.id}  {scenario.title}")
        return
    try:
        shard = parse(shard_spec) if shard_spec is not None else None
    except ValueError as exc:
        raise UsageFailure(str(exc)) from None
    if repeat is None and seed_step:
        raise UsageFailure("--seed-step: only with --repeat N")
    if repeat is not None:
        from ..gate.repeat import MAX_RUNS

        if not 1 <= repeat <= MAX_RUNS:
            raise UsageFailure(f"--repeat: {repeat} is not between 1 and {MAX_RUNS}")
    config = GateConfig(
        target=target_spec,
        suites=suites,
        scenarios=scenario_ids,
        seed=seed,
        backend=backend,
        report_dir=Path(report_dir) if report_dir else None,
        html=not no_html,
        strict=strict,
        shard=shard,
    )
    if jobs != 1:
        from ..gate.jobs import MAX_JOBS

        if not 1 <= jobs <= MAX_JOBS:
            raise UsageFailure(f"--jobs: {jobs} is not between 1 and {MAX_JOBS}")
        if shard is not None:
            raise UsageFailure("--jobs: runs its own shards; it cannot be combined with --shard")
        if repeat is None:
            run_jobs_and_report(config, jobs)
    if repeat is not None:
        run_repeats(config, repeat, seed_step, jobs)
    run_and_report(config, show_html=True)


@click.command()
@click.argument("scenario_id")
@click.option("--seed", type=int, required=True, help="The seed the failing run printed.")
@click.option(
    "--target", "target_spec", default="reference", show_default=True, help="Target file or bundled name."
)
@click.option("--backend", default="auto", show_default=True, type=BACKEND, help=BACKEND_HELP)
@click.option(
    "--report", "report_dir", type=click.Path(file_okay=False), help="Default: reports/<timestamp>-ID/."
)
@click.option("--html", is_flag=True, help="Also build the single-file HTML report.")
def reproduce(
    scenario_id: str, seed: int, target_spec: str, backend: str, report_dir: str | None, html: bool
) -> None:
    """Re-run one scenario exactly: same data, same fault schedule, same verdict and exit code."""
    import time

    from ..gate import GateConfig

    default = Path("reports") / f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{scenario_id}"
    config = GateConfig(
        target=target_spec,
        scenarios=(scenario_id,),
        seed=seed,
        backend=backend,
        report_dir=Path(report_dir) if report_dir else default,
        html=html,
    )
    run_and_report(config, show_html=html)

"""`uat load`: the topology, Locust traders in a named profile, a fault schedule, then the
gate's invariants. Registered on the `uat` group by harness.cli."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import click

from ..exitcodes import EXIT_FAILED, InfraFailure, UsageFailure
from ..netguard import TargetRefused, check_host
from .processes import WORKER_WAIT_S


def _duration(text: str) -> float:
    from .schedule import ScheduleError, parse_duration

    try:
        return parse_duration(text, "--duration", "option")
    except ScheduleError as exc:
        raise click.BadParameter(str(exc).split(": ", 2)[-1], param_hint="--duration") from None


@click.command("load")
@click.option(
    "--profile",
    "profile_name",
    required=True,
    type=click.Choice(["steady", "market-open", "news-spike", "overnight-thin"]),
)
@click.option("--traders", required=True, type=click.IntRange(1, 20_000), help="Peak number of traders.")
@click.option("--duration", required=True, help="Run length: 180, 180s, 3m.")
@click.option(
    "--workers",
    default=0,
    show_default=True,
    type=click.IntRange(0, 64),
    help="Locust worker processes under a master (0: one local process).",
)
@click.option(
    "--remote-workers",
    default=0,
    show_default=True,
    type=click.IntRange(0, 256),
    help="Locust workers from other machines the master also waits for (implies a master).",
)
@click.option(
    "--master-bind",
    default="127.0.0.1",
    show_default=True,
    help="The interface the Locust master listens on: loopback, or a host the target allowlists.",
)
@click.option(
    "--worker-wait",
    default=WORKER_WAIT_S,
    show_default=True,
    type=click.IntRange(1, 3600),
    help="Seconds the master waits for all its workers before the run fails (exit 3).",
)
@click.option("--faults", "faults_file", type=click.Path(dir_okay=False), help="A YAML fault schedule.")
@click.option("--target", "target_spec", default="reference", show_default=True, help="Target file or name.")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option(
    "--report", "report_dir", type=click.Path(file_okay=False), help="Default: reports/load-<time>."
)
@click.option(
    "--backend",
    default="auto",
    show_default=True,
    type=click.Choice(["auto", "binary", "docker", "embedded"]),
    help="Where the fault plane runs; docker also runs the mocks in containers.",
)
@click.option(
    "--limits",
    "limits_text",
    metavar="KEY=N,...",
    help="Risk limits set on every trader's account when onboarded, held against the venue's ledger "
    "(risk_limits_hold): max_order_qty=3,max_position=6,daily_loss_limit=1500. Needs set_limits.",
)
@click.option(
    "--cqg-traders",
    default=0,
    show_default=True,
    type=click.IntRange(0, 20_000),
    help="Traders whose accounts the back office routes to CQG when onboarded, spread over the "
    "population; the invariants judge their orders against CQG's ledger. Needs route_account and a "
    "target wired to the CQG mock.",
)
@click.option(
    "--funded-traders",
    default=0,
    show_default=True,
    type=click.IntRange(0, 20_000),
    help="Traders onboarded as funded traders through the whole lifecycle chain (the bus, the "
    "contract signed at DocuSign, MT5 login and deposit, Rippling) before the load, spread over the "
    "population; their records in every system are then held like the lifecycle suite's. Needs the "
    "target's [lifecycle].",
)
def load_command(
    profile_name: str,
    traders: int,
    duration: str,
    workers: int,
    remote_workers: int,
    master_bind: str,
    worker_wait: int,
    faults_file: str | None,
    target_spec: str,
    seed: int,
    report_dir: str | None,
    backend: str,
    limits_text: str | None,
    cqg_traders: int,
    funded_traders: int,
) -> None:
    """Drive seeded traders at the middleware with Locust while faults play, then check the
    invariants. Exit 0 when every invariant holds and nothing failed outside a fault window."""
    from ..containers.errors import EngineUnavailable, ImageUnavailable
    from ..scenario import Limits
    from ..target import TargetError, load
    from ..topology import TargetNotReady, Topology
    from .funded import ChainStalled
    from .identities import load_population
    from .onboard import OnboardingFailed
    from .processes import LocustFailed
    from .run import LoadOptions, LoadRun
    from .schedule import ScheduleError
    from .schedule import load as load_schedule
    from .shapes import profile

    try:
        target = load(target_spec)
        shape = profile(profile_name, traders, _duration(duration))
        schedule = load_schedule(faults_file) if faults_file else None
        for host in _hosts(target.base_url):
            check_host(host, target.allowed_hosts, what="load target")
        check_host(master_bind, target.allowed_hosts, what="Locust master bind address")
        limits = Limits.parse(limits_text) if limits_text is not None else None
        load_population()  # a bad UAT_FIXTURES is the caller's mistake, named before anything starts
        if limits is not None and not target.adapter.supports("set_limits"):
            raise ValueError(f"--limits: the target {target.name} declares no set_limits operation")
        if cqg_traders:
            _check_cqg_traders(target, cqg_traders, shape.peak)
        if funded_traders:
            _check_funded_traders(target, funded_traders, shape.peak)
    except (TargetError, ScheduleError, ValueError, TargetRefused) as exc:
        raise UsageFailure(str(exc)) from None
    report = Path(report_dir or f"reports/load-{time.strftime('%Y%m%d-%H%M%S')}")
    try:
        with Topology(
            target,
            seed=seed,
            backend=backend,  # type: ignore[arg-type]
            progress=lambda message: click.echo(message, err=True),
        ) as topo:
            options = LoadOptions(
                shape,
                workers=workers,
                remote_workers=remote_workers,
                master_bind=master_bind,
                worker_wait_s=worker_wait,
                schedule=schedule,
                seed=seed,
                report_dir=report,
                limits=limits,
                cqg_traders=cqg_traders,
                funded_traders=funded_traders,
            )
            result = LoadRun(topo, options, progress=_Progress()).run()
    except LocustFailed as exc:
        raise InfraFailure(str(exc)) from None
    except (OnboardingFailed, ChainStalled) as exc:
        click.echo(f"the middleware failed to onboard the traders: {exc}", err=True)
        raise SystemExit(EXIT_FAILED) from None
    except TargetNotReady as exc:
        raise click.ClickException(str(exc)) from None
    except (OSError, EngineUnavailable, ImageUnavailable) as exc:
        raise InfraFailure(f"the topology failed to start: {exc}") from None
    summary = result.summary
    click.echo(
        f"\n{summary['orders']} orders, {summary['fills']} fills, peak {summary['peak_traders']} traders, "
        f"ack p99 {summary['order_ack_ms']['p99']} ms, fill p99 {summary['order_to_fill_ms']['p99']} ms"
    )
    if summary.get("stream") != "measured":
        click.echo(f"  stream measures (quote age, order to fill): {summary.get('stream')}")
    if cqg_traders:
        click.echo(
            "  by venue: "
            + ", ".join(f"{v} {n['orders']} orders, {n['fills']} fills" for v, n in summary["venues"].items())
        )
    if "funded" in summary:
        funded = summary["funded"]
        click.echo(
            f"  funded: {funded['traders']} traders through the chain, contracts out in "
            f"{funded['contracts_s']} s, signed by {funded['signed_s']} s, provisioned by "
            f"{funded['provisioned_s']} s (onboarding {summary['onboarded_before_s']} s in all)"
        )
    for name, verdict in summary["invariants"].items():
        click.echo(f"  {verdict:4}  {name}")
    click.echo(f"  failures outside fault windows: {summary['failures_outside_faults']}")
    for phase, figures in summary.get("phases", {}).items():
        click.echo(
            f"  {phase:6}  rps {figures['rps']}  ack p99 {figures['order_ack_ms']['p99']} ms  "
            f"fill p99 {figures['order_to_fill_ms']['p99']} ms"
        )
    cpu = summary.get("cpu_percent", {})
    click.echo(
        "  cpu % of a core (mean/max): " + ", ".join(f"{k} {v['mean']}/{v['max']}" for k, v in cpu.items())
    )
    journal = summary["journal"]
    click.echo(
        f"  journal rows: {journal['local_rows']} local, {journal['remote_rows']} from "
        f"{journal['remote_workers']} remote worker(s)"
    )
    click.echo(f"report: {report}")
    if result.journal_problems:
        for problem in result.journal_problems:
            click.echo(f"JOURNAL INCOMPLETE: {problem}", err=True)
        raise InfraFailure("the merged history is incomplete, so the verdicts above judge part of the run")
    if not result.passed:
        raise SystemExit(EXIT_FAILED)


def _check_cqg_traders(target: Any, cqg_traders: int, peak: int) -> None:
    """ValueError naming --cqg-traders when the target cannot route accounts to CQG, or the profile
    has fewer traders than that."""
    if not target.adapter.supports("route_account"):
        raise ValueError(f"--cqg-traders: the target {target.name} declares no route_account operation")
    if "cqg" not in (*target.venues, *target.wired):
        raise ValueError(
            f"--cqg-traders: the target {target.name} is not wired to the CQG mock ({{mocks.cqg...}})"
        )
    if cqg_traders > peak:
        raise ValueError(f"--cqg-traders: {cqg_traders} is more than the profile's {peak} traders")


def _check_funded_traders(target: Any, funded: int, peak: int) -> None:
    """ValueError naming --funded-traders when the target has no lifecycle, or too few traders."""
    if target.lifecycle is None:
        raise ValueError(f"--funded-traders: the target {target.name} declares no [lifecycle] (its Zaps)")
    if not target.webhooks.get("docusign"):
        raise ValueError(f"--funded-traders: the target {target.name} declares no [webhooks] docusign URL")
    if funded > peak:
        raise ValueError(f"--funded-traders: {funded} is more than the profile's {peak} traders")


def _hosts(url_template: str) -> list[str]:
    match = re.match(r"^[a-z]+://([^/:]+|\[[^\]]+\])", url_template)
    return [match.group(1).strip("[]")] if match else []


class _Progress:
    """The run's progress on stderr: onboarding, the wait for workers, then a line a second."""

    def __init__(self) -> None:
        self.joined = -1

    def __call__(self, tick: dict[str, Any]) -> None:
        if "funded" in tick:
            if tick["done"] == tick["of"] or tick["done"] != getattr(self, "funded_done", -1):
                self.funded_done = tick["done"]
                click.echo(f"  funded traders {tick['funded']}: {tick['done']}/{tick['of']}", err=True)
        elif "onboarded" in tick:
            click.echo(
                f"  onboarding traders through Stripe webhooks: {tick['onboarded']}/{tick['of']}", err=True
            )
        elif "remote_command" in tick:
            click.echo(
                f"  waiting for {tick['remote_workers']} Locust worker(s) from other machines; on each, "
                "from a stack-uat checkout with its venv (the path is this checkout's), run:\n"
                f"    {tick['remote_command']}",
                err=True,
            )
        elif "joined" in tick:
            if tick["joined"] != self.joined:
                self.joined = tick["joined"]
                click.echo(f"  Locust workers joined: {tick['joined']}/{tick['expected']}", err=True)
        else:
            _print_tick(tick)


def _print_tick(tick: dict[str, Any]) -> None:
    faults = ", ".join(tick["faults"]) or "-"
    cpu = " ".join(
        f"{name.replace('locust-', '')} {pct:.0f}%" for name, pct in sorted(tick.get("cpu", {}).items())
    )
    click.echo(
        f"  t={tick['t']:6.1f}s  traders {tick['users']:>5}  http rps {float(tick['rps']):8.1f}  "
        f"failures/s {float(tick['failures_per_s']):5.1f}  fault: {faults}  cpu: {cpu or '-'}",
        err=True,
    )

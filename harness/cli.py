"""The `uat` command line. Exit codes: 0 pass, 1 the gate failed, 2 usage or configuration
error, 3 harness or infrastructure error (never blamed on the middleware)."""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any
from urllib.parse import urlsplit

import click

from . import gcpolicy

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INFRA = 0, 1, 2, 3


class UsageFailure(click.ClickException):
    """A bad option or file: exit 2 with the message (which names the field)."""

    exit_code = EXIT_USAGE


class InfraFailure(click.ClickException):
    """The harness itself could not run (a port, a backend, a process): exit 3."""

    exit_code = EXIT_INFRA


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--log-level",
    default=lambda: os.environ.get("LOG_LEVEL", "info"),
    show_default="info",
    type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
)
def main(log_level: str) -> None:
    """stack-uat: fault injection and acceptance tests for a DMA trading platform."""
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    # Every control-plane call would otherwise be an INFO line; keep them for --log-level debug.
    for noisy in ("httpx", "testcontainers"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
    gcpolicy.relax()  # this process may host every mock and the fault plane


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address for the API to listen on.")
@click.option("--port", default=8474, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="A populate JSON array of proxies to create at start, like toxiproxy-server -config.",
)
@click.option("--proxy-metrics", is_flag=True, help="Serve Prometheus byte counters on /metrics.")
def toxiproxy(host: str, port: int, config_path: str | None, proxy_metrics: bool) -> None:
    """Run the embedded Toxiproxy-compatible server in the foreground, like toxiproxy-server."""
    from .faults.embedded import ApiError, ServerCore, load_config, serve_forever

    config: list[dict[str, Any]] | None = None
    if config_path is not None:
        try:
            config = load_config(config_path)
        except (OSError, ValueError) as exc:
            raise UsageFailure(f"--config: {exc}") from None

    def ready(core: ServerCore) -> None:
        click.echo(
            f"toxiproxy API listening on http://{core.host}:{core.port} "
            f"(embedded, Toxiproxy 2.12.0 API, {len(core.collection.proxies)} proxies)",
            err=True,
        )

    try:
        serve_forever(host, port, config, metrics=proxy_metrics, ready=ready)
    except ApiError as exc:
        if exc.status == 400:
            raise UsageFailure(f"--config: {exc.message}") from None
        raise InfraFailure(exc.message) from None
    except OSError as exc:
        raise InfraFailure(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


@main.group()
def mocks() -> None:
    """The mock venues behind the fault plane."""


@mocks.command("up")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on one line once ready.")
@click.option("--seed", default=0, show_default=True, type=int, help="Fixes credentials, prices and ids.")
@click.option(
    "--backend",
    default="auto",
    show_default=True,
    type=click.Choice(["auto", "binary", "docker", "embedded"]),
    help="Where the fault plane runs; docker also runs the mocks in a container.",
)
@click.option(
    "--toxiproxy",
    "toxiproxy_url",
    metavar="URL",
    help="Put the proxies on this running Toxiproxy API instead of starting a fault plane.",
)
@click.option("--venue", "venues", multiple=True, help="Only these venues (repeatable); default: all.")
def mocks_up(
    as_json: bool, seed: int, backend: str, toxiproxy_url: str | None, venues: tuple[str, ...]
) -> None:
    """Bring up every mock venue behind the fault plane and stay up until Ctrl-C.

    `url` in the output is the proxied address a middleware should use; `control` is the
    mock's control API (faults, reset, ledger, events), which is never proxied.
    """
    from .containers import EngineUnavailable, ImageUnavailable
    from .faults import BackendUnavailable, FaultPlane
    from .foreground import serve_until_interrupted
    from .mockstack import VENUES, MockStack, build_stack
    from .netguard import TargetRefused, check_host

    unknown = sorted(set(venues) - set(VENUES))
    if unknown:
        raise UsageFailure(f"--venue: unknown venue {unknown[0]!r}; known: {', '.join(VENUES)}")
    if toxiproxy_url is not None:
        if backend == "docker":
            raise UsageFailure("--toxiproxy: cannot be combined with --backend docker (which starts its own)")
        try:
            check_host(urlsplit(toxiproxy_url).hostname or "", what="fault plane")
        except TargetRefused as exc:
            raise UsageFailure(f"--toxiproxy: {exc}") from None
        stack: Any = MockStack(seed=seed, venues=venues or tuple(VENUES), plane=FaultPlane(url=toxiproxy_url))
    else:
        stack = build_stack(seed=seed, backend=backend, venues=venues, progress=_note)  # type: ignore[arg-type]

    def start() -> dict[str, Any]:
        try:
            stack.start()
        except (BackendUnavailable, EngineUnavailable, ImageUnavailable) as exc:
            raise InfraFailure(str(exc)) from None
        except OSError as exc:
            raise InfraFailure(f"a mock or the fault plane failed to start: {exc}") from None
        info: dict[str, Any] = stack.describe()
        return info

    def announce(info: dict[str, Any]) -> None:
        if as_json:
            click.echo(json.dumps(info, separators=(",", ":")))
        else:
            _print_endpoints(info)

    serve_until_interrupted(start, stack.stop, announce, what="mocks and fault plane")


def _note(message: str) -> None:
    """Progress of slow one-off set-up, on stderr so --json output stays one line."""
    click.echo(message, err=True)


def _print_endpoints(info: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"fault plane [bold]{info['toxiproxy']}[/] ({info['backend']}), seed {info['seed']}")
    for name, entry in info["mocks"].items():
        table = Table(title=f"{name}", title_justify="left", show_header=False, box=None, padding=(0, 2))
        table.add_column(style="bold")
        table.add_column(overflow="fold")
        for key, value in entry.items():
            table.add_row(key, value if isinstance(value, str) else json.dumps(value))
        console.print(table)
    console.print("[dim]url is the proxied address for a middleware; Ctrl-C stops everything[/]")


@main.group()
def target() -> None:
    """Target files: how the harness starts and judges a middleware."""


@target.command("check")
@click.argument("spec", default="reference")
def target_check(spec: str) -> None:
    """Validate a target file (or a bundled name such as `reference`) and show what it says.

    Exit 2 with the bad field named when it is wrong; 0 when it is usable.
    """
    from .target import TargetError, load

    try:
        parsed = load(spec)
    except TargetError as exc:
        raise UsageFailure(str(exc)) from None
    start = " ".join(parsed.command) if parsed.command else f"image {parsed.image}"
    click.echo(f"{parsed.source}: ok")
    click.echo(f"  name        {parsed.name}")
    click.echo(f"  start       {start}")
    click.echo(f"  ready       {parsed.ready_url} (within {parsed.ready_timeout_s:g} s)")
    adapter = parsed.adapter
    kind = f"python {adapter.python_class}" if adapter.kind == "python" else "http"
    click.echo(f"  adapter     {kind} at {parsed.base_url}")
    for name, op in adapter.operations.items():
        read = ", ".join(f"{k}={v.expression}" for k, v in op.fields.items())
        click.echo(f"    {name:<22}{op.method} {op.path}" + (f"  -> {read}" if read else ""))
    if adapter.stream is not None:
        click.echo(f"    {'stream':<22}{adapter.stream.url}")
    click.echo(f"  webhooks    {', '.join(f'{k} {v}' for k, v in parsed.webhooks.items()) or '-'}")
    click.echo(f"  venues      {', '.join(parsed.venues) or '-'}")
    click.echo(f"  checks sql  {parsed.checks_sql or '- (db_reconcile is skipped)'}")
    click.echo(f"  env         {', '.join(sorted(parsed.env)) or '-'}")
    click.echo(f"  passthrough {', '.join(parsed.passthrough_env) or '-'}")
    click.echo(
        f"  slo         recovery {parsed.slo.recovery_s:g} s, fast reject {parsed.slo.fast_reject_ms:g} ms, "
        f"fill visible {parsed.slo.fill_visible_s:g} s, answer under database faults "
        f"{parsed.slo.answer_ms:g} ms, health degraded {parsed.slo.health_degraded_s:g} s"
    )
    database = parsed.database
    locks = ", ".join(database.locks) or "no row locks"
    click.echo(
        f"  database    {locks}; lock table {database.lock_table or '-'}"
        + ("" if parsed.postgres_dsn is None else " (its own: link faults only)")
    )
    deploy = parsed.deploy
    bad = ", ".join(f"{k}={v}" for k, v in deploy.bad_release_env.items()) or "- (bad release not declared)"
    click.echo(f"  deploy      {deploy.stop_signal}, drain {deploy.drain_s:g} s, bad release {bad}")
    metrics = parsed.metrics
    shown = f"{metrics.url} ({metrics.database_up})" if metrics else "- (metrics_truthful is skipped)"
    click.echo(f"  metrics     {shown}")
    click.echo(f"  allowlist   {', '.join(parsed.allowed_hosts) or 'loopback only'}")


@target.command("probe")
@click.argument("spec", default="reference")
@click.option("--backend", type=click.Choice(["auto", "binary", "docker", "embedded"]), default="auto")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per operation, one per line.")
def target_probe(spec: str, backend: str, as_json: bool) -> None:
    """Start the topology and the target, call each read-only operation once, and show what the
    adapter read from each answer. Exit 1 if an answer could not be read (the mapping or the
    middleware is wrong), 2 for a bad target file, 3 if the harness could not start."""
    import json

    from .containers.errors import EngineUnavailable, ImageUnavailable
    from .probe import probe, render
    from .target import TargetError, load
    from .topology import TargetNotReady, Topology

    try:
        parsed = load(spec)
    except TargetError as exc:
        raise UsageFailure(str(exc)) from None
    try:
        with Topology(parsed, backend=backend) as topo:  # type: ignore[arg-type]
            results = probe(topo, note=lambda m: click.echo(m, err=True))
            redact = topo.redact
    except TargetNotReady as exc:
        click.echo(f"the middleware never became ready: {exc}", err=True)
        raise SystemExit(1) from None
    except (OSError, EngineUnavailable, ImageUnavailable) as exc:
        raise InfraFailure(f"the topology failed to start: {exc}") from None
    if as_json:
        for result in results:
            click.echo(redact(json.dumps(result.to_json(), default=str)))
    else:
        click.echo(render(results, redact))
    if not all(r.readable for r in results):
        raise SystemExit(1)


_BACKEND = click.Choice(["auto", "binary", "docker", "embedded"])
_BACKEND_HELP = "Where the fault plane runs; docker also runs the mocks in containers."


class _Display:
    """Live progress: a rich table on a terminal, one plain line per phase otherwise."""

    def __init__(self) -> None:
        from rich.console import Console

        self.console = Console(file=sys.__stderr__)
        self.live: Any = None
        self.rows: dict[str, tuple[str, str]] = {}
        self.began = __import__("time").monotonic()

    def __enter__(self) -> _Display:
        if self.console.is_terminal:
            from rich.live import Live

            self.live = Live(self._table(), console=self.console, refresh_per_second=4, transient=False)
            self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.__exit__(None, None, None)

    def _table(self) -> Any:
        from rich.table import Table

        table = Table(title="uat gate", title_justify="left", box=None, padding=(0, 2))
        for name in ("scenario", "phase", "faults active"):
            table.add_column(name)
        for sid, (phase, faults) in self.rows.items():
            table.add_row(sid, phase, faults or "-")
        return table

    def progress(self, sid: str, phase: str, faults: tuple[str, ...]) -> None:
        import time

        self.rows[sid] = (phase, ", ".join(faults))
        if self.live is not None:
            self.live.update(self._table())
        else:
            elapsed = time.monotonic() - self.began
            self.console.print(
                f"[{elapsed:6.1f}s] {sid}: {phase}" + (f" ({', '.join(faults)})" if faults else ""),
                highlight=False,
                soft_wrap=True,
            )


def _run_gate(config: Any, *, show_html: bool) -> None:
    from .gate import GateUsageError, run_gate

    if logging.getLogger().level == logging.INFO:  # the live display is the progress report
        logging.getLogger().setLevel(logging.WARNING)
    display = _Display()
    try:
        with display:
            outcome = run_gate(config, display.progress)
    except GateUsageError as exc:
        raise UsageFailure(str(exc)) from None
    except KeyboardInterrupt:
        click.echo("interrupted: every process, port and temp dir of this run was torn down", err=True)
        sys.exit(130)
    from .gate.status import counts, strict_violations

    for record in outcome.records:
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
    if config.strict:
        for violation in strict_violations(outcome.records):
            click.echo(f"strict: {violation}")
    verdict = {0: "PASSED", 1: "FAILED", 2: "TARGET FILE ERROR", 3: "HARNESS ERROR"}[outcome.exit_code]
    n = counts(outcome.records)
    if outcome.records and n["skipped"] == len(outcome.records):
        click.echo("no selected scenario applies to this target: the gate judged nothing, so it did not pass")
    others = ", ".join(
        f"{n[s]} {s.replace('_', ' ')}"
        for s in ("failed", "inconclusive", "skipped", "harness_error", "config_error")
        if n[s]
    )
    click.echo(
        f"gate {verdict}{' (strict)' if config.strict else ''}: {n['passed']}/{len(outcome.records)} "
        f"scenarios passed{f' ({others})' if others else ''}, seed {outcome.seed}, "
        f"{outcome.wall_time_s:.0f} s; report in {outcome.report_dir}"
    )
    if show_html:
        if outcome.html is not None:
            click.echo(f"html report: {outcome.html}")
        elif outcome.html_error:
            click.echo(f"html report not built: {outcome.html_error}", err=True)
    sys.exit(outcome.exit_code)


@main.command()
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
@click.option("--backend", default="auto", show_default=True, type=_BACKEND, help=_BACKEND_HELP)
@click.option("--no-html", is_flag=True, help="Skip the single-file HTML (allure-results are still written).")
@click.option(
    "--strict",
    is_flag=True,
    help="Also fail (exit 1) on any skipped scenario (not applicable to the target) or skipped check.",
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
    list_only: bool,
) -> None:
    """Run the UAT gate. Exit 0 passed, 1 failed (a scenario failed or was inconclusive: too little
    evidence to judge; with --strict, also skipped), 2 usage or configuration error, 3 harness error.

    Writes allure-results/, html/index.html (one file), gate.json, gate-summary.md and junit.xml
    into the report dir.
    """
    from pathlib import Path

    from .gate import GateConfig

    if list_only:
        from scenarios import SUITES

        for suite, members in SUITES.items():
            click.echo(suite)
            for scenario in members:
                click.echo(f"  {scenario.id}  {scenario.title}")
        return
    config = GateConfig(
        target=target_spec,
        suites=suites,
        scenarios=scenario_ids,
        seed=seed,
        backend=backend,
        report_dir=Path(report_dir) if report_dir else None,
        html=not no_html,
        strict=strict,
    )
    _run_gate(config, show_html=True)


@main.command()
@click.argument("scenario_id")
@click.option("--seed", type=int, required=True, help="The seed the failing run printed.")
@click.option(
    "--target", "target_spec", default="reference", show_default=True, help="Target file or bundled name."
)
@click.option("--backend", default="auto", show_default=True, type=_BACKEND, help=_BACKEND_HELP)
@click.option(
    "--report", "report_dir", type=click.Path(file_okay=False), help="Default: reports/<timestamp>-ID/."
)
@click.option("--html", is_flag=True, help="Also build the single-file HTML report.")
def reproduce(
    scenario_id: str, seed: int, target_spec: str, backend: str, report_dir: str | None, html: bool
) -> None:
    """Re-run one scenario exactly: same data, same fault schedule, same verdict and exit code."""
    import time
    from pathlib import Path

    from .gate import GateConfig

    default = Path("reports") / f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{scenario_id}"
    config = GateConfig(
        target=target_spec,
        scenarios=(scenario_id,),
        seed=seed,
        backend=backend,
        report_dir=Path(report_dir) if report_dir else default,
        html=html,
    )
    _run_gate(config, show_html=html)


@main.command()
@click.argument("results_dir", default="allure-results", type=click.Path(file_okay=False))
@click.option(
    "--output", "output_dir", type=click.Path(file_okay=False), help="Default: RESULTS_DIR/../html."
)
def report(results_dir: str, output_dir: str | None) -> None:
    """Build the single-file Allure HTML from RESULTS_DIR (allure-results, or a gate's report dir)
    and print its path."""
    from pathlib import Path

    from .report.html import ReportError, build_html

    results = Path(results_dir)
    if (results / "allure-results").is_dir():
        results = results / "allure-results"
    if not results.is_dir():
        raise UsageFailure(f"RESULTS_DIR: {results_dir}: no such directory")
    out = Path(output_dir) if output_dir else results.parent / "html"
    try:
        built = build_html(results, out)
    except ReportError as exc:
        raise InfraFailure(str(exc)) from None
    click.echo(str(built))


def _register_subcommands() -> None:
    """Commands that live with their packages, to keep this module to the CLI's spine."""
    from .containers.command import engine_group
    from .load.command import load_command

    main.add_command(load_command)
    main.add_command(engine_group)


_register_subcommands()

if __name__ == "__main__":  # pragma: no cover
    main()

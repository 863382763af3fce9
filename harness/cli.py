"""The `uat` command line. Exit codes: 0 pass, 1 the gate failed, 2 usage or configuration
error, 3 harness or infrastructure error (never blamed on the middleware)."""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any

import click

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
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger().level))


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
    help="Fault plane backend.",
)
@click.option("--venue", "venues", multiple=True, help="Only these venues (repeatable); default: all.")
def mocks_up(as_json: bool, seed: int, backend: str, venues: tuple[str, ...]) -> None:
    """Bring up every mock venue behind the fault plane and stay up until Ctrl-C.

    `url` in the output is the proxied address a middleware should use; `control` is the
    mock's control API (faults, reset, ledger, events), which is never proxied.
    """
    import signal
    import threading

    from .faults import BackendUnavailable
    from .mockstack import VENUES, MockStack

    unknown = sorted(set(venues) - set(VENUES))
    if unknown:
        raise UsageFailure(f"--venue: unknown venue {unknown[0]!r}; known: {', '.join(VENUES)}")
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    stack = MockStack(seed=seed, backend=backend, venues=venues or tuple(VENUES))  # type: ignore[arg-type]
    try:
        try:
            stack.start()
        except BackendUnavailable as exc:
            raise InfraFailure(str(exc)) from None
        except OSError as exc:
            raise InfraFailure(f"a mock or the fault plane failed to start: {exc}") from None
        info = stack.describe()
        if as_json:
            click.echo(json.dumps(info, separators=(",", ":")))
        else:
            _print_endpoints(info)
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
    finally:
        stack.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


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
    click.echo(f"  adapter     {parsed.adapter} at {parsed.base_url}")
    click.echo(f"  env         {', '.join(sorted(parsed.env)) or '-'}")
    click.echo(f"  passthrough {', '.join(parsed.passthrough_env) or '-'}")
    click.echo(
        f"  slo         recovery {parsed.slo.recovery_s:g} s, fast reject {parsed.slo.fast_reject_ms:g} ms, "
        f"fill visible {parsed.slo.fill_visible_s:g} s"
    )
    click.echo(f"  allowlist   {', '.join(parsed.allowed_hosts) or 'loopback only'}")


if __name__ == "__main__":  # pragma: no cover
    main()

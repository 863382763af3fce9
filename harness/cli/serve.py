"""`uat toxiproxy` and `uat mocks up`: the fault plane and the mock venues, in the foreground."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import click

from ..exitcodes import InfraFailure, UsageFailure


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address for the API to listen on.")
@click.option("--port", default=8474, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="A populate JSON array of proxies to create at start, like toxiproxy-server -config.",
)
@click.option("--proxy-metrics", is_flag=True, help="Serve Prometheus byte counters on /metrics.")
@click.option(
    "--seed",
    type=int,
    default=None,
    help="Repeat the toxics' random draws (toxicity, jitter, slicing, loss, corruption) from this seed.",
)
def toxiproxy(host: str, port: int, config_path: str | None, proxy_metrics: bool, seed: int | None) -> None:
    """Run the embedded Toxiproxy-compatible server in the foreground, like toxiproxy-server."""
    from ..faults.embedded import ApiError, ServerCore, load_config, serve_forever

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
        serve_forever(host, port, config, metrics=proxy_metrics, ready=ready, seed=seed)
    except ApiError as exc:
        if exc.status == 400:
            raise UsageFailure(f"--config: {exc.message}") from None
        raise InfraFailure(exc.message) from None
    except OSError as exc:
        raise InfraFailure(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


@click.group()
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
    from ..containers import EngineUnavailable, ImageUnavailable
    from ..faults import BackendUnavailable, FaultPlane
    from ..foreground import serve_until_interrupted
    from ..mockstack import VENUES, MockStack, build_stack
    from ..netguard import TargetRefused, check_host

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

"""`uat engine up`: a loopback-only Docker engine for hosts that have none running, in the
foreground until Ctrl-C or SIGTERM, then torn down without a trace. Registered by harness.cli."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click

from ..exitcodes import InfraFailure
from ..foreground import serve_until_interrupted
from .engine import LoopbackEngine, engine_unavailable
from .errors import EngineUnavailable, ImageUnavailable
from .images import Images


@click.group("engine")
def engine_group() -> None:
    """A Docker engine for the container backend (`--backend docker`)."""


@engine_group.command("up")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep images here between runs (warm starts); default: a temp dir removed at teardown.",
)
@click.option(
    "--images/--no-images", default=True, show_default=True, help="Build or reuse the images first."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on one line once ready.")
def engine_up(data_dir: Path | None, images: bool, as_json: bool) -> None:
    """Start dockerd with no bridge and no iptables (containers use the host network, on loopback
    only), print its DOCKER_HOST, and stay up until Ctrl-C.

    Teardown removes every container, stops dockerd and its containerd, unmounts what they left
    mounted and deletes the temp dirs.
    """

    engine = LoopbackEngine(data_dir.resolve() if data_dir else None)

    def start() -> dict[str, Any]:
        try:
            engine.start()
            timings = {"engine_start": round(engine.started_s, 2)}
            tag = None
            if images:
                began = time.monotonic()
                built = Images(engine.docker_host, progress=lambda m: click.echo(m, err=True))
                tag = built.ensure_harness()
                timings.update({k: round(v, 2) for k, v in built.timings.items()})
                timings["images"] = round(time.monotonic() - began, 2)
        except (EngineUnavailable, ImageUnavailable) as exc:
            raise InfraFailure(str(exc)) from None
        return {
            "docker_host": engine.docker_host,
            "data_dir": str(engine.data_dir),
            "harness_image": tag,
            "timings_s": timings,
        }

    def announce(info: dict[str, Any]) -> None:
        if as_json:
            click.echo(json.dumps(info, separators=(",", ":")))
        else:
            click.echo(f"export DOCKER_HOST={info['docker_host']}")
            click.echo(
                f"# images in {info['data_dir']}; timings {info['timings_s']}; Ctrl-C tears it down", err=True
            )

    serve_until_interrupted(start, engine.stop, announce, what="engine")


@engine_group.command("check")
def engine_check() -> None:
    """Say whether an engine answers at DOCKER_HOST (or the standard socket): exit 0 or 3."""

    reason = engine_unavailable()
    if reason is not None:
        raise InfraFailure(reason)
    click.echo("engine reachable")


_BUILDABLE = ("harness", "express-sample")


@engine_group.command("build")
@click.argument("name", type=click.Choice(_BUILDABLE))
def engine_build(name: str) -> None:
    """Build one of the project's images on the engine at DOCKER_HOST, unless this source tree's
    is there already, and print its tag: `harness` (the mocks and the fault plane) or
    `express-sample` (the Express sample target, run by `--target express-sample-image`).
    Base images are built with debootstrap first when missing. Exit 3 if it cannot be built."""

    reason = engine_unavailable()
    if reason is not None:
        raise InfraFailure(reason)
    images = Images(progress=lambda m: click.echo(m, err=True))
    try:
        tag = images.ensure_harness() if name == "harness" else images.ensure_express_sample()
    except ImageUnavailable as exc:
        raise InfraFailure(str(exc)) from None
    timings = {k: round(v, 1) for k, v in images.timings.items()}
    if timings:
        click.echo(f"built in {timings} s", err=True)
    click.echo(tag)

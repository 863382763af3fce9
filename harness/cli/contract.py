"""`uat contract --target X`: Schemathesis against the live target and the spec its target file names."""

from __future__ import annotations

import time
from pathlib import Path

import click

from ..exitcodes import EXIT_FAILED, EXIT_INTERRUPTED, InfraFailure, UsageFailure
from .gate import BACKEND, BACKEND_HELP, INTERRUPTED
from .spec import WIDTH_PIPED, _write_json


@click.command("contract")
@click.option("--target", "target_spec", default="reference", show_default=True, metavar="FILE|NAME")
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same cases.")
@click.option("--max-examples", type=click.IntRange(1, 10_000), help="Over [contract] max_examples.")
@click.option("--time-budget", type=click.FloatRange(min=1.0), help="Seconds; over [contract] time_budget_s.")
@click.option("--json", "json_out", metavar="FILE|-", help="The run as JSON into FILE (`-`: stdout).")
@click.option(
    "--allure-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write one Allure result per operation into DIR (for `uat report DIR`).",
)
@click.option("--backend", type=BACKEND, default="auto", help=BACKEND_HELP)
def contract(
    target_spec: str,
    seed: int,
    max_examples: int | None,
    time_budget: float | None,
    json_out: str | None,
    allure_dir: Path | None,
    backend: str,
) -> None:
    """Start the target's topology, run Schemathesis 4 against the live target and the OpenAPI spec
    its [contract] table names (server errors; status, content-type and schema conformance;
    invalid data refused and valid data accepted; required headers and auth enforced; deleted and
    created resources through the spec's links), and tear it all down.

    Exit 0 every check that could run passed, 1 a check failed (or nothing could be judged),
    2 a bad target file or spec (the field is named), 3 the harness could not start.
    """
    from rich.console import Console

    from ..containers.errors import EngineUnavailable, ImageUnavailable
    from ..contract import Overrides, contract_target, print_run, to_json, write_allure
    from ..contract.live import require_contract
    from ..target import TargetError, load
    from ..topology import TargetNotReady

    try:
        parsed = load(target_spec)
    except TargetError as exc:
        raise UsageFailure(str(exc)) from None
    require_contract(parsed)
    overrides = Overrides(seed=seed, max_examples=max_examples, time_budget_s=time_budget)
    started_ms = int(time.time() * 1000)
    try:
        run = contract_target(
            parsed,
            overrides,
            backend=backend,  # type: ignore[arg-type]  # click.Choice of BackendName's values
            note=lambda m: click.echo(m, err=True),
        )
    except TargetError as exc:  # the file names a spec or an exclusion that does not hold
        raise UsageFailure(str(exc)) from None
    except TargetNotReady as exc:
        click.echo(f"the middleware never became ready: {exc}", err=True)
        raise SystemExit(EXIT_FAILED) from None
    except (OSError, EngineUnavailable, ImageUnavailable) as exc:
        raise InfraFailure(f"the topology failed to start: {exc}") from None
    except KeyboardInterrupt:
        click.echo(INTERRUPTED, err=True)
        raise SystemExit(EXIT_INTERRUPTED) from None
    if json_out is not None:
        _write_json(json_out, to_json(run))
    if allure_dir is not None:
        try:
            write_allure(run, allure_dir, start_ms=started_ms)
        except OSError as exc:
            raise UsageFailure(f"--allure-dir: {allure_dir}: cannot write: {exc.strerror or exc}") from None
    console = Console(stderr=json_out == "-", highlight=False)
    if not console.is_terminal:
        console.width = WIDTH_PIPED
    print_run(run, console)
    if run.exit_code:
        raise SystemExit(run.exit_code)

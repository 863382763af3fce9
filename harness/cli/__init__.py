"""The `uat` command line: the group and its options here, each command with its own module (servers
in serve, target files in targetfile, the gate and `uat reproduce` in gate, reports and merges in
report, spec reviews in spec, contract runs in contract, lifecycle desync reports in investigate),
and the commands that live with their packages (load, engine). Exit codes and the errors that carry
them are in harness.exitcodes: 0 pass, 1 the gate failed, 2 usage or configuration error, 3 harness
or infrastructure error (never blamed on the middleware)."""

from __future__ import annotations

import logging
import os
import signal
import sys

import click

from .. import gcpolicy
from ..exitcodes import raise_interrupted
from .contract import contract
from .gate import gate, reproduce
from .investigate import investigate
from .report import report
from .serve import mocks, toxiproxy
from .spec import spec
from .targetfile import target


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
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # see exitcodes.Interrupted
        signal.signal(signal.SIGINT, raise_interrupted)


def _register_subcommands() -> None:
    """This package's commands, and those that live with their packages."""
    from ..containers.command import engine_group
    from ..load.command import load_command

    for command in (
        toxiproxy,
        mocks,
        target,
        gate,
        reproduce,
        report,
        spec,
        contract,
        investigate,
        load_command,
        engine_group,
    ):
        main.add_command(command)


_register_subcommands()

__all__ = ["main"]

"""The `uat` exit codes and the two errors that carry them: a leaf module (it imports nothing from
the harness), so the CLI, the gate's verdict (harness.gate.status) and every command that lives
with its package import them from here without a cycle through harness.cli.

0 success (the gate passed); 1 the gate failed (a scenario failed or was inconclusive); 2 a usage or
configuration error; 3 a harness or infrastructure error, never blamed on the middleware; 130 the run
was interrupted (Ctrl-C or SIGTERM), what a shell reports for SIGINT."""

from __future__ import annotations

from typing import NoReturn

import click

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INFRA = 3
EXIT_INTERRUPTED = 130

# What each exit code of a gate means, in the words the terminal uses.
EXIT_NAMES = {
    EXIT_OK: "PASSED",
    EXIT_FAILED: "FAILED",
    EXIT_USAGE: "TARGET FILE ERROR",
    EXIT_INFRA: "HARNESS ERROR",
}


class UsageFailure(click.ClickException):
    """A bad option or file: exit 2 with the message (which names the option or field)."""

    exit_code = EXIT_USAGE


class InfraFailure(click.ClickException):
    """The harness itself could not run (a port, a backend, a process): exit 3."""

    exit_code = EXIT_INFRA


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM where a command handles it), as the harness raises it. A subclass on
    purpose: CPython remembers a bare KeyboardInterrupt that escaped an exec() of a string (a
    dataclass or namedtuple being built by a lazy import, say) and at exit kills the process with
    SIGINT instead of returning our 130, even though we caught it and tore everything down; that
    check matches the exact type only. Everything that catches KeyboardInterrupt still catches it."""


def raise_interrupted(*_: object) -> NoReturn:
    """A signal handler: unwind with Interrupted."""
    raise Interrupted

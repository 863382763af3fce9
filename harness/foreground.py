"""Serving in the foreground until Ctrl-C or SIGTERM (`uat mocks up`, `uat engine up`): a signal
while starting unwinds the start and exits 130; once up, a signal ends the wait; either way the
teardown runs to the end, a second Ctrl-C included."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from typing import TypeVar

import click

from .exitcodes import EXIT_INTERRUPTED, raise_interrupted

T = TypeVar("T")


def serve_until_interrupted(
    start: Callable[[], T], stop: Callable[[], None], announce: Callable[[T], None], *, what: str
) -> None:
    done = threading.Event()

    # while starting, a signal unwinds the start, and the finally below removes what started
    previous = {sig: signal.signal(sig, raise_interrupted) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            started = start()
        except KeyboardInterrupt:
            click.echo(f"interrupted while starting; removing the {what}", err=True)
            raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
        for sig in previous:
            signal.signal(sig, lambda *_: done.set())
        announce(started)
        sys.stdout.flush()
        while not done.wait(0.5):
            pass
    finally:
        for sig in previous:
            signal.signal(sig, signal.SIG_IGN)  # a second Ctrl-C must not cut the teardown short
        stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)

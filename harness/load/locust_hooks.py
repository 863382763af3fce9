"""What every Locust process of a load run does around its users: it registers the shared options
(settings.py), fixes the run's start when the load begins, and opens its journal, as files when
it has a journal directory (UAT_JOURNAL, the harness's own processes) or shipped to the master
when it is a worker without one (a worker on another machine). The master receives the shipped
journals and, at the end of the profile, stops the workers and waits for their last batches before
it quits: a worker flushes when its users stop, and a master that quit first would drop the rest.

Imported by the locustfile (users.py); importing it registers the listeners.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

import gevent
from locust import events
from locust.env import Environment
from locust.runners import MasterRunner, Runner, WorkerRunner

from .identities import load_population
from .journal import FileSink, Journal, write_status
from .settings import POPULATION_OPTION, Settings, add_arguments
from .shipping import FLUSH_EVERY_S, MESSAGE, Receiver, Shipper, wait_until_shipped

DRAIN_S = 60.0  # the master's bound on waiting for the workers' final journals and their return
logger = logging.getLogger(__name__)


class _Process:
    journal: Journal | None = None
    shipper: Shipper | None = None
    flusher: gevent.Greenlet | None = None
    receiver: Receiver | None = None


_process = _Process()


def journal() -> Journal | None:
    """This process's journal once the load has started (None: no journal, e.g. a plain run)."""
    return _process.journal


@events.init_command_line_parser.add_listener
def _arguments(parser: Any, **_: Any) -> None:
    add_arguments(parser)


@events.init.add_listener
def _init(environment: Environment, runner: Runner | None = None, **_: Any) -> None:
    options = environment.parsed_options
    if options is None or isinstance(runner, WorkerRunner):
        return
    if not getattr(options, POPULATION_OPTION, ""):
        setattr(options, POPULATION_OPTION, load_population().to_json())
    if isinstance(runner, MasterRunner):
        receiver = Receiver(
            os.environ.get("UAT_JOURNAL"),
            expected_workers=int(options.expect_workers),
            remote_workers=Settings.read(options).remote_workers,
        )
        _process.receiver = receiver

        def received(environment: Environment, msg: Any, **_: Any) -> None:
            receiver.receive(msg.node_id, msg.data, runner.worker_indexes.get(msg.node_id))

        runner.register_message(MESSAGE, received)
        environment.events.worker_connect.add_listener(lambda client_id, **_: receiver.join(client_id))
        receiver.write_status()


@events.test_start.add_listener
def _start(environment: Environment, **_: Any) -> None:
    runner, options = environment.runner, environment.parsed_options
    if options is None:
        return
    if not isinstance(runner, WorkerRunner) and not options.uat_run_started:
        options.uat_run_started = time.time()  # before the master's spawn messages carry the options
    settings = Settings.read(options)
    directory = os.environ.get("UAT_JOURNAL")
    if isinstance(runner, MasterRunner):
        if _process.receiver is not None:
            _process.receiver.start(settings.run_started)
        return
    if directory and not isinstance(runner, WorkerRunner):
        write_status(directory, {"run_started": settings.run_started})
    if _process.journal is not None:
        return  # a second start in the same process appends to the same journal
    if directory:
        _process.journal = Journal(FileSink(directory), settings.run_started)
    elif isinstance(runner, WorkerRunner):
        shipper = Shipper(lambda batch: runner.send_message(MESSAGE, batch))
        shipper.hello()
        _process.shipper = shipper
        _process.journal = Journal(shipper, settings.run_started)
        _process.flusher = gevent.spawn(_flush_periodically, shipper)


def _flush_periodically(shipper: Shipper) -> None:
    while True:
        gevent.sleep(FLUSH_EVERY_S)
        try:
            shipper.flush(final=False)
        except Exception:  # kept for the next flush; the master's count tells if it never arrives
            logger.exception("shipping the journal to the master failed; will retry")


@events.test_stop.add_listener
def _stopped(environment: Environment, **_: Any) -> None:
    # A worker's users have stopped and it has not yet told the master: the last journal batch
    # goes now, and so do its last stats, which the master would discard once the worker has
    # reported stopped.
    if _process.journal is not None:
        _process.journal.flush(final=True)
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        report: dict[str, Any] = {}
        environment.events.report_to_master.fire(client_id=runner.client_id, data=report)
        runner.send_message("stats", report)


@events.quitting.add_listener
def _quitting(environment: Environment, **_: Any) -> None:
    if _process.flusher is not None:
        _process.flusher.kill(block=False)
    if _process.journal is not None:
        _process.journal.close()
    if _process.receiver is not None:
        _process.receiver.close()


def finish(runner: Runner | None) -> None:
    """The profile has ended. On a master: stop the workers (each flushes its journal before it
    reports stopped), wait, bounded, for every shipping worker's final batch and for every worker
    to report ready again, so that the quit which follows reaches all of them."""
    if not isinstance(runner, MasterRunner):
        return
    runner.stop()
    deadline = time.monotonic() + DRAIN_S
    receiver = _process.receiver
    options = runner.environment.parsed_options
    if receiver is not None:
        shippers = Settings.read(options).remote_workers
        if not wait_until_shipped(receiver, shippers, DRAIN_S, gevent.sleep):
            logger.error("gave up waiting for the final journal batch of every remote worker")
        receiver.write_status()
    expected = int(options.expect_workers) if options is not None else 0
    while len(runner.clients.ready) < expected and time.monotonic() < deadline:
        gevent.sleep(0.2)

"""A locustfile for test_locust_hooks.py: users that only write journal rows until the shape ends,
pausing in the middle of each task as a trader waits on a request, so that stopping them takes
longer than a master that quits at once would wait. Each process counts what it wrote into
$ROWS_COUNT_DIR, so the test can hold what arrived against what the worker says it wrote."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import gevent
from locust import LoadTestShape, User, constant, events, task

from harness.load import locust_hooks

_written = [0]
ROWS_PER_HALF = 50  # a few users are enough to pass one batch (1,000 rows), even on a loaded box


class Writer(User):
    wait_time = constant(0)

    @task
    def write(self) -> None:
        journal = locust_hooks.journal()
        assert journal is not None, "no journal: neither UAT_JOURNAL nor a master to ship to"
        index = getattr(self.environment.runner, "worker_index", 0)
        for half in range(2):
            for _ in range(ROWS_PER_HALF):
                _written[0] += 1
                key = f"w{index}-{_written[0]}"
                journal.write(f"writer-{index}", "invoke", "place_order", {"client_order_id": key}, key=key)
            if not half:
                gevent.sleep(2.0)
        journal.measured("order to fill", 1.0)
        _written[0] += 1


class Shape(LoadTestShape):
    def tick(self) -> tuple[int, float] | None:
        if self.get_run_time() >= 3:
            locust_hooks.finish(self.runner)
            return None
        return 60, 100.0


@events.quitting.add_listener
def _count(environment: Any, **_: Any) -> None:
    directory = os.environ.get("ROWS_COUNT_DIR")
    if directory and _written[0]:
        Path(directory, f"{os.getpid()}.count").write_text(str(_written[0]))

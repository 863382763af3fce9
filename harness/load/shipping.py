"""Journals over the wire: a Locust worker on another machine has no directory the harness reads,
so it ships its journal rows to the master in Locust's own messages, and the master appends them
to `history-remote-<worker>.jsonl` / `measures-remote-<worker>.jsonl`, which `merge()` reads like
any other process's journal.

Nothing may be lost without anyone noticing: each batch carries the running total of rows the
worker has sent, the master counts what arrived, and `audit()` compares the two (and the lines
on disk) after the run. This module knows nothing of Locust: the send function and the messages
come from locust_hooks.py, so the logic is testable without a runner.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TextIO

from .journal import read_status, write_status

MESSAGE = "uat-journal"
BATCH_ROWS = 1000  # rows a message carries at most: a burst is several messages, never one huge one
FLUSH_EVERY_S = 0.5

Send = Callable[[dict[str, Any]], None]


class Shipper:
    """A worker's journal sink: rows are buffered and sent in batches. `flush(final=True)` runs
    when the worker's users have stopped, before the worker tells the master it stopped, and
    always sends one last batch (empty or not) so the master knows the journal is complete."""

    def __init__(self, send: Send, batch_rows: int = BATCH_ROWS) -> None:
        self._send = send
        self.batch_rows = batch_rows
        self.sent = 0  # rows handed to the transport, a running total carried in every batch
        self.batches = 0
        self.final_sent = False
        self._pending: list[tuple[str, str]] = []
        self._buffer = threading.Lock()
        self._sending = threading.Lock()  # one flush at a time: totals must leave in order

    def put(self, kind: str, line: str) -> None:
        with self._buffer:
            self._pending.append((kind, line))

    def flush(self, final: bool) -> None:
        with self._sending:
            while True:
                with self._buffer:
                    rows = self._pending[: self.batch_rows]
                    del self._pending[: len(rows)]
                    more = bool(self._pending)
                last = final and not more
                if not rows and not last:
                    return
                if not rows and self.final_sent:
                    return  # nothing new since the final batch: the master already has it all
                self._ship(rows, last)
                if not more:
                    return

    def close(self) -> None:
        self.flush(final=True)

    def hello(self) -> None:
        """An empty first batch: the master learns early that this worker ships its journal."""
        with self._sending:
            if self.batches == 0:
                self._ship([], final=False)

    def _ship(self, rows: list[tuple[str, str]], final: bool) -> None:
        batch = {
            "history": [line for kind, line in rows if kind == "history"],
            "measures": [line for kind, line in rows if kind == "measures"],
            "seq": self.batches,
            "sent": self.sent + len(rows),
            "final": final,
        }
        try:
            self._send(batch)
        except Exception:
            with self._buffer:  # not sent: keep the rows, in order, for the next flush
                self._pending[:0] = rows
            raise
        self.sent += len(rows)
        self.batches += 1
        self.final_sent = final


@dataclass
class Shipped:
    """What the master knows of one shipping worker."""

    worker_index: int | None = None
    received: int = 0  # rows that arrived
    sent: int = 0  # rows the worker says it sent, as of its latest batch
    batches: int = 0
    final: bool = False
    out_of_order: int = 0  # batches whose sequence number was not the next one


class Receiver:
    """The master's end. It also keeps the status file the harness reads (journal.STATUS): when
    the load started, which workers joined, and what each shipping worker sent and delivered."""

    def __init__(self, directory: str | Path | None, expected_workers: int, remote_workers: int) -> None:
        self.directory = Path(directory) if directory else None
        self.expected_workers = expected_workers
        self.remote_workers = remote_workers
        self.joined: list[str] = []
        self.run_started: float | None = None
        self.shipped: dict[str, Shipped] = {}
        self._files: dict[tuple[str, str], TextIO] = {}
        self._lock = threading.Lock()

    def join(self, client_id: str) -> None:
        if client_id not in self.joined:
            self.joined.append(client_id)
            self.write_status()

    def start(self, run_started: float) -> None:
        self.run_started = run_started
        self.write_status()

    def receive(self, client_id: str, batch: dict[str, Any], worker_index: int | None = None) -> None:
        with self._lock:
            record = self.shipped.setdefault(client_id, Shipped())
            first = record.batches == 0
            record.worker_index = worker_index if worker_index is not None else record.worker_index
            if int(batch.get("seq", record.batches)) != record.batches:
                record.out_of_order += 1
            for kind in ("history", "measures"):
                lines = batch.get(kind) or []
                if lines:
                    self._file(client_id, kind).write("".join(f"{line}\n" for line in lines))
                record.received += len(lines)
            record.sent = max(record.sent, int(batch.get("sent", 0)))
            record.batches += 1
            record.final = record.final or bool(batch.get("final"))
        if first or batch.get("final"):
            self.write_status()

    def complete(self, expected_shippers: int) -> bool:
        """Every shipping worker (at least `expected_shippers` of them) sent its final batch."""
        with self._lock:
            records = list(self.shipped.values())
        return len(records) >= expected_shippers and all(r.final for r in records)

    def status(self) -> dict[str, Any]:
        with self._lock:
            shipped = {client: asdict(record) for client, record in self.shipped.items()}
        return {
            "run_started": self.run_started,
            "expected_workers": self.expected_workers,
            "remote_workers": self.remote_workers,
            "joined": list(self.joined),
            "shipped": shipped,
        }

    def write_status(self) -> None:
        if self.directory is not None:
            write_status(self.directory, self.status())

    def close(self) -> None:
        with self._lock:
            for handle in self._files.values():
                handle.close()
            self._files.clear()
        self.write_status()

    def _file(self, client_id: str, kind: str) -> TextIO:
        handle = self._files.get((client_id, kind))
        if handle is None:
            if self.directory is None:
                raise RuntimeError(
                    "a worker shipped its journal, but this master has no journal directory (UAT_JOURNAL)"
                )
            self.directory.mkdir(parents=True, exist_ok=True)
            handle = (self.directory / f"{kind}-remote-{safe_name(client_id)}.jsonl").open("a")
            self._files[(client_id, kind)] = handle
        return handle


def safe_name(client_id: str) -> str:
    """A Locust client id (host name + uuid) as a file name."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", client_id)


def wait_until_shipped(
    receiver: Receiver, expected_shippers: int, timeout_s: float, sleep: Callable[[float], object]
) -> bool:
    """Bounded wait for every shipping worker's final batch; `sleep` is gevent's on a master."""
    deadline = time.monotonic() + timeout_s
    while not receiver.complete(expected_shippers):
        if time.monotonic() >= deadline:
            return False
        sleep(0.1)
    return True


def _lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for line in handle if line.strip())


def audit(directory: str | Path, remote_workers: int) -> dict[str, Any]:
    """Rows on disk from local processes and from shipping workers, and every way the shipped
    part can be incomplete: a worker that never sent its final batch, rows that a worker says it
    sent but that are not on disk, or fewer shipping workers than remote workers (one that kept its
    journal on its own disk, where nobody reads it)."""
    directory = Path(directory)
    status = read_status(directory)
    local_rows = remote_rows = 0
    for path in [*directory.glob("history-*.jsonl"), *directory.glob("measures-*.jsonl")]:
        count = _lines(path)
        if "-remote-" in path.name:
            remote_rows += count
        else:
            local_rows += count
    problems: list[str] = []
    workers: dict[str, dict[str, Any]] = {}
    shipped: dict[str, dict[str, Any]] = status.get("shipped", {})
    for client, record in sorted(shipped.items()):
        name = safe_name(client)
        files = [directory / f"{kind}-remote-{name}.jsonl" for kind in ("history", "measures")]
        on_disk = sum(_lines(path) for path in files if path.exists())
        workers[client] = {**record, "on_disk": on_disk}
        who = f"worker {record.get('worker_index')} ({client})"
        if not record.get("final"):
            problems.append(f"{who} never sent its final journal batch: its last rows are missing")
        if record.get("received") != record.get("sent") or on_disk != record.get("sent"):
            problems.append(
                f"{who} says it sent {record.get('sent')} journal rows; {record.get('received')} arrived "
                f"and {on_disk} are on disk"
            )
    if len(shipped) != remote_workers:
        problems.append(
            f"{len(shipped)} worker(s) shipped a journal to the master, but {remote_workers} remote "
            "worker(s) were expected: a remote worker with UAT_JOURNAL set keeps its journal on its own disk"
        )
    return {
        "local_rows": local_rows,
        "remote_rows": remote_rows,
        "remote_workers": remote_workers,
        "shipped": workers,
        "problems": problems,
    }

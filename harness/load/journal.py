"""The history journal of a Locust process: Locust users run in other processes (and, with
--workers, other machines), so each process appends its operations to JSONL files that the
harness merges into one History after the run. A worker on another machine has no such directory:
its rows travel to the master (shipping.py), which appends them to files of the same shape."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TextIO

from ..history import History, Op


class Sink(Protocol):
    """Where a journal's rows go: files on this machine, or the master over Locust's channel."""

    def put(self, kind: str, line: str) -> None:
        """One JSON row; kind is "history" or "measures"."""

    def flush(self, final: bool) -> None:
        """Push out what is buffered; `final` when this process's users have stopped."""

    def close(self) -> None: ...


class FileSink:
    """history-<pid>.jsonl and measures-<pid>.jsonl in a directory this process can write."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        Path(directory).mkdir(parents=True, exist_ok=True)
        self.path = Path(directory) / f"history-{os.getpid()}.jsonl"
        self._files: dict[str, TextIO] = {
            "history": self.path.open("a", buffering=1 << 16),
            "measures": (Path(directory) / f"measures-{os.getpid()}.jsonl").open("a", buffering=1 << 16),
        }

    def put(self, kind: str, line: str) -> None:
        self._files[kind].write(line + "\n")

    def flush(self, final: bool) -> None:
        for handle in self._files.values():
            handle.flush()

    def close(self) -> None:
        for handle in self._files.values():
            handle.close()


class Journal:
    """Operations and measurements of one Locust process, as JSON rows timed from the run's start."""

    def __init__(self, sink: Sink | str | os.PathLike[str], started_wall: float) -> None:
        self.sink: Sink = sink if not isinstance(sink, str | os.PathLike) else FileSink(sink)
        self._lock = threading.Lock()
        self.started_wall = started_wall  # the run's start, shared by every process (epoch seconds)

    def write(
        self,
        process: str,
        type_: str,
        f: str,
        value: dict[str, Any],
        *,
        key: str,
        latency_ms: float | None = None,
        status: int | None = None,
        error: str = "",
    ) -> None:
        row = {
            "process": process,
            "type": type_,
            "f": f,
            "value": value,
            "time": time.time() - self.started_wall,
            "latency_ms": latency_ms,
            "status": status,
            "error": error,
            "key": key,
        }
        with self._lock:
            self.sink.put("history", json.dumps(row, default=str))

    def measured(self, name: str, latency_ms: float) -> None:
        """A timed measurement that is not an operation (order-to-fill seen on the stream), kept
        with its time so the run can split it into before, during and after the faults."""
        row = {"measure": name, "time": time.time() - self.started_wall, "latency_ms": latency_ms}
        with self._lock:
            self.sink.put("measures", json.dumps(row))

    def flush(self, final: bool = True) -> None:
        self.sink.flush(final)

    def close(self) -> None:
        self.sink.close()


STATUS = "locust-run.json"  # what the Locust side tells the harness: run start, workers, shipping


def write_status(directory: str | os.PathLike[str], status: dict[str, Any]) -> None:
    """Replace the status file whole, so a reader never sees half of it."""
    Path(directory).mkdir(parents=True, exist_ok=True)
    partial = Path(directory) / f".{STATUS}.{os.getpid()}"
    partial.write_text(json.dumps(status, indent=1))
    os.replace(partial, Path(directory) / STATUS)


def read_status(directory: str | os.PathLike[str]) -> dict[str, Any]:
    try:
        status = json.loads((Path(directory) / STATUS).read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    return status if isinstance(status, dict) else {}


def read_measures(directory: str | os.PathLike[str], name: str) -> list[tuple[float, float]]:
    """(time, latency_ms) of every `name` measurement of every process, in time order."""
    out: list[tuple[float, float]] = []
    for path in sorted(Path(directory).glob("measures-*.jsonl")):
        for line in path.read_text().splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # a process killed mid-write leaves half a line
            if row.get("measure") == name:
                out.append((float(row["time"]), float(row["latency_ms"])))
    return sorted(out)


def merge(
    directory: str | os.PathLike[str],
    history: History,
    faults_at: Callable[[float], tuple[str, ...]] | None = None,
) -> int:
    """Read every process's journal into `history`, pairing invokes and completions by key,
    and mark each operation with the faults the run's timeline says were active then."""
    rows: list[dict[str, Any]] = []
    for path in sorted(Path(directory).glob("history-*.jsonl")):
        for line in path.read_text().splitlines():
            if line.strip():
                rows.append(json.loads(line))
    rows.sort(key=lambda r: r["time"])
    invokes: dict[str, int] = {}
    for row in rows:
        index = len(history.ops)
        invoke_index = None
        if row["type"] == "invoke":
            invokes[row["key"]] = index
        else:
            invoke_index = invokes.get(row["key"])
        history.ops.append(
            Op(
                index,
                row["process"],
                row["type"],
                row["f"],
                row["value"],
                row["time"],
                latency_ms=row["latency_ms"],
                status=row["status"],
                error=row["error"],
                invoke_index=invoke_index,
                faults=faults_at(row["time"]) if faults_at else (),
            )
        )
    return len(rows)

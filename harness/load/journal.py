"""The history journal of a Locust process: Locust users run in other processes (and, with
--workers, other machines), so each process appends its operations to a JSONL file that the
harness merges into one History after the run."""

from __future__ import annotations

import itertools
import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from ..history import History, Op


class Journal:
    def __init__(self, directory: str | os.PathLike[str], started_wall: float) -> None:
        Path(directory).mkdir(parents=True, exist_ok=True)
        self.path = Path(directory) / f"history-{os.getpid()}.jsonl"
        self._file: TextIO = self.path.open("a", buffering=1 << 16)
        measures = Path(directory) / f"measures-{os.getpid()}.jsonl"
        self._measures: TextIO = measures.open("a", buffering=1 << 16)
        self._lock = threading.Lock()
        self._ids = itertools.count()
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
            self._file.write(json.dumps(row, default=str) + "\n")

    def measured(self, name: str, latency_ms: float) -> None:
        """A timed measurement that is not an operation (order-to-fill seen on the stream), kept
        with its time so the run can split it into before, during and after the faults."""
        row = {"measure": name, "time": time.time() - self.started_wall, "latency_ms": latency_ms}
        with self._lock:
            self._measures.write(json.dumps(row) + "\n")

    def close(self) -> None:
        with self._lock:
            self._file.close()
            self._measures.close()


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

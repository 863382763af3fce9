"""Reading Locust's CSV output. Locust counts our custom events (stream quote age, order ack and
fill latency) as requests too, so request rates here are HTTP only: the run is started with
--csv-full-history, whose history has a row per request name at every write, and the HTTP rate
of a write is the sum of its GET, POST and DELETE rows."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

HTTP_METHODS = frozenset({"GET", "POST", "DELETE"})


def read_csv(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


@dataclass(frozen=True)
class Write:
    """One write of locust_stats_history.csv (Locust writes it about once a second)."""

    timestamp: float  # epoch seconds
    users: int
    http_rps: float
    failures_per_s: float


def writes(rows: list[dict[str, str]]) -> list[Write]:
    """Every write of the history, in order. Locust writes a row per name, then the Aggregated
    row last; grouping by that row, not by the whole-second timestamp, keeps apart two writes
    that fall in one second."""
    out: list[Write] = []
    http = 0.0
    for row in rows:
        if row.get("Name") == "Aggregated":
            if row.get("Timestamp"):
                out.append(
                    Write(
                        float(row["Timestamp"]),
                        int(float(row.get("User Count") or 0)),
                        http,
                        float(row.get("Failures/s") or 0),
                    )
                )
            http = 0.0
        elif row.get("Type") in HTTP_METHODS:
            http += float(row.get("Requests/s") or 0)
    return out


TAIL_BYTES = 64 * 1024  # many writes' worth of rows (a write is a row per request name)


def last_writes(path: Path) -> list[Write]:
    """The latest writes of a history still being written, from the file's tail: the progress
    line reads it every second, and the whole file grows by a row per name each second."""
    if not path.exists():
        return []
    with path.open("rb") as handle:
        header = handle.readline()
        size = handle.seek(0, io.SEEK_END)
        start = max(len(header), size - TAIL_BYTES)
        handle.seek(start)
        tail = handle.read().decode(errors="replace").splitlines()
    if start > len(header):
        tail = tail[1:]  # the first line may begin mid-row
    rows = list(csv.DictReader([header.decode(errors="replace"), *tail]))
    return writes(rows)[1:] if start > len(header) else writes(rows)  # the first write may be partial

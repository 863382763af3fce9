"""CPU of each process in a load run, read from /proc: on a 2-core box the first question about
any figure is who else was using the cores. A group is a process and all its descendants
(Postgres is a postmaster and its backends; a Locust master is one process)."""

from __future__ import annotations

import csv
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds) of pid, or None once it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name may hold spaces and parentheses: the fields start after the last ')'
    fields = raw[raw.rindex(")") + 2 :].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICKS


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None:
                tree.setdefault(stat[0], []).append(int(entry.name))
    return tree


def _tree_seconds(root: int, tree: dict[int, list[int]], others: set[int]) -> float:
    """CPU seconds of root and its descendants, less the subtrees of the other groups' roots
    (the Locust processes and the middleware are our children, yet groups of their own)."""
    total, stack, seen = 0.0, [root], set()
    while stack:
        pid = stack.pop()
        if pid in seen or (pid != root and pid in others):
            continue
        seen.add(pid)
        stat = _stat(pid)
        if stat is not None:
            total += stat[1]
        stack.extend(tree.get(pid, ()))
    return total


@dataclass
class CpuSampler:
    """Call `sample()` about once a second; `summary()` gives each group's mean and peak, in
    percent of one core (200 is both cores of a 2-core box), and `write_csv()` every sample, so
    a peak can be lined up with what the run was doing at that second."""

    groups: dict[str, int]
    series: dict[str, list[float]] = field(default_factory=dict)
    samples: list[tuple[float, str, float]] = field(default_factory=list)  # (epoch s, group, %)
    _last: dict[str, float] = field(default_factory=dict)
    _last_at: float = 0.0

    def sample(self) -> dict[str, float]:
        now = time.monotonic()
        tree = _children()
        roots = set(self.groups.values())
        seconds = {name: _tree_seconds(pid, tree, roots) for name, pid in self.groups.items()}
        current: dict[str, float] = {}
        wall = time.time()
        if self._last_at:
            elapsed = max(now - self._last_at, 1e-3)
            for name, value in seconds.items():
                # a group whose root exited reads 0 s: no negative CPU
                current[name] = max(0.0, value - self._last.get(name, value)) / elapsed * 100
                self.series.setdefault(name, []).append(current[name])
                self.samples.append((wall, name, current[name]))
        self._last, self._last_at = seconds, now
        return current

    def summary(self) -> dict[str, dict[str, float]]:
        return {
            name: {"mean": round(sum(values) / len(values), 1), "max": round(max(values), 1)}
            for name, values in self.series.items()
            if values
        }

    def write_csv(self, path: Path, origin: float) -> Path:
        """cpu.csv: time_s (seconds since `origin`, epoch), group, percent of one core."""
        with path.open("w", newline="") as handle:
            out = csv.writer(handle)
            out.writerow(["time_s", "group", "percent"])
            for wall, name, percent in self.samples:
                out.writerow([f"{wall - origin:.1f}", name, f"{percent:.1f}"])
        return path

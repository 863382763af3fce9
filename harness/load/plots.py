"""The load run in pictures: traders and throughput, order latency, failures, with every
fault window shaded, so a reader sees at a glance what a fault did to the traders."""

from __future__ import annotations

import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: no display on CI
import matplotlib.pyplot as plt

from ..history import History
from ..timeline import Timeline
from .locust_csv import writes


def plot_run(
    path: Path, history: History, timeline: Timeline, locust_rows: list[dict[str, str]], started_wall: float
) -> Path:
    """Write a PNG with four panels over run time; returns its path."""
    fig, axes = plt.subplots(4, 1, figsize=(11, 11), sharex=True)
    users, rps = _locust_series(locust_rows, started_wall)
    axes[0].plot(*users, label="traders", color="tab:blue")
    twin = axes[0].twinx()
    twin.plot(*rps, label="requests/s", color="tab:gray", alpha=0.7)
    axes[0].set_ylabel("traders")
    twin.set_ylabel("HTTP requests/s")
    p50, p99 = _latency_series(history)
    axes[1].plot(*p50, label="order ack p50")
    axes[1].plot(*p99, label="order ack p99")
    axes[1].set_ylabel("ms")
    axes[1].legend(loc="upper left")
    refused, unknown = _outcome_series(history)
    axes[2].bar(*refused, width=1.0, align="edge", label="refused (fail)", color="tab:orange", alpha=0.8)
    axes[2].bar(*unknown, width=1.0, align="edge", label="unknown (info)", color="tab:red", alpha=0.8)
    axes[2].set_ylabel("orders per second")
    axes[2].legend(loc="upper left")
    for index, window in enumerate(timeline.windows):
        end = window.end if window.end is not None else max(users[0], default=window.start)
        axes[3].barh(index, end - window.start, left=window.start, color="tab:red", alpha=0.6)
        axes[3].text(window.start, index, f" {window.name}", va="center", fontsize=8)
        for ax in axes[:3]:
            ax.axvspan(window.start, end, color="tab:red", alpha=0.1)
    axes[3].set_yticks([])
    axes[3].set_ylabel("faults")
    axes[3].set_xlabel("seconds into the run")
    fig.suptitle("Load run: traders, order latency, failures and faults")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def _locust_series(rows: list[dict[str, str]], started: float) -> tuple[tuple[list[float], list[float]], ...]:
    """Traders, and HTTP requests/s (not our stream and latency events), over run time."""
    history = writes(rows)
    t = [w.timestamp - started for w in history]
    return (t, [float(w.users) for w in history]), (t, [w.http_rps for w in history])


def _per_second(history: History) -> dict[int, list[Any]]:
    buckets: dict[int, list[Any]] = defaultdict(list)
    for invoked, done in history.completions("place_order"):
        buckets[int(invoked.time)].append(done)
    return buckets


def _latency_series(history: History) -> tuple[tuple[list[int], list[float]], tuple[list[int], list[float]]]:
    seconds, p50, p99 = [], [], []
    for second, done in sorted(_per_second(history).items()):
        latencies = [d.latency_ms for d in done if d.type == "ok" and d.latency_ms is not None]
        if len(latencies) >= 2:
            cuts = statistics.quantiles(latencies, n=100)
            seconds.append(second)
            p50.append(cuts[49])
            p99.append(cuts[98])
    return (seconds, p50), (seconds, p99)


def _outcome_series(history: History) -> tuple[tuple[list[int], list[int]], tuple[list[int], list[int]]]:
    buckets = sorted(_per_second(history).items())
    seconds = [s for s, _ in buckets]
    refused = [sum(d.type == "fail" for d in done) for _, done in buckets]
    unknown = [sum(d.type == "info" for d in done) for _, done in buckets]
    return (seconds, refused), (seconds, unknown)

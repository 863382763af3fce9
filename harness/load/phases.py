"""Latency and throughput before, during and after the faults of a load run: what a capacity
figure means is how the platform behaves around the fault, not one average over the whole run."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from typing import Any

from ..history import History
from ..timeline import Timeline

PHASES = ("before", "during", "after")


def _phase(t: float, windows: list[tuple[float, float]], grace: float) -> str:
    if not windows or t < windows[0][0]:
        return "before"
    if any(start <= t <= end + grace for start, end in windows):
        return "during"
    return "after" if t > windows[-1][1] + grace else "during"


def _percentiles(values: list[float]) -> dict[str, float | int | None]:
    if len(values) < 2:
        only = round(values[0], 1) if values else None
        return {"n": len(values), "p50": only, "p95": only, "p99": only}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"n": len(values), "p50": round(cuts[49], 1), "p95": round(cuts[94], 1), "p99": round(cuts[98], 1)}


def split_by_phase(
    history: History,
    timeline: Timeline,
    fills: Iterable[tuple[float, float]],
    rps_rows: Iterable[tuple[float, float]],
    grace_s: float,
) -> dict[str, dict[str, Any]]:
    """Ack latency (accepted orders), order-to-fill latency and mean requests/s per phase.
    `during` runs from the first fault's start to the last one's end plus the recovery grace;
    the load's ramp counts as `before`."""
    end = max((w.end for w in timeline.windows if w.end is not None), default=None)
    windows = [(w.start, w.end if w.end is not None else w.start) for w in timeline.windows]
    windows.sort()
    acks: dict[str, list[float]] = {p: [] for p in PHASES}
    for invoked, done in history.completions("place_order"):
        if done.type == "ok" and done.latency_ms is not None:
            acks[_phase(invoked.time, windows, grace_s)].append(done.latency_ms)
    fill_ms: dict[str, list[float]] = {p: [] for p in PHASES}
    for t, ms in fills:
        # a fill belongs to the phase its order was sent in
        fill_ms[_phase(t - ms / 1000, windows, grace_s)].append(ms)
    rps: dict[str, list[float]] = {p: [] for p in PHASES}
    for t, value in rps_rows:
        rps[_phase(t, windows, grace_s)].append(value)
    out: dict[str, dict[str, Any]] = {}
    for phase in PHASES:
        out[phase] = {
            "order_ack_ms": _percentiles(acks[phase]),
            "order_to_fill_ms": _percentiles(fill_ms[phase]),
            "rps": round(statistics.fmean(rps[phase]), 1) if rps[phase] else None,
        }
    out["during"]["window_s"] = (
        [round(windows[0][0], 1), round(end + grace_s, 1)] if windows and end is not None else None
    )
    return out

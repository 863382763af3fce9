"""A PNG of one scenario run: fault windows against order latency and error rate over time."""

from __future__ import annotations

import io
from typing import Any

BIN_S = 0.5


def fault_plot(history: Any, timeline: Any, title: str) -> bytes:
    """Order latency (ms, one dot per completed order) and the error rate per half second, with
    each fault window shaded and named. `history` and `timeline` are a run's History/Timeline."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pairs = history.completions("place_order")
    ok = [(done.time, done.latency_ms or 0.0) for _, done in pairs if done.type == "ok"]
    bad = [(done.time, done.latency_ms or 0.0) for _, done in pairs if done.type != "ok"]
    end = max([done.time for _, done in pairs] + [w.end or 0.0 for w in timeline.windows] + [1.0])
    bins = int(end / BIN_S) + 1
    totals, errors = [0] * bins, [0] * bins
    for _, done in pairs:
        slot = min(int(done.time / BIN_S), bins - 1)
        totals[slot] += 1
        errors[slot] += done.type != "ok"
    rate = [100.0 * e / t if t else 0.0 for e, t in zip(errors, totals, strict=True)]

    fig, (lat, err) = plt.subplots(2, 1, figsize=(10, 5.5), sharex=True, constrained_layout=True)
    colours = ["#d62728", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2"]
    for i, window in enumerate(timeline.windows):
        stop = window.end if window.end is not None else end
        colour = colours[i % len(colours)]
        for axis in (lat, err):
            axis.axvspan(window.start, stop, color=colour, alpha=0.15)
        lat.text(
            window.start,
            1.0,
            f" {window.name}",
            transform=lat.get_xaxis_transform(),
            va="top",
            fontsize=8,
            color=colour,
        )
    if ok:
        lat.scatter(*zip(*ok, strict=True), s=8, color="#1f77b4", label="ok")
    if bad:
        lat.scatter(*zip(*bad, strict=True), s=14, marker="x", color="#d62728", label="fail / unknown")
    lat.set_ylabel("order latency (ms)")
    lat.set_title(title, fontsize=10)
    if ok or bad:
        lat.legend(loc="upper right", fontsize=8)
    err.step([i * BIN_S for i in range(bins)], rate, where="post", color="#d62728")
    err.set_ylim(-5, 105)
    err.set_ylabel("orders refused (%)")
    err.set_xlabel("seconds since the scenario started (shaded: fault active)")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return buf.getvalue()

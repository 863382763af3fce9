"""An SVG of one scenario run: fault windows against order latency and error rate over time.

Written by hand rather than with a plotting library: the gate draws one per scenario, and
matplotlib cost every gate process ~1 s to import plus ~0.5 s of CPU per plot. SVG is vector
output that Allure shows inline."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from typing import Any
from xml.sax.saxutils import escape

BIN_S = 0.5
WIDTH, HEIGHT = 900, 500
LEFT, RIGHT = 72, 884  # the plot area, both panels
LAT_TOP, LAT_BOTTOM = 40, 272
ERR_TOP, ERR_BOTTOM = 292, 452
PANELS = ((LAT_TOP, LAT_BOTTOM), (ERR_TOP, ERR_BOTTOM))  # latency above, orders refused below
REFUSED_LO, REFUSED_HI = -5.0, 105.0  # the refused panel's y range (%), a margin around 0..100
OK_COLOUR, BAD_COLOUR = "#1f77b4", "#d62728"
PALETTE = ("#d62728", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

Scale = Callable[[float], float]


def text(value: str) -> str:
    """Character data safe in any SVG: escaped, and without the characters XML forbids."""
    return escape(_NOT_XML.sub("", value))


def rect(x: float, y: float, width: float, height: float, style: str) -> str:
    return f'<rect x="{x}" y="{y}" width="{width}" height="{height}" {style}/>'


def nice_step(span: float, count: int = 6) -> float:
    """A tick step of 1, 2 or 5 x 10^k giving about `count` ticks over `span`."""
    raw = max(span, 1e-9) / count
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw * (1 - 1e-9))


def nice_top(value: float, ticks: int = 6) -> tuple[float, float]:
    """An axis top at or above `value` on a tick, and the tick step."""
    step = nice_step(value, ticks)
    return max(step, math.ceil(value / step - 1e-9) * step), step


def label(value: float, step: float) -> str:
    if abs(value) >= 1e6:
        return f"{value:.3g}"
    return f"{value:.{max(0, -math.floor(math.log10(step)))}f}"


def scale(lo: float, hi: float, out_lo: float, out_hi: float) -> Scale:
    """Maps lo..hi onto out_lo..out_hi, clamping values outside the range to its edges."""
    factor = (out_hi - out_lo) / (hi - lo)
    return lambda v: round(out_lo + (min(max(v, lo), hi) - lo) * factor, 1)


def refused_steps(pairs: list[tuple[Any, Any]]) -> list[tuple[float, float]]:
    """(bin start, % of orders refused) where the rate changes; bins without orders count 0."""
    totals = Counter(max(0, int(done.time / BIN_S)) for _, done in pairs)
    errors = Counter(max(0, int(done.time / BIN_S)) for _, done in pairs if done.type != "ok")
    steps, after = [(0.0, 0.0)], 0
    for slot in sorted(totals):
        if slot > after:
            steps.append((after * BIN_S, 0.0))
        steps.append((slot * BIN_S, 100.0 * errors[slot] / totals[slot]))
        after = slot + 1
    steps.append((after * BIN_S, 0.0))
    return [s for i, s in enumerate(steps) if i == 0 or s[1] != steps[i - 1][1]]


def step_path(steps: list[tuple[float, float]], end: float, sx: Scale, sy: Scale) -> str:
    d = [f"M{sx(steps[0][0])},{sy(steps[0][1])}"]
    d += [f"H{sx(x)}V{sy(rate)}" for x, rate in steps[1:]]
    d.append(f"H{sx(end)}")
    style = f'fill="none" stroke="{BAD_COLOUR}" stroke-width="1.5"'
    return f'<path id="refused-rate" d="{"".join(d)}" {style}/>'


def y_ticks(top: float, step: float, sy: Scale) -> list[str]:
    return [
        f'<g class="ytick" transform="translate(0,{sy(i * step)})">'
        f'<line x1="{LEFT}" x2="{RIGHT}" stroke="#e5e5e5"/><line x1="{LEFT - 4}" x2="{LEFT}" stroke="#333"/>'
        f'<text x="{LEFT - 7}" dy="0.32em" text-anchor="end">{label(i * step, step)}</text></g>'
        for i in range(round(top / step) + 1)
    ]


def x_ticks(end: float, step: float, sx: Scale) -> list[str]:
    return [
        f'<g class="xtick" transform="translate({sx(i * step)},0)">'
        f'<line y1="{LAT_TOP}" y2="{LAT_BOTTOM}" stroke="#e5e5e5"/>'
        f'<line y1="{ERR_TOP}" y2="{ERR_BOTTOM + 4}" stroke="#e5e5e5"/>'
        f'<text y="{ERR_BOTTOM + 17}" text-anchor="middle">{label(i * step, step)}</text></g>'
        for i in range(round(end / step) + 1)
    ]


def windows(timeline: Any, end: float, sx: Scale) -> list[str]:
    """Each fault window shaded across both panels, its name at the top (kept inside the plot)."""
    out = []
    for i, window in enumerate(timeline.windows):
        colour, name = PALETTE[i % len(PALETTE)], str(window.name)
        x0 = sx(window.start)
        width = max(sx(window.end if window.end is not None else end) - x0, 1.0)
        out += [
            rect(x0, top, width, bottom - top, f'fill="{colour}" fill-opacity="0.15"')
            for top, bottom in PANELS
        ]
        fits = x0 + 3 + 6.5 * len(name) <= RIGHT  # else it ends where the window does
        at = f'x="{x0 + 3}"' if fits else f'x="{min(x0 + width, RIGHT) - 3}" text-anchor="end"'
        y = LAT_TOP + 11 + 11 * (i % 2)  # alternate rows, so that neighbouring names do not overlap
        out.append(f'<text class="window" {at} y="{y}" fill="{colour}">{text(name)}</text>')
    return out


def markers(ok: list[tuple[float, float]], bad: list[tuple[float, float]], sx: Scale, sy: Scale) -> list[str]:
    dots = "".join(f'<circle cx="{sx(t)}" cy="{sy(ms)}" r="2"/>' for t, ms in ok)
    crosses = "".join(f'<path d="{cross(sx(t), sy(ms))}"/>' for t, ms in bad)
    return [
        f'<g id="ok-orders" fill="{OK_COLOUR}">{dots}</g>',
        f'<g id="failed-orders" stroke="{BAD_COLOUR}" stroke-width="1.3">{crosses}</g>',
    ]


def cross(x: float, y: float, r: float = 3.0) -> str:
    return f"M{x - r:.1f},{y - r:.1f}L{x + r:.1f},{y + r:.1f}M{x - r:.1f},{y + r:.1f}L{x + r:.1f},{y - r:.1f}"


def legend(has_ok: bool, has_bad: bool) -> list[str]:
    """One line above the latency panel's right end, clear of the data and of the window names."""
    entries = [(name, mark, room) for name, mark, room, shown in (
        ("ok", f'<circle cx="4" r="2.5" fill="{OK_COLOUR}"/>', 36, has_ok),
        ("fail / unknown", f'<path d="{cross(4, 0)}" stroke="{BAD_COLOUR}"/>', 96, has_bad),
    ) if shown]  # fmt: skip
    x, items = RIGHT - sum(room for _, _, room in entries), []
    for name, mark, room in entries:
        items.append(
            f'<g transform="translate({x},{LAT_TOP - 12})">{mark}<text x="11" dy="0.32em">{name}</text></g>'
        )
        x += room
    return [f'<g id="legend">{"".join(items)}</g>'] if items else []


def titles(title: str) -> list[str]:
    middle = (LEFT + RIGHT) / 2
    return [
        f'<text x="{middle}" y="22" text-anchor="middle" font-size="13">{text(title)}</text>',
        f'<text x="{middle}" y="{HEIGHT - 12}" text-anchor="middle">'
        "seconds since the scenario started (shaded: fault active)</text>",
        *(
            f'<text transform="translate(18,{(top + bottom) / 2}) rotate(-90)" text-anchor="middle">'
            f"{name}</text>"
            for (top, bottom), name in zip(PANELS, ("order latency (ms)", "orders refused (%)"), strict=True)
        ),
    ]


def finite(value: float | None) -> float:
    return value if value is not None and math.isfinite(value) else 0.0


def fault_svg(history: Any, timeline: Any, title: str) -> bytes:
    """Order latency (ms, one dot per completed order) and the error rate per half second, with
    each fault window shaded and named. `history` and `timeline` are a run's History/Timeline."""
    pairs = history.completions("place_order")
    ok = [(done.time, finite(done.latency_ms)) for _, done in pairs if done.type == "ok"]
    bad = [(done.time, finite(done.latency_ms)) for _, done in pairs if done.type != "ok"]
    last = [done.time for _, done in pairs] + [1.0]
    last += [w.end if w.end is not None else w.start + BIN_S for w in timeline.windows]
    end, x_step = nice_top(max(last), ticks=10)
    lat_top, lat_step = nice_top(max([ms for _, ms in ok + bad] + [1.0]) * 1.2)  # room for names
    sx = scale(0.0, end, LEFT, RIGHT)
    s_lat = scale(0.0, lat_top, LAT_BOTTOM, LAT_TOP)
    s_err = scale(REFUSED_LO, REFUSED_HI, ERR_BOTTOM, ERR_TOP)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="11">',
        f"<title>{text(title)}</title>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>',
        *windows(timeline, end, sx),
        *x_ticks(end, x_step, sx),
        '<g id="latency">',
        *y_ticks(lat_top, lat_step, s_lat),
        *markers(ok, bad, sx, s_lat),
        "</g>",
        '<g id="refused">',
        *y_ticks(100.0, 20.0, s_err),
        step_path(refused_steps(pairs), end, sx, s_err),
        "</g>",
        *(rect(LEFT, top, RIGHT - LEFT, bottom - top, 'fill="none" stroke="#333"') for top, bottom in PANELS),
        *legend(bool(ok), bool(bad)),
        *titles(title),
        "</svg>",
    ]
    return "\n".join(parts).encode("utf-8")

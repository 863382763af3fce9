"""The investigation as text: a table with one line per trader (each hop a short mark, then where the
chain broke), a detail block for each disagreeing trader, then the middleware's own SQL findings.

It must stay readable at 5,000 traders: agreeing traders are counted, not listed, once there are
more than `limit` traders; the table lists at most MAX_ROWS disagreeing traders and the detail
blocks at most `limit`, each saying how many more there are (the JSON has them all).
"""

from __future__ import annotations

import json
from typing import Any

from .evidence import line
from .report import (
    AGREEING,
    DUPLICATE,
    HOPS,
    MISMATCH,
    MISSING,
    NOT_EXPECTED,
    OK,
    UNREAD,
    Report,
    TraderReport,
)

LIMIT = 50  # disagreeing traders shown in detail
MAX_ROWS = 1000  # disagreeing traders in the table
RECORDS_SHOWN = 4  # records per hop in a detail block
SQL_ROWS_SHOWN = 3
MARKS = {OK: "ok", NOT_EXPECTED: "-", MISSING: "MISS", DUPLICATE: "DUP", MISMATCH: "BAD", UNREAD: "?"}
LEGEND = "marks: ok, - not expected, MISS missing, DUP duplicate, BAD mismatch, ? not read"
NOTHING = "no trader to investigate: the snapshot names no expected trader (not evidence of agreement)"


def _n(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'s' * (count != 1)}"


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def headline(report: Report) -> str:
    bad = len(report.disagreeing)
    parts = [f"lifecycle: {_n(len(report.traders), 'trader')}, {bad:,} disagree{'s' * (bad == 1)}"]
    counts = report.broke_at()
    if counts:
        parts.append("broke at: " + ", ".join(f"{hop} {counts[hop]:,}" for hop in HOPS if counts[hop]))
    if report.sql:
        parts.append(_n(len(report.sql), "SQL finding"))
    if report.missing:
        parts.append(f"{len(report.missing)} not read")
    return "; ".join(parts)


def table(report: Report, limit: int) -> list[str]:
    listed_all = len(report.traders) <= limit
    rows = [t for t in report.traders if listed_all or not t.agrees]
    shown = rows[:MAX_ROWS] if not listed_all else rows
    cust_w = min(max([len("customer"), *(len(t.customer) for t in shown)]), 28)
    mail_w = min(max([len("email"), *(len(t.email) for t in shown)]), 32)
    widths = [max(len(h), 4) for h in HOPS]

    def row(customer: str, email: str, marks: list[str], broke: str) -> str:
        cells = [_cut(customer, cust_w).ljust(cust_w), _cut(email, mail_w).ljust(mail_w)]
        cells += [m.ljust(w) for m, w in zip(marks, widths, strict=True)]
        return "  ".join([*cells, broke]).rstrip()

    out = [row("customer", "email", list(HOPS), "broke_at")]
    for trader in shown:
        marks = [MARKS.get(h.status, h.status) for h in trader.hops]
        out.append(row(trader.customer, trader.email, marks, trader.broke_at or "-"))
    if len(rows) > len(shown):
        out.append(f"… and {_n(len(rows) - len(shown), 'more disagreeing trader')} (--json lists them all)")
    agreeing = sum(1 for t in report.traders if t.agrees)
    if not listed_all and agreeing:
        out.append(f"({_n(agreeing, 'trader')} agreeing on every hop, not listed)")
    out.append(LEGEND)
    return out


def details(trader: TraderReport) -> list[str]:
    where = f"broke at {trader.broke_at}" if trader.broke_at else "not judged"
    out = [f"{trader.customer} <{trader.email}>: {where}: {trader.diagnosis}"]
    for hop in trader.hops:
        if hop.status in AGREEING:
            continue
        out.append(f"  {hop.name:<10}  {hop.status:<9}  {hop.detail}")
        out += [f"      {line(r)}" for r in hop.records[:RECORDS_SHOWN]]
        if len(hop.records) > RECORDS_SHOWN:
            out.append(f"      … {len(hop.records) - RECORDS_SHOWN} more")
    return out


def _sql(entry: dict[str, Any]) -> list[str]:
    rows = entry.get("rows") or []
    name = entry.get("name") or entry.get("query") or "a lifecycle query"
    what = f": {entry['what']}" if entry.get("what") else ""
    out = [f"  {name}{what} ({_n(len(rows), 'row')})"]
    out += [f"      {_cut(json.dumps(r, default=str), 160)}" for r in rows[:SQL_ROWS_SHOWN]]
    if len(rows) > SQL_ROWS_SHOWN:
        out.append(f"      … {len(rows) - SQL_ROWS_SHOWN} more")
    return out


def render_text(report: Report, limit: int = LIMIT) -> str:
    """The whole investigation as text, ending with a newline."""
    if not report.traders:
        out = [NOTHING]
    else:
        out = [headline(report), "", *table(report, limit)]
        bad = report.disagreeing
        for trader in bad[:limit]:
            out += ["", *details(trader)]
        if len(bad) > limit:
            out += ["", f"… and {_n(len(bad) - limit, 'more disagreeing trader')} (--limit N shows more)"]
    if report.sql:
        out += ["", "SQL findings (the middleware's own database disagrees with itself or the ledgers):"]
        for entry in report.sql:
            out += _sql(entry)
    if report.missing:
        out += ["", "not read (hops that need these are not judged):"]
        out += [f"  {m}" for m in report.missing]
    return "\n".join(out) + "\n"

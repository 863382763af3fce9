"""Positions and realized P&L, from fills (the venue's executions), per account, venue and symbol."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .config import Config

# USD per 1.0 of price per contract, by product root; unknown roots count 1.
POINT_VALUES = {"ES": 50.0, "NQ": 20.0, "CL": 1000.0, "GC": 100.0}
# The venue's commission per contract per side, by product root (the firm's clearing agreement).
FEES = {"ES": 2.25, "NQ": 2.25, "CL": 2.50, "GC": 2.50}
# Orders that may still fill: each counts its unfilled rest against the position limit.
_WORKING = "status IN ('pending_new', 'unknown', 'working', 'partially_filled')"
_SIGNED = "CASE WHEN side = 'BUY' THEN qty ELSE -qty END"
_LIVE_ORDER = "status NOT IN ('risk_rejected', 'rejected', 'failed')"


def point_value(symbol: str) -> float:
    return POINT_VALUES.get(symbol[:2], 1.0)


def fee_per_contract(symbol: str) -> float:
    return FEES.get(symbol[:2], 0.0)


async def exposure(conn: Any, account_id: str, symbol: str) -> tuple[int, int, int]:
    """(net, buys, sells): the filled position on the symbol at the execution venues (Rithmic and CQG:
    an account routed from one to the other keeps what it holds at the first) and the unfilled rest
    of the account's orders that may still fill, per side. One statement, so one snapshot: read apart, a fill
    committed between the two reads would leave the position (read before it) and its order's rest
    (read after it) both without that fill's quantity."""
    row = await conn.fetchrow(
        f"SELECT (SELECT COALESCE(SUM({_SIGNED}), 0) FROM fills WHERE account_id = $1 AND symbol = $2 "
        "AND venue IN ('rithmic', 'cqg'))::int AS net, "
        "COALESCE(SUM(qty - filled_qty) FILTER (WHERE side = 'BUY'), 0)::int AS buys, "
        "COALESCE(SUM(qty - filled_qty) FILTER (WHERE side = 'SELL'), 0)::int AS sells "
        f"FROM orders WHERE account_id = $1 AND symbol = $2 AND {_WORKING}",
        account_id,
        symbol,
    )
    return int(row["net"]), int(row["buys"]), int(row["sells"])


async def positions(conn: Any, cfg: Config, account_id: str) -> list[dict[str, Any]]:
    if cfg.mutant("position_from_orders"):
        rows = await conn.fetch(
            f"SELECT venue, symbol, exchange, SUM({_SIGNED})::int AS net_qty, COUNT(*) AS fills "
            f"FROM orders WHERE account_id = $1 AND {_LIVE_ORDER} GROUP BY venue, symbol, exchange",
            account_id,
        )
    else:
        rows = await conn.fetch(
            f"SELECT venue, symbol, exchange, SUM({_SIGNED})::int AS net_qty, COUNT(*) AS fills "
            "FROM fills WHERE account_id = $1 GROUP BY venue, symbol, exchange",
            account_id,
        )
    out = [
        {
            "venue": r["venue"],
            "symbol": r["symbol"],
            "exchange": r["exchange"],
            "net_qty": int(r["net_qty"]),
            "fills": int(r["fills"]),
        }
        for r in rows
    ]
    return sorted(out, key=lambda p: (p["venue"], p["symbol"]))


async def net_position(conn: Any, cfg: Config, account_id: str, symbol: str) -> int:
    for row in await positions(conn, cfg, account_id):
        if row["symbol"] == symbol:
            return int(row["net_qty"])
    return 0


@dataclass
class Book:
    """Average-cost booking of fills in order: the P&L the closing parts realised (less fees when
    asked), and each symbol's open (net, average open price); a flat symbol has (0, 0.0)."""

    realized: float = 0.0
    open: dict[str, tuple[int, float]] = field(default_factory=dict)


def book_fills(rows: Iterable[Any], *, fees: bool = True) -> Book:
    """Rows with symbol, side, qty and price, oldest first. One booking for both answers, so the
    risk check's realised P&L and the P&L endpoint's open prices can never disagree."""
    book = Book()
    for r in rows:
        net, avg = book.open.get(r["symbol"], (0, 0.0))
        if fees:
            book.realized -= fee_per_contract(r["symbol"]) * r["qty"]
        signed = r["qty"] if r["side"] == "BUY" else -r["qty"]
        price = float(r["price"])
        if net == 0 or (net > 0) == (signed > 0):
            total = abs(net) + abs(signed)
            avg = (avg * abs(net) + price * abs(signed)) / total
            net += signed
        else:
            closing = min(abs(net), abs(signed))
            direction = 1 if net > 0 else -1
            book.realized += (price - avg) * closing * direction * point_value(r["symbol"])
            net += signed
            if net == 0:
                avg = 0.0
            elif (net > 0) != (direction > 0):
                avg = price
        book.open[r["symbol"]] = (net, avg)
    return book


_FILLS = "SELECT symbol, side, qty, price FROM fills WHERE account_id = $1"
_TODAY = " AND received_at >= date_trunc('day', now())"


async def realized_pnl_today(conn: Any, account_id: str, *, fees: bool = True) -> float:
    """Average-cost realized P&L over today's fills (UTC day), less the venue's fees on every fill:
    a trader who churns flat still loses the commissions."""
    rows = await conn.fetch(f"{_FILLS}{_TODAY} ORDER BY id", account_id)
    return book_fills(rows, fees=fees).realized


async def open_book(conn: Any, account_id: str) -> dict[str, tuple[int, float]]:
    """Each symbol's open (net, average open price) over all the account's fills, whatever day
    they were booked: a position carried overnight still has its open price."""
    rows = await conn.fetch(f"{_FILLS} ORDER BY id", account_id)
    return book_fills(rows, fees=False).open

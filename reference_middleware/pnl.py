"""An account's P&L as GET /v1/accounts/{account_id}/pnl serves it: today's realised P&L net of fees
(the figure the daily loss limit holds), and each open position marked to the hub's last price.

Unrealised per symbol is net x (mark - average open price) x point value. A position whose symbol
has no quote yet has no mark: its unrealised is null and it is left out of the total, so the total
never pretends to know a price the service has not seen.
"""

from __future__ import annotations

from typing import Any

from .config import Config
from .hub import Hub
from .positions import open_book, point_value, realized_pnl_today
from .quotes import decimal_text, mark_price


def unrealized(net: int, avg: float, mark: float, symbol: str, *, short_blind: bool = False) -> float:
    """`short_blind` is the unrealized_ignores_short_side mutant: a short counted as a long."""
    size = abs(net) if short_blind else net
    return size * (mark - avg) * point_value(symbol)


async def account_pnl(conn: Any, cfg: Config, hub: Hub, account_id: str) -> dict[str, Any]:
    realized = await realized_pnl_today(conn, account_id, fees=not cfg.mutant("realized_pnl_gross"))
    rows: list[dict[str, Any]] = []
    total = 0.0
    for symbol, (net, avg) in sorted((await open_book(conn, account_id)).items()):
        if net == 0:
            continue
        mark = mark_price(hub.quotes.get(symbol))
        value = None
        if mark is not None:
            value = unrealized(
                net, avg, mark, symbol, short_blind=cfg.mutant("unrealized_ignores_short_side")
            )
            total += value
        rows.append(
            {
                "symbol": symbol,
                "net_qty": net,
                "avg_price": decimal_text(avg),
                "mark": decimal_text(mark),
                "unrealized_pnl": decimal_text(value, 2),
            }
        )
    return {
        "account": account_id,
        "realized_pnl": decimal_text(realized, 2),
        "unrealized_pnl": decimal_text(total, 2),
        "positions": rows,
    }

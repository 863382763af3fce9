"""Every step of every price path, kept so a checker can hold P&L and loss limits against the prices the
venue really showed (served at `GET <control>/market/history?symbol=ESZ6&since=<epoch>`).

Bounded per instrument (36,000 steps: an hour at 10 steps a second); a halted instrument records
nothing, as it does not step. Cleared on reset.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any, NamedTuple

from aiohttp import web

from mocks.common import error

from .market import Instrument, Market, Quote

Key = tuple[str, str]  # (symbol, exchange)
MAXLEN = 36_000


class Step(NamedTuple):
    ts: float  # epoch seconds
    seq: int
    bid_ticks: int
    ask_ticks: int
    last_ticks: int
    regime: str  # the regimes that shaped the step, "+"-joined; "" for a plain random walk


class PriceHistory:
    def __init__(self, maxlen: int = MAXLEN) -> None:
        self.maxlen = maxlen
        self._steps: dict[Key, deque[Step]] = {}

    def record(self, key: Key, quote: Quote, regime: str) -> None:
        steps = self._steps.get(key)
        if steps is None:
            steps = self._steps[key] = deque(maxlen=self.maxlen)
        steps.append(Step(quote.ts, quote.seq, quote.bid_ticks, quote.ask_ticks, quote.last_ticks, regime))

    def since(self, key: Key, since: float | None = None) -> list[Step]:
        """The steps recorded strictly after `since` (all of them without it), oldest first."""
        steps = self._steps.get(key, deque())
        if since is None:
            return list(steps)
        newer: list[Step] = []
        for step in reversed(steps):  # a poll usually wants only the tail
            if step.ts <= since:
                break
            newer.append(step)
        newer.reverse()
        return newer

    def clear(self) -> None:
        self._steps.clear()


def history_json(inst: Instrument, steps: list[Step]) -> dict[str, Any]:
    return {
        "symbol": inst.symbol,
        "exchange": inst.exchange,
        "tick_size": inst.tick_size,
        "point_value": inst.point_value,
        "steps": [
            {
                "ts": s.ts,
                "seq": s.seq,
                "bid": inst.price(s.bid_ticks),
                "ask": inst.price(s.ask_ticks),
                "last": inst.price(s.last_ticks),
                "regime": s.regime,
            }
            for s in steps
        ],
    }


async def serve_history(market: Market, history: PriceHistory, request: web.Request) -> web.Response:
    """`GET /market/history?symbol=S&since=T`: 404 naming `symbol` when it is not listed, 400 naming
    `since` when it is not a finite number."""
    symbol = request.query.get("symbol", "")
    inst = next((i for i in market.instruments.values() if i.symbol == symbol), None)
    if inst is None:
        listed = ", ".join(i.symbol for i in market.instruments.values())
        return error(404, f"unknown symbol {symbol!r}; listed: {listed}", "symbol")
    since: float | None = None
    raw = request.query.get("since")
    if raw is not None:
        try:
            since = float(raw)
        except ValueError:
            since = math.nan
        if not math.isfinite(since):
            return error(400, f"since must be epoch seconds (a finite number), got {raw!r}", "since")
    return web.json_response(history_json(inst, history.since((inst.symbol, inst.exchange), since)))

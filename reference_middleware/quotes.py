"""The last quote of a symbol as GET /v1/quotes/{symbol} serves it: prices as decimal strings, and
whether it is stale, by the same bound the stream and the risk check use."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from .hub import Hub

CENT = Decimal("0.01")


def decimal_text(value: float | None, places: int | None = None) -> str | None:
    """A money value as a decimal string: from the float's shortest repr, so 6800.25 is "6800.25"
    and never 6800.2500000001; rounded half-even to `places` when given (2: cents)."""
    if value is None:
        return None
    number = Decimal(repr(float(value)))
    if number.is_zero():
        number = abs(number)  # -0.0 is "0", not "-0"
    if places is not None:
        number = number.quantize(Decimal(1).scaleb(-places))
    text = format(number, "f")
    return text if places is not None or "." not in text else text.rstrip("0").rstrip(".")


def mark_price(quote: dict[str, Any] | None) -> float | None:
    """What an open position is worth a contract: the last trade, else the mid of the touch."""
    if quote is None:
        return None
    if quote.get("trade_price") is not None:
        return float(quote["trade_price"])
    bid, ask = quote.get("bid_price"), quote.get("ask_price")
    if bid is None or ask is None:
        return None
    return (float(bid) + float(ask)) / 2


def quote_view(hub: Hub, symbol: str, *, swapped: bool = False) -> dict[str, Any] | None:
    """None before the symbol's first quote. `swapped` is the quote_bid_ask_swapped mutant."""
    quote = hub.quotes.get(symbol)
    if quote is None:
        return None
    bid, ask = quote.get("bid_price"), quote.get("ask_price")
    if swapped:
        bid, ask = ask, bid
    at = float(quote["at"])
    age = round(max(time.time() - at, 0.0), 3)
    return {
        "symbol": symbol,
        "bid": decimal_text(bid),
        "ask": decimal_text(ask),
        "last": decimal_text(quote.get("trade_price")),
        "at": at,
        "age_s": age,
        "stale": hub.is_stale(age),
    }

"""The order request and its JSON form: validation of POST /v1/orders bodies, and rendering rows."""

from __future__ import annotations

import re
from typing import Any

from .config import Config
from .quotes import decimal_text

COID = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")
# Money is a decimal string ("6800.25"), never a binary float: the text of a positive price, and of
# an amount that may be zero. At most MONEY_CHARS characters, so it always fits a double.
POSITIVE_DECIMAL = r"^[0-9]*[1-9][0-9]*(\.[0-9]+)?$|^[0-9]+\.[0-9]*[1-9][0-9]*$"
DECIMAL_AMOUNT = r"^[0-9]+(\.[0-9]+)?$"
MONEY_CHARS = 24


class BadRequest(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def money(field: str, value: Any, *, positive: bool) -> float:
    """A decimal string's value; BadRequest naming the field for anything else (a JSON number too)."""
    pattern = POSITIVE_DECIMAL if positive else DECIMAL_AMOUNT
    if not isinstance(value, str) or len(value) > MONEY_CHARS or not re.match(pattern, value):
        kind = "a positive" if positive else "a"
        raise BadRequest(
            field, f'must be {kind} decimal string such as "6800.25" (at most {MONEY_CHARS} characters)'
        )
    return float(value)


def order_json(row: Any) -> dict[str, Any]:
    return {
        "client_order_id": row["client_order_id"],
        "account": row["account_id"],
        "venue": row["venue"],
        "symbol": row["symbol"],
        "exchange": row["exchange"],
        "side": row["side"],
        "qty": row["qty"],
        "type": row["order_type"],
        "limit_price": decimal_text(row["limit_price"]),  # money is a decimal string both ways
        "status": row["status"],
        "reason": row["reason"],
        "venue_order_id": row["basket_id"],
        "filled_qty": row["filled_qty"],
        "avg_fill_price": decimal_text(row["avg_fill_price"]),
        "created_at": row["created_at"].isoformat(),
        "updated_at": row["updated_at"].isoformat(),
    }


def validate(cfg: Config, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequest("body", "must be a JSON object")
    coid = body.get("client_order_id")
    if not isinstance(coid, str) or not COID.match(coid):
        raise BadRequest("client_order_id", "must be 1-64 characters of letters, digits, _ . : -")
    account = body.get("account")
    if not isinstance(account, str) or not account:
        raise BadRequest("account", "is required")
    if "\x00" in account:
        raise BadRequest("account", "must not contain a NUL character")
    symbol = body.get("symbol")
    exchanges = dict(cfg.symbols)
    if not isinstance(symbol, str) or symbol not in exchanges:
        raise BadRequest("symbol", f"must be one of {', '.join(exchanges)}")
    side = str(body.get("side", "")).upper()
    if side not in ("BUY", "SELL"):
        raise BadRequest("side", "must be BUY or SELL")
    qty = body.get("qty")
    if isinstance(qty, float) and qty.is_integer():
        qty = int(qty)  # JSON has one number type: 2.0 is the integer 2
    if isinstance(qty, bool) or not isinstance(qty, int) or not 1 <= qty <= 10_000:
        raise BadRequest("qty", "must be an integer from 1 to 10000")
    order_type = str(body.get("type", "")).upper()
    if order_type not in ("MARKET", "LIMIT"):
        raise BadRequest("type", "must be MARKET or LIMIT")
    price = body.get("limit_price")
    if order_type == "LIMIT":
        if price is None:
            raise BadRequest("limit_price", "is required for a LIMIT order")
        price = money("limit_price", price, positive=True)
    else:
        price = None
    return {
        "client_order_id": coid,
        "account": account,
        "symbol": symbol,
        "exchange": exchanges[symbol],
        "side": side,
        "qty": qty,
        "type": order_type,
        "limit_price": price,
    }

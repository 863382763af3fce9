"""The CQG mock's live settings, read and patched through `GET/POST /cqg/config`.

The limits default to the documented WebAPI protocol limits; the heartbeat figures are the mock's own
(the server pings every `ping_interval_s` and drops a client whose pong is `pong_timeout_s` late).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from mocks.common import FaultError

CONCURRENT_POLICIES = ("allow", "kick", "reject")

# name -> (low, high) for the numeric settings
_BOUNDS: dict[str, tuple[float, float]] = {
    "ping_interval_s": (0.05, 3600.0),
    "pong_timeout_s": (0.05, 3600.0),
    "restore_window_s": (0.0, 86_400.0),
    "max_messages": (1, 1_000_000),
    "message_window_s": (0.1, 3600.0),
    "max_orders_per_account_per_s": (1, 100_000),
    "max_orders_per_session": (1, 1_000_000),
    "order_window_s": (0.1, 3600.0),
    "max_market_data_subscriptions": (1, 100_000),
    "max_trade_subscriptions": (1, 100_000),
}


@dataclass
class CQGConfig:
    ping_interval_s: float = 10.0
    pong_timeout_s: float = 20.0
    restore_window_s: float = 60.0  # how long a logon outlives its connection for restore-or-join
    max_messages: int = 1000  # client messages per message_window_s; beyond: a user message and a close
    message_window_s: float = 10.0
    max_orders_per_account_per_s: int = 10
    max_orders_per_session: int = 300  # per order_window_s
    order_window_s: float = 10.0
    max_market_data_subscriptions: int = 200
    max_trade_subscriptions: int = 200
    on_concurrent: str = "allow"  # a second logon of a live user: allow, kick the older, reject (105)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def patch(self, body: Any) -> None:
        """Apply a partial patch; a FaultError names the first bad field, and nothing changes then."""
        if not isinstance(body, dict):
            raise FaultError("body", "must be a JSON object")
        known = {f.name: f.type for f in fields(self)}
        values: dict[str, Any] = {}
        for name, value in body.items():
            if name not in known:
                raise FaultError(name, "unknown setting")
            if name == "on_concurrent":
                if value not in CONCURRENT_POLICIES:
                    raise FaultError(name, f"must be one of {', '.join(CONCURRENT_POLICIES)}")
            else:
                integral = known[name] in (int, "int")
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise FaultError(name, "must be a number")
                if integral and not isinstance(value, int):
                    raise FaultError(name, "must be an integer")
                low, high = _BOUNDS[name]
                if not low <= value <= high:
                    raise FaultError(name, f"must be between {low:g} and {high:g}")
            values[name] = value
        for name, value in values.items():
            setattr(self, name, value)

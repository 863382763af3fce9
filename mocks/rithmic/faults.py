"""The Rithmic gateway's protocol faults, armed through the shared control API.

Three kinds of firing:
- **push** faults (`garbage_frame`, `truncated_frame`, `unknown_template`, `wrong_length_prefix`,
  `reject`, `forced_logout`) fire from the gateway's clock, at most once per market-data step: each firing
  hits every logged-in session of the chosen plant ("all" for every plant). `count` is the number of
  firings; without a count they fire every step until cleared or expired.
- **event** faults (`order_reject`, `duplicate_fill`, `out_of_order`, `hold_fills`, `tick_gap`,
  `slow_login`) fire on the next matching event; `count` is the number of events affected.
- **modes** (`silent`, `stale_quotes`, `session_limit`) hold while armed and are never used up.
- **market regimes** (regimes.py) move the price paths in known ways: the modes `trend_down`, `crash`,
  `halt` and `thin_liquidity`, and the event `gap` (one firing a period, for every instrument it aims
  at). `symbol` is one listed symbol, or "" for all.

Every firing is a `fault_fired` event on `GET /events` (a push fault's names the sessions it hit; the
modes `silent`, `stale_quotes` and the regimes are reported once per arming, when they first take
effect, with the symbol; `gap` once per instrument it moves), which is how the harness knows a
scenario's fault actually happened.
"""

from __future__ import annotations

import random
import struct
from typing import TYPE_CHECKING, Any

from mocks.common import FaultKind

from .market import INSTRUMENTS
from .protocol import build, frame

if TYPE_CHECKING:
    from .gateway import RithmicGateway
    from .session import Session

PLANTS = ("ticker", "order", "pnl", "history", "repository")
PUSH_FAULTS = (
    "garbage_frame",
    "truncated_frame",
    "unknown_template",
    "wrong_length_prefix",
    "reject",
    "forced_logout",
)

_PLANT = (str, "all")
_SYMBOL = (str, "")
_SYMBOLS = {"symbol": ("", *(i.symbol for i in INSTRUMENTS))}


def catalogue() -> list[FaultKind]:
    return [
        FaultKind(
            "garbage_frame", "push: a binary frame of random bytes", {"plant": _PLANT, "size": (int, 32)}
        ),
        FaultKind(
            "truncated_frame",
            "push: a valid Reject cut short inside a field (the length prefix matches the cut payload)",
            {"plant": _PLANT},
        ),
        FaultKind(
            "unknown_template",
            "push: a well-formed message whose template id no client knows",
            {"plant": _PLANT, "template_id": (int, 358)},
        ),
        FaultKind(
            "wrong_length_prefix",
            "push: a valid Reject whose 4-byte length prefix is off by `delta`",
            {"plant": _PLANT, "delta": (int, 7)},
        ),
        FaultKind(
            "reject",
            "push: a Reject (75) carrying rp_code [code, text]",
            {"plant": _PLANT, "code": (str, "1"), "text": (str, "mock reject")},
        ),
        FaultKind(
            "forced_logout",
            "push: ForcedLogout (77), then a clean close unless close=false",
            {"plant": _PLANT, "close": (bool, True)},
        ),
        FaultKind(
            "silent",
            "mode: the socket stays open and answers WebSocket pings, but nothing else goes out "
            "(no responses, no heartbeat replies, no ticks, no notifications)",
            {"plant": _PLANT},
        ),
        FaultKind(
            "order_reject",
            "event: the next new orders are rejected with rp_code [code, text]",
            {"code": (str, "1039"), "text": (str, "order rejected by mock")},
        ),
        FaultKind("duplicate_fill", "event: the next fills' exchange notifications (352) are sent twice"),
        FaultKind(
            "out_of_order",
            "event: the next orders' notifications go out fill first, then the open",
        ),
        FaultKind("hold_fills", "event: the next fills are sent `delay_ms` late", {"delay_ms": (int, 2000)}),
        FaultKind(
            "stale_quotes",
            "mode: BestBidOffer keeps repeating a frozen bid/ask while trades move on",
            {"symbol": (str, "")},
        ),
        FaultKind(
            "tick_gap",
            "event: the next `ticks` market-data steps are not sent (the path moves on; volume jumps)",
            {"symbol": (str, ""), "ticks": (int, 5)},
        ),
        FaultKind(
            "session_limit",
            "mode: when a user holds more than `max_sessions` logged-in sessions, the earliest get "
            "ForcedLogout (77) and a close (async-rithmic issue #49)",
            {"max_sessions": (int, 1), "close": (bool, True)},
        ),
        FaultKind(
            "slow_login", "event: the next logins are answered `delay_ms` late", {"delay_ms": (int, 2000)}
        ),
        *regime_catalogue(),
    ]


def regime_catalogue() -> list[FaultKind]:
    """The market regimes (regimes.py): faults that move the price paths in known ways."""
    return [
        FaultKind(
            "trend_down",
            "mode: the path drifts down `ticks_per_step` ticks a step on average, on top of its usual "
            "noise (still on the tick grid, never below 1 tick)",
            {"symbol": _SYMBOL, "ticks_per_step": (float, 0.5)},
            bounds={"ticks_per_step": (0, 50)},
            choices=_SYMBOLS,
        ),
        FaultKind(
            "crash",
            "mode: from the step it first takes effect, the touch falls `pct`% of the price at that "
            "moment, evenly over `over_s` seconds of steps, plus the usual noise; then it random-walks "
            "from where it got to (clearing it early stops the fall; a halt pauses it)",
            {"symbol": _SYMBOL, "pct": (float, 3.0), "over_s": (float, 10.0)},
            bounds={"pct": (0.1, 50), "over_s": (0.001, 3600)},
            choices=_SYMBOLS,
        ),
        FaultKind(
            "gap",
            'event: the next step of the instrument (of every instrument, symbol "") jumps by `pct`% '
            "at once: bid, ask and last move, with no trade in between; resting orders crossed fill at "
            "their own price",
            {"symbol": _SYMBOL, "pct": (float, -1.0)},
            bounds={"pct": (-50, 50)},
            choices=_SYMBOLS,
        ),
        FaultKind(
            "halt",
            "mode: the instrument does not step: no trades, the touch frozen, no market data sent, no "
            "matching (new orders are accepted and rest; after the halt they fill at the touch)",
            {"symbol": _SYMBOL},
            choices=_SYMBOLS,
        ),
        FaultKind(
            "thin_liquidity",
            "mode: the touch shows size 1 each side, and an order takes at most 1 contract, only on "
            "every `every`-th step of its instrument",
            {"symbol": _SYMBOL, "every": (int, 5)},
            bounds={"every": (1, 100)},
            choices=_SYMBOLS,
        ),
    ]


def bad_frame(kind: str, params: dict[str, Any], prefixed: bool, rng: random.Random) -> bytes:
    """The bytes one push fault puts in a frame, for a session with this framing."""
    if kind == "garbage_frame":
        garbage: bytes = rng.randbytes(max(params["size"], 1))
        return garbage
    if kind == "unknown_template":
        # A Reject's fields under a template id nobody maps: well-formed protobuf, unknown meaning.
        payload = build(75, rp_code=["0", "mock: unknown template"])
        payload.template_id = params["template_id"]
        return frame(payload.SerializeToString(), prefixed)
    if kind == "truncated_frame":
        payload = build(75, rp_code=["1", "mock: this frame was cut short"]).SerializeToString()
        cut = payload[: max(len(payload) // 2, 3)]
        return frame(cut, prefixed)
    if kind == "wrong_length_prefix":
        body: bytes = build(75, rp_code=["1", "mock: wrong length prefix"]).SerializeToString()
        return struct.pack(">i", len(body) + params["delta"]) + body
    raise ValueError(kind)


def fire_push(gw: RithmicGateway, name: str, params: dict[str, Any]) -> list[Session]:
    """One firing of a push fault on every matching logged-in session; returns the sessions hit."""
    hit = [s for s in gw.sessions if s.is_open and s.matches(params["plant"])]
    for session in hit:
        if name == "reject":
            session.send(build(75, rp_code=[params["code"], params["text"]]))
        elif name == "forced_logout":
            session.send(build(77))
            if params["close"]:
                gw.spawn(session.close(1000, "forced logout"))
        else:
            session.send_raw(bad_frame(name, params, session.prefixed is not False, gw.rng))
    return hit

"""Rithmic gateway market-data fan-out: tick age (gateway timestamp to subscriber receipt) at p50/p99.

    .venv/bin/python bench/rithmic_fanout.py [--connections 5000] [--workers 2] [--seconds 10]

The gateway runs in its own process at 10 steps/s; every subscriber takes LastTrade for one of the four
listed instruments, so each connection receives 10 ticks/s. Subscribers live in `--workers` client
processes, each a minimal WebSocket client (an asyncio Protocol, no per-message framework cost), so the
client side measures the gateway rather than itself. A baseline with few connections runs first in the
same invocation, and the figures are printed with their ratio to it. Prints figures; never passes or fails.
"""

from __future__ import annotations

import json
import struct
import subprocess
import urllib.request
from typing import Any

from _fanout import FrameSubscriber, measure_ages, parse_args, print_table, runs, start_mock
from async_rithmic.protocol_buffers import last_trade_pb2, request_login_pb2, request_market_data_update_pb2

SYMBOLS = [("ESZ6", "CME"), ("NQZ6", "CME"), ("CLF7", "NYMEX"), ("GCG7", "COMEX")]


def prefixed(message: Any) -> bytes:
    raw: bytes = message.SerializeToString()
    return struct.pack(">i", len(raw)) + raw


class Subscriber(FrameSubscriber):
    """Logs in to the ticker plant, then takes LastTrade for one instrument (by its number)."""

    def opened(self) -> None:
        self.trade = last_trade_pb2.LastTrade()
        login = request_login_pb2.RequestLogin(
            template_id=10,
            template_version="3.9",
            user=self.creds["user"],
            password=self.creds["password"],
            system_name=self.creds["system_name"],
            app_name="bench",
            app_version="0",
            infra_type=1,
        )
        self.send(prefixed(login))

    def binary(self, payload: bytes, now: float) -> None:
        if not self.ready.done():  # the login's answer: subscribe
            self.ready.set_result(None)
            symbol, exchange = SYMBOLS[self.index % len(SYMBOLS)]
            sub = request_market_data_update_pb2.RequestMarketDataUpdate(
                template_id=100, symbol=symbol, exchange=exchange, request=1, update_bits=1
            )
            self.send(prefixed(sub))
            return
        trade = self.trade
        trade.ParseFromString(payload[4:])  # past the R|Protocol length prefix
        if trade.template_id == 150:
            self.record(trade.ssboe + trade.usecs / 1e6, now)


def start_gateway() -> tuple[subprocess.Popen[str], dict[str, Any]]:
    return start_mock(["mocks.rithmic", "--ticks-per-second", "10", "--heartbeat-interval", "30"])


def measure(info: dict[str, Any], connections: int, workers: int, seconds: float) -> dict[str, float]:
    row = measure_ages(Subscriber, info, connections, workers, seconds)
    clock = json.loads(urllib.request.urlopen(info["control"] + "/stats", timeout=10).read())["clock"]
    return row | {
        "gw_tick_p50": clock.get("tick_ms_p50", float("nan")),
        "gw_tick_p99": clock.get("tick_ms_p99", float("nan")),
    }


def main() -> None:
    args = parse_args(__doc__ or "", connections=5000, baseline=100, seconds=10.0)
    rows = runs(args, start_gateway, measure)
    # gw tick: milliseconds the gateway spends on one instrument's tick (step, match, encode, write to all)
    print_table(rows, {"gw tick p50": "gw_tick_p50", "gw p99": "gw_tick_p99"})


if __name__ == "__main__":
    main()

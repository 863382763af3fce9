"""CQG mock market-data fan-out: tick age (gateway quote time to subscriber receipt) at p50/p99.

    .venv/bin/python bench/cqg_fanout.py [--connections 1000] [--baseline 50] [--workers 2] [--seconds 8]

The CQG mock (mocks/cqg) runs in its own process at 10 steps/s; every subscriber logs on (one binary
protobuf ClientMsg per WebSocket frame), subscribes at level 1 (trades) to one of the four contracts,
so each connection receives 10 RealTimeMarketData a second, and answers the server's pings. Subscribers
live in `--workers` client processes, each a minimal WebSocket client (an asyncio Protocol), so the
client side measures the gateway rather than itself. A baseline with few connections runs first in the
same invocation, and the figures are printed with their ratio to it. Prints figures; never passes or
fails.

A quote's time is CQG's `quote_utc_time`, whole milliseconds from the logon's `base_time` (the mock
truncates), so each age reads up to 1 ms high; the ratio to the baseline is unaffected.
"""

from __future__ import annotations

import calendar
import json
import subprocess
import time
import urllib.request
from typing import Any

from _fanout import FrameSubscriber, measure_ages, parse_args, print_table, runs, start_mock

from mocks.cqg.proto import webapi_pb2 as pb

Q_TRADE = 0


def base_epoch(base_time: str) -> float:
    """CQG's base_time (ISO 8601 UTC, no zone, whole seconds) as epoch seconds."""
    return float(calendar.timegm(time.strptime(base_time, "%Y-%m-%dT%H:%M:%S")))


class Subscriber(FrameSubscriber):
    """Logs on, subscribes at level 1 to one contract (by its number), and answers CQG's own pings."""

    def opened(self) -> None:
        self.epoch = 0.0
        self.msg = pb.ServerMsg()
        logon = pb.Logon(
            user_name=self.creds["user"],
            password=self.creds["password"],
            client_app_id="bench",
            client_version="0",
            protocol_version_major=2,
            protocol_version_minor=230,
        )
        self._send(pb.ClientMsg(logon=logon))

    def _send(self, msg: pb.ClientMsg) -> None:
        self.send(msg.SerializeToString())

    def binary(self, payload: bytes, now: float) -> None:
        msg = self.msg
        msg.ParseFromString(payload)
        if msg.HasField("ping"):  # the server's own ping (107): answered, or the mock drops us
            pong = pb.Pong(token=msg.ping.token, ping_utc_time=msg.ping.ping_utc_time)
            self._send(pb.ClientMsg(pong=pong))
        if msg.HasField("logon_result"):
            if msg.logon_result.result_code != 0:
                self.fail(f"logon refused ({msg.logon_result.result_code})")
                return
            self.epoch = base_epoch(msg.logon_result.base_time)
            contracts = self.creds["contracts"]
            contract_id = contracts[self.index % len(contracts)]["contract_id"]
            sub = pb.MarketDataSubscription(contract_id=contract_id, level=1, request_id=1)
            self._send(pb.ClientMsg(market_data_subscriptions=[sub]))
        for status in msg.market_data_subscription_statuses:
            if status.status_code != 0:
                self.fail(f"subscription refused ({status.status_code}): {status.text_message}")
            elif not self.ready.done():
                self.ready.set_result(None)
        for rtmd in msg.real_time_market_data:
            if rtmd.is_snapshot:  # stamped when we subscribed, not when the market moved
                continue
            for quote in rtmd.quotes:
                if quote.type == Q_TRADE:
                    self.record(self.epoch + quote.quote_utc_time / 1000, now)


def start_gateway() -> tuple[subprocess.Popen[str], dict[str, Any]]:
    return start_mock(["mocks.cqg", "--ticks-per-second", "10"])


def measure(info: dict[str, Any], connections: int, workers: int, seconds: float) -> dict[str, float]:
    row = measure_ages(Subscriber, info, connections, workers, seconds)
    stats = json.loads(urllib.request.urlopen(info["control"] + "/stats", timeout=10).read())
    return row | {"dropped": float(stats.get("dropped_ticks", float("nan")))}


def main() -> None:
    args = parse_args(__doc__ or "", connections=1000, baseline=50, seconds=8.0)
    rows = runs(args, start_gateway, measure)
    # dropped: ticks the gateway's slow-consumer policy dropped (GET /stats `dropped_ticks`)
    print_table(rows, {"dropped": "dropped"})


if __name__ == "__main__":
    main()

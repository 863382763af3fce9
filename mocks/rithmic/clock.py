"""The gateway's clock: each instrument's path steps `ticks_per_second` times a second, staggered.

Instruments tick at evenly spread offsets inside each period (as real feeds are not synchronised), so the
fan-out of one instrument's tick never queues behind another's. Once per period the clock also fires the
push faults and sends periodic PnL updates for open positions. Each tick is shaped by the market regimes
(regimes.py) and recorded in the price history; a halted instrument's tick does nothing at all.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from . import faults as rfaults
from .feed import Key

if TYPE_CHECKING:
    from mocks.common import ArmedFault

    from .gateway import RithmicGateway
    from .session import Session


class MarketClock:
    def __init__(self, gateway: RithmicGateway) -> None:
        self.gw = gateway
        self.steps = 0  # full periods
        self.tick_seconds: deque[float] = deque(maxlen=20_000)  # time spent on one instrument's tick
        self._stale: ArmedFault | None = None
        self._skip: set[Session] | None = None

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        keys = list(self.gw.market.paths)
        interval = 1.0 / (self.gw.ticks_per_second * len(keys))
        deadline = loop.time()
        sub = 0
        while True:
            try:
                if sub == 0:
                    self.period()
                self.tick(keys[sub])
            except Exception:
                self.gw.log.exception("market step failed")
            sub = (sub + 1) % len(keys)
            deadline += interval
            delay = deadline - loop.time()
            if delay < 0:
                deadline = loop.time()
            await asyncio.sleep(max(delay, 0.0))

    def step(self) -> None:
        """One whole period at once: faults, then every instrument ticks."""
        self.period()
        for key in list(self.gw.market.paths):
            self.tick(key)

    def period(self) -> None:
        gw = self.gw
        self.steps += 1
        for name in rfaults.PUSH_FAULTS:
            fault = gw.faults.take(name)
            if fault is not None:
                hit = rfaults.fire_push(gw, name, fault.params)
                gw.events.add("fault_fired", fault=name, sessions=[s.id for s in hit])
        gap = gw.faults.take("tick_gap")
        if gap is not None:
            for symbol, exchange in gw.market.paths:
                if gap.params["symbol"] in ("", symbol):
                    gw.feed.gap_left[(symbol, exchange)] = gap.params["ticks"]
                    gw.events.add("fault_fired", fault="tick_gap", symbol=symbol, ticks=gap.params["ticks"])
        gw.regimes.period(gw.market.paths)
        self._stale = gw.faults.active("stale_quotes")
        silent = gw.faults.active("silent")
        self._skip = {s for s in gw.sessions if s.matches(silent.params["plant"])} if silent else None
        if self.steps % max(int(gw.ticks_per_second), 1) == 0:
            for account in gw.pnl.accounts_with_positions():
                gw.push_pnl(account)

    def tick(self, key: Key) -> None:
        gw = self.gw
        started = time.perf_counter()
        path = gw.market.paths[key]
        shift = gw.regimes.shape(key, path.quote.bid_ticks)
        quote = path.step(shift)
        if shift.halted:  # no trade, no tick, no matching: clients see silence on this instrument
            return
        gw.history.record(key, quote, shift.name)
        fills = gw.engine.on_step(*key)
        if fills:
            gw.deliver_fills(fills)
        stale = self._stale is not None and self._stale.params["symbol"] in ("", key[0])
        if stale and self._stale is not None and not self._stale.fired:
            self._stale.fired = 1  # a mode is reported fired once, when it first freezes a quote
            gw.events.add("fault_fired", fault="stale_quotes", symbol=key[0])
        gw.feed.publish(path, quote, stale=stale, skip=self._skip)
        self.tick_seconds.append(time.perf_counter() - started)

    def stats(self) -> dict[str, Any]:
        samples = sorted(self.tick_seconds)
        if len(samples) < 2:
            return {"periods": self.steps, "ticks_timed": len(samples)}
        q = statistics.quantiles(samples, n=100)
        return {
            "periods": self.steps,
            "ticks_timed": len(samples),
            "tick_ms_p50": q[49] * 1000,
            "tick_ms_p99": q[98] * 1000,
            "tick_ms_max": samples[-1] * 1000,
        }

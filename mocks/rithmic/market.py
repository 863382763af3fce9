"""Seeded price paths for a few CME-group futures, with their real tick sizes.

Prices are held as whole ticks so a path never drifts off the tick grid, and never below 1 tick. Each
symbol draws from its own generator seeded from (seed, symbol), so one symbol's path does not depend on
which others tick. A step may be shaped by a market regime (regimes.py): drift, a jump, a halt, a thin
touch; without one it is the plain random walk.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass

from .regimes import CALM, Shift


@dataclass(frozen=True)
class Instrument:
    root: str
    symbol: str
    exchange: str
    tick_size: float
    start_price: float
    point_value: float  # USD per 1.0 of price per contract
    description: str
    fee_per_contract: float = 0.0  # USD per contract per side: the mock's own commission schedule

    @property
    def decimals(self) -> int:
        text = f"{self.tick_size:.10f}".rstrip("0")
        return len(text.split(".")[1]) if "." in text else 0

    def price(self, ticks: int) -> float:
        return round(ticks * self.tick_size, self.decimals)

    def to_ticks(self, price: float) -> int:
        return round(price / self.tick_size)


INSTRUMENTS: tuple[Instrument, ...] = (
    Instrument("ES", "ESZ6", "CME", 0.25, 6800.00, 50.0, "E-mini S&P 500 Dec 2026", 2.25),
    Instrument("NQ", "NQZ6", "CME", 0.25, 25000.00, 20.0, "E-mini Nasdaq-100 Dec 2026", 2.25),
    Instrument("CL", "CLF7", "NYMEX", 0.01, 62.50, 1000.0, "Crude Oil Jan 2027", 2.50),
    Instrument("GC", "GCG7", "COMEX", 0.10, 4100.0, 100.0, "Gold Feb 2027", 2.50),
)


@dataclass
class Quote:
    """One step of a path: the touch, the last trade and the cumulative volume."""

    seq: int
    bid_ticks: int
    ask_ticks: int
    bid_size: int
    ask_size: int
    bid_orders: int
    ask_orders: int
    last_ticks: int
    last_size: int
    aggressor: int  # 1 buy, 2 sell
    volume: int
    ts: float


class PricePath:
    """A seeded random walk on the tick grid, one step per market-data tick."""

    def __init__(self, instrument: Instrument, seed: int) -> None:
        self.instrument = instrument
        self.rng = random.Random(f"{seed}:{instrument.symbol}")
        mid = instrument.to_ticks(instrument.start_price)
        self.quote = Quote(0, mid, mid + 1, 20, 20, 5, 5, mid, 1, 1, 0, time.time())
        self.regime = CALM  # what shaped (or froze) the last step; the engine reads halt and thin here
        self._carry = 0.0  # drift not yet moved: fractional ticks carried to the next step

    def step(self, shift: Shift = CALM) -> Quote:
        """Advance one step: the touch moves by -2..2 ticks (mostly 0 or 1), plus the regime's drift and
        jump, then a trade prints. A halt leaves the quote as it is and draws nothing. Drift and jumps draw
        nothing either, so a regime changes the prices, never the order of the path's random draws."""
        self.regime = shift
        if shift.halted:
            return self.quote
        rng, prev = self.rng, self.quote
        move = rng.choices((-2, -1, 0, 1, 2), weights=(1, 6, 10, 6, 1))[0]
        move += self._drift(shift.drift) + round(prev.bid_ticks * shift.jump_pct / 100)
        bid = max(prev.bid_ticks + move, 1)
        spread = 1 if rng.random() < 0.9 else 2
        ask = bid + spread
        aggressor = 1 if rng.random() < 0.5 else 2
        size = rng.choice((1, 1, 1, 2, 2, 3, 5, 10))
        self.quote = Quote(
            seq=prev.seq + 1,
            bid_ticks=bid,
            ask_ticks=ask,
            bid_size=rng.randint(1, 60),
            ask_size=rng.randint(1, 60),
            bid_orders=rng.randint(1, 20),
            ask_orders=rng.randint(1, 20),
            last_ticks=ask if aggressor == 1 else bid,
            last_size=size,
            aggressor=aggressor,
            volume=prev.volume + size,
            ts=time.time(),
        )
        if shift.thin_every:
            q = self.quote
            q.bid_size = q.ask_size = q.bid_orders = q.ask_orders = 1
        return self.quote

    def _drift(self, ticks: float) -> int:
        """The whole ticks of drift due this step; the fraction is carried, so n steps at d move within
        one tick of n * d in all, with no draw from the generator."""
        if not ticks:
            self._carry = 0.0
            return 0
        self._carry += ticks
        whole = math.floor(self._carry + 1e-9) if self._carry >= 0 else math.ceil(self._carry - 1e-9)
        self._carry -= whole
        return whole


class Market:
    """The paths for every listed instrument, looked up by (symbol, exchange)."""

    def __init__(self, seed: int, instruments: tuple[Instrument, ...] = INSTRUMENTS) -> None:
        self.seed = seed
        self.instruments = {(i.symbol, i.exchange): i for i in instruments}
        self.paths = {key: PricePath(inst, seed) for key, inst in self.instruments.items()}

    def reset(self) -> None:
        self.paths = {key: PricePath(inst, self.seed) for key, inst in self.instruments.items()}

    def lookup(self, symbol: str, exchange: str) -> PricePath | None:
        return self.paths.get((symbol, exchange))

    @property
    def exchanges(self) -> list[str]:
        return sorted({i.exchange for i in self.instruments.values()})

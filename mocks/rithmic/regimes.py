"""Market regimes: faults that move a price path in known ways, so a risk suite can drive traders into
their loss limits on purpose and know by how much.

- `trend_down` (mode): the path drifts down `ticks_per_step` ticks a step on average.
- `crash` (mode): from the step it first takes effect, the touch falls `pct`% of the bid at that moment,
  spread evenly over `over_s` seconds of steps; then it random-walks again, though still armed.
- `gap` (event): the next step of each instrument it aims at jumps by `pct`% at once.
- `halt` (mode): the path does not step at all: no trades, no ticks, no matching.
- `thin_liquidity` (mode): the touch shows size 1 and an order takes at most 1 contract, only on every
  `every`-th step of its instrument.

The clock asks `Regimes.shape` before each step of a path; the answer (a `Shift`) tells the path how
to move and, kept on the path as `PricePath.regime`, tells the engine whether it may match and how
thinly. Drift is carried exactly (no draws), jumps are computed from the price, and the noise still
comes from the path's own generator, so one seed fixes every path under any regime.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from mocks.common import ArmedFault, EventLog, FaultBook

Key = tuple[str, str]  # (symbol, exchange)
MODES = ("halt", "trend_down", "crash", "thin_liquidity")
REGIMES = (*MODES, "gap")


@dataclass(frozen=True)
class Shift:
    """What the regimes do to one step of one path."""

    names: tuple[str, ...] = ()
    drift: float = 0.0  # ticks added per step on average (negative: down)
    jump_pct: float = 0.0  # a one-step jump, in percent of the bid before the step
    halted: bool = False  # no step at all, and no matching
    thin_every: int = 0  # 0: the usual liquidity; n: 1 contract per order on every n-th step

    @property
    def name(self) -> str:
        """The regimes at work, as the price history records them ("" for a plain random walk)."""
        return "+".join(self.names)


CALM = Shift()


class RegimeContext(Protocol):
    """What regimes need of a gateway: its faults, its event log and its step rate."""

    @property
    def faults(self) -> FaultBook: ...
    @property
    def events(self) -> EventLog: ...
    @property
    def ticks_per_second(self) -> float: ...


@dataclass
class _Crash:
    """One crash fault's fall on one path: how many steps are left, and how far each goes."""

    fault_id: int
    steps_left: int
    per_step: float


@dataclass
class _Gap:
    fault_id: int
    pct: float


@dataclass
class Regimes:
    """Turns the armed regime faults into each path's next `Shift`."""

    ctx: RegimeContext
    _crashes: dict[Key, _Crash] = field(default_factory=dict)
    _gaps: dict[Key, _Gap] = field(default_factory=dict)

    def reset(self) -> None:
        self._crashes.clear()
        self._gaps.clear()

    def period(self, keys: Iterable[Key]) -> None:
        """Take one firing of `gap` a period: each instrument it aims at jumps on its next step."""
        fault = self.ctx.faults.take("gap")
        if fault is None:
            return
        for key in keys:
            if _aims(fault, key[0]):
                self._gaps[key] = _Gap(fault.id, fault.params["pct"])

    def shape(self, key: Key, bid_ticks: int) -> Shift:
        """The shift for this path's next step, from the faults armed now; `bid_ticks` is its bid before
        the step (what a crash or a gap takes its percentage of)."""
        symbol, faults = key[0], self.ctx.faults

        def aimed(fault: ArmedFault) -> bool:
            return _aims(fault, symbol)

        halt = faults.active("halt", aimed)
        if halt is not None:  # a pending gap or an unfinished crash waits for the market to reopen
            self._report(halt, symbol)
            return Shift(("halt",), halted=True)
        names: list[str] = []
        drift, jump, thin = 0.0, 0.0, 0
        trend = faults.active("trend_down", aimed)
        if trend is not None:
            self._report(trend, symbol)
            names.append("trend_down")
            drift -= trend.params["ticks_per_step"]
        crash = faults.active("crash", aimed)
        if crash is not None:
            fall = self._crashes.get(key)
            if fall is None or fall.fault_id != crash.id:
                steps = max(round(crash.params["over_s"] * self.ctx.ticks_per_second), 1)
                total = bid_ticks * crash.params["pct"] / 100
                fall = self._crashes[key] = _Crash(crash.id, steps, -total / steps)
            if fall.steps_left > 0:
                fall.steps_left -= 1
                self._report(crash, symbol)
                names.append("crash")
                drift += fall.per_step
        gap = self._gaps.pop(key, None)
        if gap is not None:
            names.append("gap")
            jump = gap.pct
            self.ctx.events.add("fault_fired", fault="gap", id=gap.fault_id, symbol=symbol, pct=gap.pct)
        thin_fault = faults.active("thin_liquidity", aimed)
        if thin_fault is not None:
            self._report(thin_fault, symbol)
            names.append("thin_liquidity")
            thin = thin_fault.params["every"]
        if not names:
            return CALM
        return Shift(tuple(names), drift=drift, jump_pct=jump, thin_every=thin)

    def _report(self, fault: ArmedFault, symbol: str) -> None:
        """A mode is reported fired once per arming, on the first step it shapes."""
        if not fault.fired:
            fault.fired = 1
            params = {k: v for k, v in fault.params.items() if k != "symbol"}
            self.ctx.events.add("fault_fired", fault=fault.kind, id=fault.id, symbol=symbol, **params)


def _aims(fault: ArmedFault, symbol: str) -> bool:
    return fault.params["symbol"] in ("", symbol)

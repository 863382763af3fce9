"""The fault timeline of a run: when each fault began and ended, for checkers and the report."""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class FaultWindow:
    name: str  # e.g. "rithmic down", "rithmic latency 800±200 ms", "rithmic duplicate_fill"
    kind: str  # "network" or "protocol"
    target: str  # the venue or proxy it hits
    venue_down: bool  # the venue is unreachable: orders must fail fast, admin must stay up
    start: float  # seconds since the run started
    end: float | None = None
    unreachable: bool = False  # its target cannot be reached (a venue, or the database link)
    lifting: float | None = None  # when the harness began to lift it: `end` is stamped once lifted
    # what the fault plane counted it did (an extension toxic's `effects`), read just before lifting
    effects: dict[str, int] | None = None
    venue_up: bool = False  # a marker: the middleware must trade on the venue again within it

    @property
    def surely_until(self) -> float | None:
        """Until when the fault was certainly in force: an answer made after the lifting began may
        already have seen the link back."""
        return self.lifting if self.lifting is not None else self.end

    def covers(self, t: float, grace: float = 0.0) -> bool:
        return self.start <= t and (self.end is None or t <= self.end + grace)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Timeline:
    def __init__(self, started: float | None = None) -> None:
        self.started = time.monotonic() if started is None else started
        self.windows: list[FaultWindow] = []
        self._lock = threading.Lock()

    def now(self) -> float:
        return time.monotonic() - self.started

    def begin(
        self,
        name: str,
        *,
        kind: str,
        target: str,
        venue_down: bool = False,
        unreachable: bool = False,
        venue_up: bool = False,
    ) -> FaultWindow:
        window = FaultWindow(
            name, kind, target, venue_down, self.now(), unreachable=unreachable, venue_up=venue_up
        )
        with self._lock:
            self.windows.append(window)
        return window

    def lifting(self, window: FaultWindow) -> None:
        window.lifting = self.now()

    def end(self, window: FaultWindow) -> None:
        window.end = self.now()

    def active(self, t: float | None = None) -> tuple[str, ...]:
        t = self.now() if t is None else t
        with self._lock:
            return tuple(w.name for w in self.windows if w.covers(t))

    def down_windows(self) -> list[FaultWindow]:
        return [w for w in self.windows if w.venue_down]

    def last_end(self) -> float | None:
        ends = [w.end for w in self.windows if w.end is not None]
        return max(ends) if ends else None

    def to_json(self) -> list[dict[str, Any]]:
        return [w.to_json() for w in self.windows]

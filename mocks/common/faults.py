"""Protocol faults armed on a mock through its control API: counted, timed, or both.

Each mock publishes a catalogue of the faults it knows. Arming checks the request against it,
so a typo in a scenario file is a 400 naming the field, not a fault that silently never fires.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .events import EventLog


class FaultError(ValueError):
    """A bad arm request; `field` names the offending field for the 400 body."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


def _is_type(value: Any, kind: type) -> bool:
    """isinstance, except that JSON's true/false are not numbers and ints count as floats."""
    if isinstance(value, bool):
        return kind is bool
    if kind is float:
        return isinstance(value, int | float)
    return isinstance(value, kind)


@dataclass(frozen=True)
class FaultKind:
    """One fault a mock can produce. `params` maps name -> (type, default)."""

    name: str
    description: str
    params: dict[str, tuple[type, Any]] = field(default_factory=dict)
    # Optional value checks, applied after the type check: inclusive numeric bounds, and the
    # allowed values of a parameter. A value outside them is a 400 naming `params.<name>`.
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)
    choices: dict[str, tuple[Any, ...]] = field(default_factory=dict)

    def validate(self, raw: Any) -> dict[str, Any]:
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise FaultError("params", "must be an object")
        unknown = sorted(set(raw) - set(self.params))
        if unknown:
            raise FaultError(f"params.{unknown[0]}", f"unknown parameter for fault {self.name!r}")
        values: dict[str, Any] = {}
        for name, (kind, default) in self.params.items():
            value = raw.get(name, default)
            if value is None and default is not None:  # null is "not set" only where not set is allowed
                raise FaultError(f"params.{name}", f"must be {kind.__name__}, got null")
            if kind is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            if value is not None and not _is_type(value, kind):
                raise FaultError(f"params.{name}", f"must be {kind.__name__}, got {type(value).__name__}")
            if value is not None and name in self.bounds:
                low, high = self.bounds[name]
                if not low <= value <= high:
                    raise FaultError(f"params.{name}", f"must be between {low:g} and {high:g}")
            if value is not None and name in self.choices and value not in self.choices[name]:
                allowed = ", ".join(repr(c) for c in self.choices[name])
                raise FaultError(f"params.{name}", f"must be one of {allowed}")
            values[name] = value
        return values

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "params": {
                k: {
                    "type": t.__name__,
                    "default": d,
                    **({"bounds": list(self.bounds[k])} if k in self.bounds else {}),
                    **({"choices": list(self.choices[k])} if k in self.choices else {}),
                }
                for k, (t, d) in self.params.items()
            },
        }


@dataclass
class ArmedFault:
    id: int
    kind: str
    params: dict[str, Any]
    remaining: int | None  # None: until cleared or expired
    expires_at: float | None  # time.monotonic() deadline, None: no deadline
    armed_at: float = field(default_factory=time.time)
    fired: int = 0

    def live(self, now: float) -> bool:
        if self.expires_at is not None and now >= self.expires_at:
            return False
        return self.remaining is None or self.remaining > 0

    def to_json(self) -> dict[str, Any]:
        left = None if self.expires_at is None else max(self.expires_at - time.monotonic(), 0.0)
        return {
            "id": self.id,
            "fault": self.kind,
            "params": self.params,
            "remaining": self.remaining,
            "seconds_left": left,
            "armed_at": self.armed_at,
            "fired": self.fired,
        }


class FaultBook:
    """The faults armed on one mock. Not thread-safe: use it from the mock's event loop."""

    def __init__(self, catalogue: list[FaultKind]) -> None:
        self.catalogue = {kind.name: kind for kind in catalogue}
        self._armed: list[ArmedFault] = []
        self._ids = itertools.count(1)

    def arm_request(self, body: Any) -> ArmedFault:
        """Arm from a control-API body: {"fault", "params"?, "count"?, "duration_ms"?}."""
        if not isinstance(body, dict):
            raise FaultError("body", "must be a JSON object")
        name = body.get("fault")
        if not isinstance(name, str):
            raise FaultError("fault", "is required and must be a string")
        count = body.get("count")
        if count is not None and not (_is_type(count, int) and count >= 1):
            raise FaultError("count", "must be a positive integer")
        duration = body.get("duration_ms")
        if duration is not None and not (_is_type(duration, float) and duration > 0):
            raise FaultError("duration_ms", "must be a positive number")
        unknown = sorted(set(body) - {"fault", "params", "count", "duration_ms"})
        if unknown:
            raise FaultError(unknown[0], "unknown field")
        return self.arm(name, body.get("params"), count=count, duration_ms=duration)

    def arm(
        self, name: str, params: Any = None, *, count: int | None = None, duration_ms: float | None = None
    ) -> ArmedFault:
        kind = self.catalogue.get(name)
        if kind is None:
            known = ", ".join(sorted(self.catalogue))
            raise FaultError("fault", f"unknown fault {name!r}; this mock knows: {known}")
        expires = None if duration_ms is None else time.monotonic() + duration_ms / 1000
        fault = ArmedFault(next(self._ids), name, kind.validate(params), count, expires)
        self._armed.append(fault)
        return fault

    def clear(self, name: str | None = None) -> int:
        before = len(self._armed)
        self._armed = [f for f in self._armed if name is not None and f.kind != name]
        return before - len(self._armed)

    def active(self, name: str, matches: Callable[[ArmedFault], bool] | None = None) -> ArmedFault | None:
        """The oldest live fault of this kind (that `matches`, if given: its params aimed at this event,
        hook or path), without using it up (for modes like `silent`). A fault aimed elsewhere never
        hides a later one aimed here."""
        now = time.monotonic()
        self._armed = [f for f in self._armed if f.live(now)]
        for fault in self._armed:
            if fault.kind == name and (matches is None or matches(fault)):
                return fault
        return None

    def take(self, name: str, matches: Callable[[ArmedFault], bool] | None = None) -> ArmedFault | None:
        """Use up one firing of the oldest live fault of this kind (that `matches`, if given)."""
        fault = self.active(name, matches)
        if fault is not None:
            fault.fired += 1
            if fault.remaining is not None:
                fault.remaining -= 1
        return fault

    def snapshot(self) -> list[dict[str, Any]]:
        now = time.monotonic()
        return [f.to_json() for f in self._armed if f.live(now)]


class FaultContext(Protocol):
    """What `take_matching` needs of a venue: its fault book and its event log."""

    @property
    def faults(self) -> FaultBook: ...
    @property
    def events(self) -> EventLog: ...


def take_matching(
    venue: FaultContext,
    name: str,
    *,
    event: str | None = None,
    path: str | None = None,
    method: str | None = None,
    **detail: Any,
) -> ArmedFault | None:
    """Use up one firing of fault `name` if it is armed for this event (its `event` param, when set)
    or this path (its `path` param, a prefix, when set) and method (its `method` param, when set),
    and log it as `fault_fired`. The webhook senders (DocuSign, Rippling) match their delivery
    faults to an event and their REST faults to a path this way."""

    def aimed_here(fault: ArmedFault) -> bool:
        wanted_event = fault.params.get("event")
        if event is not None and wanted_event is not None and wanted_event != event:
            return False
        wanted_method = fault.params.get("method")
        if method is not None and wanted_method and wanted_method.upper() != method.upper():
            return False
        prefix = fault.params.get("path")
        return path is None or not prefix or path.startswith(prefix)

    taken = venue.faults.take(name, aimed_here)
    if taken is None:
        return None
    where = {"event": event} if event is not None else {"path": path}
    venue.events.add("fault_fired", fault=name, id=taken.id, **where, **detail)
    return taken

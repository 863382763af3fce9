"""The history of a run, in the Jepsen model: every operation is an `invoke`, then exactly one
of `ok` (it happened), `fail` (it did not) or `info` (unknown, e.g. a timeout). Checkers read
it after the run; the report attaches the excerpt that convicts the middleware."""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from .adapters import OrderView, Outcome, view_json

OpType = Literal["invoke", "ok", "fail", "info"]


@dataclass(frozen=True)
class Op:
    index: int
    process: str  # the simulated trader (or prober) that made the call
    type: OpType
    f: str  # "place_order", "order_status", "account", "health", ...
    value: dict[str, Any]
    time: float  # seconds since the run started
    latency_ms: float | None = None
    status: int | None = None
    error: str = ""
    invoke_index: int | None = None  # on a completion: the invoke it completes
    faults: tuple[str, ...] = field(default_factory=tuple)  # faults active when it happened

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["faults"] = list(self.faults)
        return data


class History:
    """Thread-safe: traders and probers record into one history concurrently."""

    def __init__(self, active_faults: Any = None, started: float | None = None) -> None:
        self.started = time.monotonic() if started is None else started
        self.ops: list[Op] = []
        self._lock = threading.Lock()
        self._ids = itertools.count()
        self._active_faults = active_faults  # callable -> tuple[str, ...], from the fault timeline

    def now(self) -> float:
        return time.monotonic() - self.started

    def _faults(self) -> tuple[str, ...]:
        return tuple(self._active_faults()) if self._active_faults else ()

    def invoke(self, process: str, f: str, value: dict[str, Any]) -> Op:
        with self._lock:
            op = Op(next(self._ids), process, "invoke", f, dict(value), self.now(), faults=self._faults())
            self.ops.append(op)
        return op

    def complete(self, invoked: Op, outcome: Outcome) -> Op:
        value = completion_value(invoked.value, outcome)
        with self._lock:
            op = Op(
                next(self._ids),
                invoked.process,
                outcome.type,
                invoked.f,
                value,
                self.now(),
                latency_ms=outcome.latency_ms,
                status=outcome.status,
                error=outcome.error,
                invoke_index=invoked.index,
                faults=self._faults(),
            )
            self.ops.append(op)
        return op

    def record(self, process: str, f: str, value: dict[str, Any], call: Any) -> Op:
        """Invoke, run `call()` (which returns an Outcome), and complete: the usual shape."""
        invoked = self.invoke(process, f, value)
        return self.complete(invoked, call())

    def in_flight(self) -> int:
        """How many operations are invoked and not yet completed, at this moment."""
        with self._lock:
            done = {op.invoke_index for op in self.ops if op.type != "invoke"}
            return sum(1 for op in self.ops if op.type == "invoke" and op.index not in done)

    def completions(self, f: str | None = None) -> list[tuple[Op, Op]]:
        """(invoke, completion) pairs, in invoke order; an invoke never completed is left out."""
        with self._lock:
            ops = list(self.ops)
        invokes = {op.index: op for op in ops if op.type == "invoke"}
        pairs = [
            (invokes[op.invoke_index], op)
            for op in ops
            if op.type != "invoke" and op.invoke_index in invokes and (f is None or op.f == f)
        ]
        return sorted(pairs, key=lambda pair: pair[0].index)

    def excerpt(self, predicate: Any, limit: int = 50) -> list[dict[str, Any]]:
        with self._lock:
            return [op.to_json() for op in self.ops if predicate(op)][:limit]

    def to_jsonl(self) -> str:
        with self._lock:
            return "\n".join(json.dumps(op.to_json(), default=str) for op in self.ops) + "\n"


def completion_value(invoked: dict[str, Any], outcome: Outcome) -> dict[str, Any]:
    """A completion's value: the invoke's, the raw answer, and the typed view checkers read."""
    value = dict(invoked)
    if isinstance(outcome.body, dict):
        value["response"] = outcome.body
    if outcome.view is not None and not isinstance(outcome.view, OrderView):
        value["view"] = view_json(outcome.view)
    return value

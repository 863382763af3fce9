"""A bounded event log per mock, read through `GET /events` to build fault timelines."""

from __future__ import annotations

import itertools
import time
from collections import deque
from typing import Any


class EventLog:
    def __init__(self, capacity: int = 50_000) -> None:
        self._events: deque[dict[str, Any]] = deque(maxlen=capacity)
        self._seq = itertools.count(1)

    def add(self, kind: str, **detail: Any) -> None:
        self._events.append({"seq": next(self._seq), "ts": time.time(), "kind": kind, **detail})

    def since(self, seq: int = 0, kind: str | None = None) -> list[dict[str, Any]]:
        return [e for e in self._events if e["seq"] > seq and (kind is None or e["kind"] == kind)]

    def clear(self) -> None:
        self._events.clear()

"""How a mock that delivers webhooks retries a failed delivery: bounded attempts, exponential
backoff, a per-attempt timeout and an overall deadline (Stripe's and DocuSign Connect's deliveries
share it); settable through the control API as `retry` with millisecond fields."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .faults import FaultError


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 3
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0
    timeout_s: float = 10.0  # per attempt
    deadline_s: float = 60.0  # all attempts of one delivery

    def delay(self, attempt: int) -> float:
        """The pause after failed attempt `attempt` (1-based): base, 2*base, 4*base, ... capped."""
        return float(min(self.base_delay_s * 2 ** (attempt - 1), self.max_delay_s))

    @classmethod
    def from_json(cls, raw: Any, default: RetryPolicy) -> RetryPolicy:
        if raw is None:
            return default
        if not isinstance(raw, dict):
            raise FaultError("retry", "must be an object")
        limits = {
            "max_attempts": (1, 20, 1),
            "base_delay_ms": (0, 600_000, 1000),
            "max_delay_ms": (0, 3_600_000, 1000),
            "timeout_ms": (1, 600_000, 1000),
            "deadline_ms": (1, 3_600_000, 1000),
        }
        values: dict[str, float] = {}
        for name, value in raw.items():
            if name not in limits:
                raise FaultError(f"retry.{name}", "unknown field")
            low, high, _ = limits[name]
            if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
                raise FaultError(f"retry.{name}", f"must be a number in [{low}, {high}]")
            values[name] = value
        return cls(
            max_attempts=int(values.get("max_attempts", default.max_attempts)),
            base_delay_s=values.get("base_delay_ms", default.base_delay_s * 1000) / 1000,
            max_delay_s=values.get("max_delay_ms", default.max_delay_s * 1000) / 1000,
            timeout_s=values.get("timeout_ms", default.timeout_s * 1000) / 1000,
            deadline_s=values.get("deadline_ms", default.deadline_s * 1000) / 1000,
        )

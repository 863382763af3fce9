"""Scenarios: declared in scenarios/, run through their phases by the runner here."""

from .faults import FaultStep, action, down, expect_down, protocol, toxic
from .model import ORDER_CHECKS, Scenario
from .runner import HarnessError, ScenarioResult, ScenarioRunner

__all__ = [
    "ORDER_CHECKS",
    "FaultStep",
    "HarnessError",
    "Scenario",
    "ScenarioResult",
    "ScenarioRunner",
    "action",
    "down",
    "expect_down",
    "protocol",
    "toxic",
]

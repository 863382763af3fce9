"""Scenarios: declared in scenarios/, run through their phases by the runner here."""

from .evidence import SCENARIO_STATUSES, Measured, ScenarioStatus
from .faults import FaultStep, action, db_fault, deploy, down, expect_down, expect_up, protocol, toxic
from .model import ORDER_CHECKS, Evidence, Limits, Minimum, Scenario
from .result import HarnessError, MiddlewareFault, ScenarioResult
from .runner import ScenarioRunner

__all__ = [
    "ORDER_CHECKS",
    "SCENARIO_STATUSES",
    "Evidence",
    "FaultStep",
    "HarnessError",
    "Limits",
    "Measured",
    "MiddlewareFault",
    "Minimum",
    "Scenario",
    "ScenarioResult",
    "ScenarioRunner",
    "ScenarioStatus",
    "action",
    "db_fault",
    "deploy",
    "down",
    "expect_down",
    "expect_up",
    "protocol",
    "toxic",
]

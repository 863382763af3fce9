"""`uat contract --target X`: Schemathesis 4 against the live target and the OpenAPI spec its target
file names, one result per operation with each check passed, failed (with the failing cases' curl
commands) or not run with the reason.

harness.target reads `[contract]` through targetspec, so this facade imports the engine, the spec
reader and Schemathesis only when a run is asked for (PEP 562 `__getattr__`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .model import (
    BY_NAME,
    CHECK_NAMES,
    CHECKS,
    Budget,
    CaseFailure,
    CheckInfo,
    CheckOutcome,
    ContractRun,
    OperationResult,
)
from .targetspec import ContractSpec, parse_contract

if TYPE_CHECKING:
    from .allure import write_allure
    from .engine import engine_config, run_contract
    from .live import Overrides, contract_target, contract_topology
    from .output import print_run, to_json, verdict_line

_LAZY = {
    "write_allure": "allure",
    "engine_config": "engine",
    "run_contract": "engine",
    "Overrides": "live",
    "contract_target": "live",
    "contract_topology": "live",
    "print_run": "output",
    "to_json": "output",
    "verdict_line": "output",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BY_NAME",
    "CHECKS",
    "CHECK_NAMES",
    "Budget",
    "CaseFailure",
    "CheckInfo",
    "CheckOutcome",
    "ContractRun",
    "ContractSpec",
    "OperationResult",
    "Overrides",
    "contract_target",
    "contract_topology",
    "engine_config",
    "parse_contract",
    "print_run",
    "run_contract",
    "to_json",
    "verdict_line",
    "write_allure",
]

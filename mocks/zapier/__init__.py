"""Zapier mock: catch hooks that answer at once, Zaps whose HTTP steps run later, and the task history."""

from .config import DEFAULT_RETRY, ConfigError, Limits, Step, Zap, ZapConfig, example_text, load, loads, parse
from .runs import Attempt, Run, RunLedger
from .venue import ZapierMock

__all__ = [
    "DEFAULT_RETRY",
    "Attempt",
    "ConfigError",
    "Limits",
    "Run",
    "RunLedger",
    "Step",
    "Zap",
    "ZapConfig",
    "ZapierMock",
    "example_text",
    "load",
    "loads",
    "parse",
]

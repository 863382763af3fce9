"""A FaultContext without a topology, for the fault-step and player tests: each test says what its
proxies do; protocol faults, actions, database faults and deployments are not theirs to play."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness.scenario import Scenario
from harness.scenario.faults import FaultStep
from harness.timeline import Timeline


def make_scenario(**fields: Any) -> Scenario:
    """A scenario "S" with placeholder prose; `fields` set what the test is about."""
    base: dict[str, Any] = {
        "title": "t",
        "description": "d",
        "suite": "risk",
        "venue": "rithmic",
        "fault_class": "x",
        "severity": "normal",
        "schedule": (),
    }
    return Scenario("S", **(base | fields))


class FaultCtx:
    def __init__(self, proxy: Callable[[str], Any], seed: int = 7) -> None:
        self.seed = seed
        self.timeline = Timeline()
        self._proxy = proxy

    def proxy(self, venue: str) -> Any:
        return self._proxy(venue)

    def control(self, venue: str) -> str:
        raise AssertionError("no protocol faults in these tests")

    def act(self, step: FaultStep) -> None: ...

    def database(self, step: FaultStep) -> None: ...

    def release(self, step: FaultStep) -> None: ...

    def deploy(self, step: FaultStep) -> None: ...

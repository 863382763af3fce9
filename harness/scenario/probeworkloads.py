"""The workloads that send probes in place of traders: `contract` (Schemathesis against the target's
OpenAPI spec) and `security` (harness.security), and the security evidence an order-flow run with a
flood hands its checkers. Mixed into ScenarioRunner, which owns the phases around them."""

from __future__ import annotations

from typing import Any

import httpx

from ..adapters import Adapter
from ..checks import CHECKERS, CheckContext, Verdict
from ..history import History
from ..security.flood import FloodRecord
from ..timeline import Timeline
from ..topology import Topology
from .evidence import Measured, measure
from .model import Scenario
from .result import MiddlewareFault, ScenarioResult
from .security import security_evidence


class ProbeWorkloads:
    topo: Topology
    http: httpx.Client
    seed: int
    accounts: list[str]
    customers: dict[str, str]
    flood: FloodRecord | None

    def control(self, venue: str) -> str:
        raise NotImplementedError

    def _result(
        self,
        scenario: Scenario,
        verdicts: list[Verdict],
        history: History,
        timeline: Timeline,
        phases: dict[str, float],
        started: float,
        measured: Measured | None = None,
    ) -> ScenarioResult:
        raise NotImplementedError

    def _contract(
        self,
        scenario: Scenario,
        adapter: Adapter,
        history: History,
        timeline: Timeline,
        phases: dict[str, float],
        started: float,
        phase: Any,
    ) -> ScenarioResult:
        """The `contract` workload: Schemathesis against the fresh middleware and the spec its target
        file names (seeded by the scenario's seed), judged by the contract checkers."""
        from ..contract import Overrides, contract_topology
        from ..exitcodes import UsageFailure

        with phase("contract"):
            try:
                run = contract_topology(self.topo, Overrides(seed=self.seed))
            # A spec file or an exclusion the target file gets wrong raises TargetError: a config
            # error (exit 2), not the middleware's. What remains is the middleware's: the spec URL
            # the file names is not served, or what it serves is not a spec Schemathesis can load.
            except UsageFailure as exc:
                failed = Verdict.fail(
                    scenario.checks[0], f"the contract could not run: {exc.message}", [], "contract breach"
                )
                return self._result(scenario, [failed], history, timeline, phases, started)
        with phase("verdict"):
            slo = self.topo.target.slo
            ctx = CheckContext(history, timeline, adapter, slo, {}, {}, extras={"contract": run})
            verdicts = [CHECKERS[name](ctx) for name in scenario.checks]
        return self._result(
            scenario, verdicts, history, timeline, phases, started, measure(scenario, history, timeline)
        )

    def _security(
        self,
        scenario: Scenario,
        adapter: Adapter,
        history: History,
        timeline: Timeline,
        phases: dict[str, float],
        started: float,
        phase: Any,
    ) -> ScenarioResult:
        """The `security` workload: probes in place of traders (harness.security), then the checkers."""
        with phase("probes"):
            try:
                extras = self._security_extras(scenario, adapter, history)
            except MiddlewareFault as fault:
                return self._result(scenario, [fault.verdict()], history, timeline, phases, started)
        with phase("verdict"):
            ledger = self._ledger()
            ctx = CheckContext(history, timeline, adapter, self.topo.target.slo, ledger, {}, extras=extras)
            verdicts = [CHECKERS[name](ctx) for name in scenario.checks]
        return self._result(
            scenario, verdicts, history, timeline, phases, started, measure(scenario, history, timeline)
        )

    def _security_extras(self, scenario: Scenario, adapter: Adapter, history: History) -> dict[str, Any]:
        return security_evidence(
            self.topo,
            scenario,
            adapter,
            history,
            seed=self.seed,
            accounts=self.accounts,
            customers=self.customers,
            ledger=self._ledger,
            flood_record=self.flood,
        )

    def _ledger(self, venue: str = "rithmic") -> dict[str, Any]:
        """A venue mock's ledger as it stands: its orders and fills."""
        answer = self.http.get(f"{self.control(venue)}/ledger")
        answer.raise_for_status()
        ledger: dict[str, Any] = answer.json()
        return ledger

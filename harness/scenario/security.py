"""The security suite inside a scenario run: the `security` workload (probes in place of traders) and
the `flood` action of an order-flow scenario, and the evidence both hand the security checkers."""

from __future__ import annotations

from typing import Any

from ..adapters import Adapter, HttpAdapter
from ..history import History
from ..security.evidence import CHECK_GROUPS, SecurityEvidence
from ..security.flood import FloodRecord, flood
from ..security.session import SetupFailed, parties, probe
from ..security.sweep import known_secrets
from ..topology import Topology
from .faults import FaultStep
from .model import Scenario
from .result import HarnessError, MiddlewareFault

SECURITY_CHECKS = frozenset({*CHECK_GROUPS, "secrets_not_leaked", "flood_rate_limited", "flood_isolated"})


def security_evidence(
    topo: Topology,
    scenario: Scenario,
    adapter: Adapter,
    history: History,
    *,
    seed: int,
    accounts: list[str],
    customers: dict[str, str],
    ledger: Any,
    flood_record: FloodRecord | None = None,
) -> dict[str, Any]:
    """The probes the scenario's checks need (the `security` workload), the flood an order-flow run
    sent, and the secrets sweep over everything the middleware answered and logged."""
    if not SECURITY_CHECKS & set(scenario.checks):
        return {}
    evidence = SecurityEvidence(flood=flood_record)
    if scenario.workload == "security":
        if not isinstance(adapter, HttpAdapter):
            evidence.skipped["probes"] = "a coded adapter: the harness cannot vary its credentials"
        else:
            evidence = _probe(topo, scenario, adapter, seed, accounts, customers, ledger)
    minted = adapter.keys.known() if isinstance(adapter, HttpAdapter) else {}
    process = topo.process
    log = process.logfile if process is not None else None
    log_text = log.read_text(errors="replace") if log is not None and log.exists() else ""
    owners = {f"account {account}": key for account, key in minted.items()}
    evidence.sweep(known_secrets({**topo.values, "retired": topo.retired}, owners), history, log_text)
    evidence.declared_rate_rps = topo.target.security.rate_limit_rps
    return {"security": evidence}


def _probe(
    topo: Topology,
    scenario: Scenario,
    adapter: HttpAdapter,
    seed: int,
    accounts: list[str],
    customers: dict[str, str],
    ledger: Any,
) -> SecurityEvidence:
    tag = f"sec{seed}-{scenario.id.lower()[-12:]}"
    symbol = scenario.symbols[0]
    try:
        people = parties(adapter, accounts, customers, symbol, tag, ledger)
    except SetupFailed as exc:
        raise MiddlewareFault(scenario.checks[0], str(exc), exc.evidence) from exc
    spec = topo.target.security
    allow = (
        (spec.admin_allowlisted, spec.admin_not_allowlisted)
        if spec.admin_allowlisted and spec.admin_not_allowlisted
        else None
    )
    return probe(adapter, scenario.checks, people, symbol=symbol, tag=tag, allowlisted=allow, ledger=ledger)


def run_flood(
    step: FaultStep, adapter: Adapter, accounts: list[str], scenario: Scenario, now: Any
) -> FloodRecord:
    """The `flood` action: the last trader's client reads its positions at `multiplier` times a
    trader's normal rate (its order interval) for the step's length, with its own key."""
    if not isinstance(adapter, HttpAdapter):
        # never reached: flood_rate_limited needs declared_requests, so such a target skips the scenario
        raise HarnessError("the flood action needs a declared (http) adapter")
    account = accounts[-1]
    low, high = scenario.order_interval_s
    rate = float(step.params.get("multiplier", 50)) / ((low + high) / 2)
    key = adapter.keys.key(account)[0] if adapter.api.auth.per_trader else None
    return flood(
        adapter.api,
        account=account,
        api_key=key,
        rate_rps=rate,
        duration_s=float(step.for_s or 10.0),
        now=now,
        operation=str(step.params.get("operation", "positions")),
    )

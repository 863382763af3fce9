"""`uat contract --target X`: the target's topology brought up as `uat target probe` and `uat gate`
do (harness.topology), its spec read from the live target (or the file its target file names), one
contract run against it, and everything torn down."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..exitcodes import UsageFailure
from ..targetfields import TargetError
from .engine import ContractFieldError, run_contract
from .model import Budget, ContractRun

if TYPE_CHECKING:
    from ..faults.plane import BackendName
    from ..spec.model import Document
    from ..target import Target
    from ..topology import Topology


@dataclass(frozen=True)
class Overrides:
    """What the command line sets over the target file's `[contract]` table."""

    seed: int = 0
    max_examples: int | None = None
    time_budget_s: float | None = None


def budget_for(target: Target, overrides: Overrides) -> Budget:
    spec = target.contract
    assert spec is not None
    return Budget(
        seed=overrides.seed,
        max_examples=overrides.max_examples or spec.max_examples,
        time_budget_s=overrides.time_budget_s or spec.time_budget_s,
    )


def require_contract(target: Target) -> None:
    """A target file without `[contract]` cannot be contract-tested: a usage error naming the table."""
    if target.contract is None:
        raise UsageFailure(
            f"{target.source}: contract: the target file has no [contract] table "
            '(spec = "http://127.0.0.1:{port}/openapi.json", or a spec file beside it)'
        )


def contract_target(
    target: Target,
    overrides: Overrides,
    *,
    backend: BackendName = "auto",
    note: Callable[[str], None] = lambda _: None,
) -> ContractRun:
    """Start the topology and the target, run the contract against it, tear it all down."""
    from ..topology import Topology

    require_contract(target)
    with Topology(target, seed=overrides.seed, backend=backend) as topo:
        note(f"{target.name} is up at {topo.base_url}; running the contract")
        return contract_topology(topo, overrides)


def contract_topology(topo: Topology, overrides: Overrides) -> ContractRun:
    """The contract against a topology that is already up (what a gate suite would call)."""
    target = topo.target
    require_contract(target)
    document, source = _document(topo)
    spec = target.contract
    assert spec is not None
    try:
        return run_contract(
            document,
            target=target.name,
            spec=source,
            base_url=topo.base_url,
            budget=budget_for(target, overrides),
            exclude=spec.exclude,
            redact=topo.redact,
            headers=topo.admin_headers(),
        )
    except ContractFieldError as exc:
        if spec.url and exc.field == "contract.spec":
            raise  # the spec the middleware serves is broken: its failure, not the file's
        raise TargetError(target.source, exc.field, exc.message.split(": ", 1)[-1]) from None


def _document(topo: Topology) -> tuple[Document, str]:
    """The spec as the target serves it (its URL filled from the running topology) or its file."""
    from ..spec import SpecUnreadable, load
    from ..target import render_template

    target = topo.target
    spec = target.contract
    assert spec is not None
    source = spec.spec
    if spec.url:
        source = render_template(spec.spec, topo.adapter_values(), "contract.spec", target.source)
    try:
        return load(source).document, source
    except SpecUnreadable as exc:
        why = exc.message.removeprefix("SPEC: ")
        if not spec.url:  # a spec file the target file names: the file is what is wrong
            raise TargetError(target.source, "contract.spec", why) from None
        raise UsageFailure(f"{target.source}: contract.spec: {why}") from None

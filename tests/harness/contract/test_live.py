"""What `uat contract` takes from the target file and the command line before anything starts."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from harness.contract import Budget, Overrides
from harness.contract.live import budget_for, contract_topology, require_contract
from harness.contract.targetspec import ContractSpec
from harness.exitcodes import UsageFailure
from harness.target import TargetError, load

SPECS = Path(__file__).parents[1] / "spec" / "specs"


def test_the_command_line_overrides_the_target_files_bounds() -> None:
    reference = load("reference")
    assert budget_for(reference, Overrides(seed=4)) == Budget(seed=4, max_examples=25, time_budget_s=50.0)
    assert budget_for(reference, Overrides(seed=4, max_examples=3, time_budget_s=9.5)) == Budget(4, 3, 9.5)


def test_a_target_without_a_contract_table_is_refused_naming_it() -> None:
    bare = replace(load("reference"), contract=None)
    with pytest.raises(UsageFailure, match=r"contract: the target file has no \[contract\] table"):
        require_contract(bare)


class _Topo:
    """What contract_topology reads of a running topology before it sends a request."""

    def __init__(self, contract: ContractSpec) -> None:
        self.target = replace(load("reference"), contract=contract)
        self.base_url = "http://127.0.0.1:9"

    def adapter_values(self) -> dict[str, Any]:
        return {"port": 9}

    def redact(self, text: str) -> str:
        return text

    def admin_headers(self) -> dict[str, str]:
        return {}


def test_a_spec_file_the_target_names_that_cannot_be_read_is_the_files_error(tmp_path: Path) -> None:
    missing = _Topo(ContractSpec(str(tmp_path / "nope.yaml"), url=False))
    with pytest.raises(TargetError, match=r"contract\.spec: .*nope\.yaml") as raised:
        contract_topology(missing, Overrides(seed=1))  # type: ignore[arg-type]
    assert raised.value.field == "contract.spec"


def test_an_exclusion_the_spec_lacks_is_the_files_error_naming_it() -> None:
    spec = SPECS / "bad-pagination.yaml"
    topo = _Topo(ContractSpec(str(spec), url=False, exclude=("GET /nope",)))
    with pytest.raises(TargetError, match=r"contract\.exclude\[0\]: no operation 'GET /nope'") as raised:
        contract_topology(topo, Overrides(seed=1))  # type: ignore[arg-type]
    assert raised.value.field == "contract.exclude[0]"


def test_a_spec_url_the_middleware_does_not_serve_is_left_to_the_run_to_blame() -> None:
    """Not a config error: the runner turns it into a failed contract check (the middleware's)."""
    topo = _Topo(ContractSpec("http://127.0.0.1:{port}/openapi.json", url=True))
    with pytest.raises(UsageFailure, match=r"contract\.spec") as raised:
        contract_topology(topo, Overrides(seed=1))  # type: ignore[arg-type]
    assert not isinstance(raised.value, TargetError)

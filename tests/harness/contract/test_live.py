"""What `uat contract` takes from the target file and the command line before anything starts."""

from __future__ import annotations

from dataclasses import replace

import pytest

from harness.contract import Budget, Overrides
from harness.contract.live import budget_for, require_contract
from harness.exitcodes import UsageFailure
from harness.target import load


def test_the_command_line_overrides_the_target_files_bounds() -> None:
    reference = load("reference")
    assert budget_for(reference, Overrides(seed=4)) == Budget(seed=4, max_examples=25, time_budget_s=50.0)
    assert budget_for(reference, Overrides(seed=4, max_examples=3, time_budget_s=9.5)) == Budget(4, 3, 9.5)


def test_a_target_without_a_contract_table_is_refused_naming_it() -> None:
    bare = replace(load("reference"), contract=None)
    with pytest.raises(UsageFailure, match=r"contract: the target file has no \[contract\] table"):
        require_contract(bare)

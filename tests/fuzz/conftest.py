"""The fuzz suites' time bound grows with the inputs asked for: pyproject's 300 s per test is for the
default 10,000, and `make fuzz FUZZ_EXAMPLES=100000` would otherwise be cut off part way through."""

from __future__ import annotations

import pytest

from .mutate import MIN_EXAMPLES, fuzz_examples

TIMEOUT_S = 300 * fuzz_examples() // MIN_EXAMPLES


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("fuzz") is not None and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(TIMEOUT_S))

"""The harness's processes collect the young generation less often, and never more often."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from harness import gcpolicy


@pytest.fixture
def restored() -> Iterator[tuple[int, int, int]]:
    threshold = gc.get_threshold()
    yield threshold
    gc.set_threshold(*threshold)


def test_relax_raises_only_the_young_threshold(restored: tuple[int, int, int]) -> None:
    gc.set_threshold(700, 10, 10)
    gcpolicy.relax()
    assert gc.get_threshold() == (gcpolicy.YOUNG_THRESHOLD, 10, 10)
    gc.set_threshold(200_000, 5, 5)
    gcpolicy.relax()
    assert gc.get_threshold() == (200_000, 5, 5)

"""Test-run plumbing shared by every tier: the container tests share one Docker engine, its images and
a check that no harness container is left behind (which removes every one it finds), so under
pytest-xdist's `--dist loadgroup` (the slow tier in `make test`) they all run on one worker."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("docker") is not None:
            item.add_marker(pytest.mark.xdist_group("docker"))

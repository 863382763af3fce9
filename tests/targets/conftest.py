"""The Express sample against the real mocks: one topology per test module, a fresh client per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness import target as target_files
from harness.topology import Topology

from .test_express_sample import SEED, TARGET_FILE, Gateway, _missing


@pytest.fixture(scope="module")
def topo() -> Iterator[Topology]:
    reason = _missing()
    if reason:
        pytest.skip(reason)
    topology = Topology(target_files.load(str(TARGET_FILE)), seed=SEED, backend="embedded")
    with topology:
        yield topology


@pytest.fixture
def gw(topo: Topology, monkeypatch: pytest.MonkeyPatch) -> Iterator[Gateway]:
    """The healthy build's client (EXPRESS_BUGS unset); closed after the test."""
    monkeypatch.delenv("EXPRESS_BUGS", raising=False)
    gateway = Gateway(topo)
    try:
        yield gateway
    finally:
        gateway.http.close()

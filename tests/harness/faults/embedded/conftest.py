"""Fixtures for the embedded server's tests; `echo_server` and `toxiproxy` come from the
fault-plane conftest one level up."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from harness.faults.embedded import EmbeddedToxiproxy

from ._netutil import Api, api_for, no_loop_errors


@pytest.fixture
def http(toxiproxy: EmbeddedToxiproxy) -> Iterator[httpx.Client]:
    """A raw HTTP client on the `toxiproxy` fixture's API, for tests of the wire format."""
    with httpx.Client(base_url=toxiproxy.url, timeout=10.0) as client:
        yield client


@pytest.fixture
def api(toxiproxy: EmbeddedToxiproxy) -> Iterator[Api]:
    """The data-path tests' API helper: every call checks its status."""
    with api_for(toxiproxy) as client:
        yield client


@pytest.fixture
def loop_stays_clean() -> Iterator[None]:
    """Fail the test if the server's event loop logged an error while it ran."""
    with no_loop_errors():
        yield

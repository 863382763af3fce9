"""Fixtures for the embedded server's tests; `echo_server` and `toxiproxy` come from the
fault-plane conftest one level up."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from harness.faults.embedded import EmbeddedToxiproxy


@pytest.fixture
def api(toxiproxy: EmbeddedToxiproxy) -> Iterator[httpx.Client]:
    """An HTTP client on the `toxiproxy` fixture's API, with a bounded timeout on every call."""
    with httpx.Client(base_url=toxiproxy.url, timeout=10.0) as client:
        yield client

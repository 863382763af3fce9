"""Fixtures for the fault-plane tests: an echo upstream and a running embedded server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.faults import EmbeddedToxiproxy, ToxiproxyClient
from tests.netutil import EchoServer


@pytest.fixture
def echo_server() -> Iterator[int]:
    """A TCP echo server on 127.0.0.1; yields its port."""
    with EchoServer() as server:
        yield server.port


@pytest.fixture
def toxiproxy() -> Iterator[EmbeddedToxiproxy]:
    """A fresh embedded Toxiproxy on an ephemeral API port; one per test keeps tests independent."""
    with EmbeddedToxiproxy(host="127.0.0.1", port=0) as server:
        yield server


@pytest.fixture
def client(toxiproxy: EmbeddedToxiproxy) -> Iterator[ToxiproxyClient]:
    with ToxiproxyClient(toxiproxy.url) as tp:
        yield tp

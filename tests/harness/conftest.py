"""Fixtures for the container path, shared by the fault plane's and the containers' tests.

`docker_engine` uses the engine at DOCKER_HOST (CI's `.ci/run` starts one with `uat engine up`);
where none answers it starts a loopback-only engine for the session itself, and it skips, with
both reasons, only where no engine can be had at all.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from harness.containers import (
    Images,
    LoopbackEngine,
    engine_unavailable,
    loopback_engine_unavailable,
    remove_containers,
)


@pytest.fixture(scope="session")
def docker_engine() -> Iterator[str]:
    """DOCKER_HOST of a running engine, for the whole session."""
    reason = engine_unavailable()
    if reason is None:
        yield os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        return
    why_not = loopback_engine_unavailable()
    if why_not is not None:
        pytest.skip(f"no Docker engine here: {reason}; and none can be started: {why_not}")
    previous = os.environ.get("DOCKER_HOST")
    with LoopbackEngine() as engine:
        os.environ["DOCKER_HOST"] = engine.docker_host
        try:
            yield engine.docker_host
        finally:
            if previous is None:
                os.environ.pop("DOCKER_HOST", None)
            else:
                os.environ["DOCKER_HOST"] = previous


@pytest.fixture(scope="session")
def harness_image(docker_engine: str) -> str:
    """The harness image for this source tree (built on first use: about 60 s from nothing)."""
    return Images(docker_engine).ensure_harness()


@pytest.fixture
def no_leftover_containers(docker_engine: str) -> Iterator[None]:
    """Fails a test that leaves a harness container behind (and removes it for the next test)."""
    yield
    leftovers = remove_containers(docker_engine)
    assert leftovers == 0, f"{leftovers} harness container(s) were left behind"

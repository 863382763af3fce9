"""The mock venues in a harness container, behind a fault plane in a container of its own: the
same `uat mocks up --json` contract as the local stack, so everything above cannot tell."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import httpx

from ..faults import FaultPlane
from .images import Images, Progress
from .run import HarnessContainer, run_container


class ContainerMockStack:
    """Start with `start()` (or `with`); `describe()` matches `MockStack.describe()`."""

    def __init__(
        self,
        *,
        seed: int = 0,
        host: str = "127.0.0.1",
        venues: Iterable[str] = (),
        plane: FaultPlane | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.seed = seed
        self.host = host
        self.names = list(venues)
        self._own_plane = plane is None
        self.plane = plane or FaultPlane("docker", host=host)
        self.images = Images(progress=progress)
        self.image = ""
        self._container: HarnessContainer | None = None
        self._info: dict[str, Any] = {}

    def start(self) -> ContainerMockStack:
        try:
            self.image = self.images.ensure_harness()
            if self._own_plane:
                self.plane.start()
            command = ["mocks", "up", "--json", "--seed", str(self.seed), "--toxiproxy", self.plane.url]
            for name in self.names:
                command += ["--venue", name]
            self._container = run_container(self.image, command, role="mocks")
            self._info = json.loads(self._container.wait_for_line(lambda line: line.startswith("{")))
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        container, self._container = self._container, None
        if container is not None:
            container.remove()
        if self._own_plane:
            self.plane.stop()

    def __enter__(self) -> ContainerMockStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def venues(self) -> list[str]:
        return list(self._info.get("mocks", {}))

    def reset_venue(self, name: str) -> None:
        """Through the venue's control API: the venue objects live in the container."""
        control = self._info["mocks"][name]["control"]
        httpx.post(f"{control}/reset", timeout=10, trust_env=False).raise_for_status()

    def proxied_url(self, name: str) -> str:
        return str(self._info["mocks"][name]["url"])

    def logs_tail(self) -> str:
        return self._container.logs_tail() if self._container is not None else ""

    def describe(self) -> dict[str, Any]:
        return {
            **self._info,
            "toxiproxy": self.plane.url,
            "backend": "docker",
            "backend_reason": f"mocks in {self.image}; fault plane {self.plane.describe()}",
        }

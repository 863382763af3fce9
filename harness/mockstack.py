"""The fault plane with every mock venue behind it: what `uat mocks up` runs, and what the
topology builds on. Mocks share one event loop on a private thread; each venue is reached
through its own proxy, while its control API stays direct (never proxied)."""

from __future__ import annotations

import importlib
from collections.abc import Coroutine, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from mocks.common import ControlServer, MockVenue

from .faults import FaultPlane
from .faults.plane import BackendName
from .loopthread import LoopThread

if TYPE_CHECKING:
    from .containers import ContainerMockStack
    from .containers.images import Progress

T = TypeVar("T")

# venue name -> "module:Class"; imported lazily so one broken mock cannot stop the others' tests.
VENUES: dict[str, str] = {
    "rithmic": "mocks.rithmic:RithmicGateway",
    "tt": "mocks.tt:TTMock",
    "stripe": "mocks.stripe:StripeEmitter",
    "mt5": "mocks.mt5:MT5Mock",
    "docusign": "mocks.docusign:DocuSignMock",
    "rippling": "mocks.rippling:RipplingMock",
    "cqg": "mocks.cqg:CQGGateway",
    "zapier": "mocks.zapier:ZapierMock",  # no Zaps until its control API loads some (PUT /zapier/zaps)
}
START_TIMEOUT_S = 30.0


def venue_class(name: str) -> type[MockVenue]:
    module_name, _, attr = VENUES[name].partition(":")
    cls: type[MockVenue] = getattr(importlib.import_module(module_name), attr)
    return cls


class MockStack:
    """Start with `start()` (or `with`); `describe()` is the `uat mocks up --json` contract."""

    def __init__(
        self,
        *,
        seed: int = 0,
        backend: BackendName = "auto",
        host: str = "127.0.0.1",
        venues: Iterable[str] = tuple(VENUES),
        plane: FaultPlane | None = None,
    ) -> None:
        unknown = sorted(set(venues) - set(VENUES))
        if unknown:
            raise ValueError(f"unknown venue {unknown[0]!r}; known: {', '.join(VENUES)}")
        self.seed = seed
        self.host = host
        self.names = list(venues)
        self._own_plane = plane is None or not plane.running  # a plane handed over unstarted is ours
        self.plane = plane or FaultPlane(backend, host=host, seed=seed)
        self.venues: dict[str, MockVenue] = {}
        self.controls: dict[str, ControlServer] = {}
        self._loops = LoopThread("mock-venues")

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> MockStack:
        try:
            if self._own_plane:
                self.plane.start()
            self._loops.start()
            for name in self.names:
                venue = venue_class(name)(seed=self.seed)
                self.venues[name] = venue
                self._run(venue.start(self.host, 0))
                control = ControlServer(venue)
                self.controls[name] = control
                self._run(control.start(self.host, 0))
                if venue.listens:
                    self.plane.client.create_proxy(name, upstream=f"{venue.host}:{venue.port}")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self._loops.loop is not None:
            for name in reversed(list(self.venues)):
                control = self.controls.pop(name, None)
                if control is not None:
                    self._run(control.stop())
                self._run(self.venues[name].stop())
            self.venues.clear()
            self._loops.stop()
        if self._own_plane:
            self.plane.stop()

    def __enter__(self) -> MockStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self._loops.run(coro, START_TIMEOUT_S)

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the mocks' loop (tests and scenarios reach venue state this way)."""
        return self._run(coro)

    def reset_venue(self, name: str) -> None:
        """Faults, ledger and events of one venue back to a fresh start with the same seed."""
        self._run(self.venues[name].reset())

    # -- what clients need -----------------------------------------------------------
    def proxied_url(self, name: str) -> str:
        venue = self.venues[name]
        proxy = self.plane.client.get_proxy(name)
        return f"{venue.scheme}://{proxy.host}:{proxy.port}"

    def describe(self) -> dict[str, Any]:
        mocks: dict[str, Any] = {}
        for name, venue in self.venues.items():
            entry: dict[str, Any] = {}
            facts = venue.describe()
            if venue.listens:
                proxied = self.proxied_url(name)
                entry.update(url=proxied, direct_url=venue.url, proxy=name)
                facts = through_proxy(facts, venue.url, proxied)
            entry["control"] = self.controls[name].url
            entry.update(facts)
            mocks[name] = entry
        return {
            "toxiproxy": self.plane.url,
            "backend": self.plane.backend_name,
            "backend_reason": self.plane.reason,
            "seed": self.seed,
            "mocks": mocks,
        }


def through_proxy(facts: dict[str, Any], direct: str, proxied: str) -> dict[str, Any]:
    """A venue's own URLs in its facts (DocuSign's `base_path`) given through its proxy, so a
    client wired from `describe()` is on the fault plane like one wired from `url`."""
    return {
        key: proxied + value[len(direct) :] if isinstance(value, str) and value.startswith(direct) else value
        for key, value in facts.items()
    }


def build_stack(
    *,
    seed: int = 0,
    backend: BackendName = "auto",
    venues: Iterable[str] | None = None,
    progress: Progress | None = None,
) -> MockStack | ContainerMockStack:
    """`docker` puts the mocks and the fault plane in containers; any other backend keeps the
    mocks in this process and picks only where the fault plane runs."""
    names = tuple(venues) if venues else tuple(VENUES)
    unknown = sorted(set(names) - set(VENUES))
    if unknown:
        raise ValueError(f"unknown venue {unknown[0]!r}; known: {', '.join(VENUES)}")
    if backend == "docker":
        from .containers import ContainerMockStack

        return ContainerMockStack(seed=seed, venues=names, progress=progress)
    return MockStack(seed=seed, backend=backend, venues=names)

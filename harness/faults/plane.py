"""`FaultPlane`: the one entry point that picks a backend, starts it and hands out a client."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal
from urllib.parse import urlsplit

from .backends import BACKENDS, Backend, ExternalBackend
from .client import ToxiproxyClient
from .errors import BackendUnavailable

BackendName = Literal["auto", "binary", "docker", "embedded"]


def choose_backend(requested: BackendName = "auto") -> tuple[type[Backend], str]:
    """The backend to use and why: binary first, then docker, then embedded."""
    if requested != "auto":
        cls = BACKENDS[requested]
        reason = cls.unavailable(forced=True)
        if reason is not None:
            raise BackendUnavailable(f"fault plane backend {requested!r} is unavailable: {reason}")
        return cls, f"{requested} (forced)"
    skipped: list[str] = []
    for name in ("binary", "docker"):
        reason = BACKENDS[name].unavailable()
        if reason is None:
            return BACKENDS[name], f"{name} (auto)"
        skipped.append(f"{name}: {reason}")
    return BACKENDS["embedded"], "embedded (auto; " + "; ".join(skipped) + ")"


class FaultPlane:
    """A running Toxiproxy-API server and a client for it.

    Example usage::

        with FaultPlane() as plane:
            proxy = plane.client.create_proxy("tt", upstream="127.0.0.1:8080")
            print(plane.backend_name, plane.reason)
    """

    def __init__(
        self,
        backend: BackendName = "auto",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        allowed_hosts: Iterable[str] = (),
        url: str | None = None,
        seed: int | None = None,
    ) -> None:
        """`url`: attach to a Toxiproxy API that is already running instead of starting one. `seed`:
        the toxics' random draws (jitter, slicing, toxicity) repeat from it, on the embedded server."""
        self.requested = backend
        self.external_url = url
        self.host = host
        self.port = port
        self.allowed_hosts = tuple(allowed_hosts)
        self.seed = seed
        self.reason = ""
        self._backend: Backend | None = None
        self._client: ToxiproxyClient | None = None

    @property
    def running(self) -> bool:
        return self._backend is not None

    @property
    def backend_name(self) -> str:
        return self._backend.name if self._backend else ""

    @property
    def extensions(self) -> bool:
        """Whether the running server implements stack-uat's extension toxics (a real Toxiproxy
        answers 400 to them)."""
        return self._backend is not None and self._backend.extensions

    @property
    def url(self) -> str:
        if self._backend is None:
            raise RuntimeError("the fault plane is not running")
        return self._backend.url

    @property
    def client(self) -> ToxiproxyClient:
        if self._client is None:
            raise RuntimeError("the fault plane is not running")
        return self._client

    def start(self) -> FaultPlane:
        if self.external_url is not None:
            parsed = urlsplit(self.external_url)
            if parsed.scheme != "http" or not parsed.hostname or not parsed.port:
                raise BackendUnavailable(
                    f"toxiproxy URL must look like http://HOST:PORT, not {self.external_url!r}"
                )
            backend: Backend = ExternalBackend(parsed.hostname, parsed.port)
            self.reason = "external (attached)"
        else:
            cls, self.reason = choose_backend(self.requested)
            backend = cls(self.host, self.port)
            backend.seed = self.seed
        backend.start()
        self._backend = backend
        self._client = ToxiproxyClient(backend.url, allowed_hosts=self.allowed_hosts)
        return self

    def stop(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._backend is not None:
            self._backend.stop()
            self._backend = None

    def describe(self) -> str:
        return self._backend.describe() if self._backend else "not running"

    def __enter__(self) -> FaultPlane:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

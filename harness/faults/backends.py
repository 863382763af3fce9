"""Where the fault plane runs: the real binary, its container, or our embedded server.

Each backend starts a Toxiproxy-API server on loopback and stops it without leaving a process,
a container or a port behind.
"""

from __future__ import annotations

import abc
import contextlib
import os
import shutil
import subprocess
import time
from typing import Any

from ..ports import free_port
from .embedded import EmbeddedToxiproxy
from .errors import BackendUnavailable

TOXIPROXY_IMAGE = "ghcr.io/shopify/toxiproxy:2.12.0"
READY_TIMEOUT_S = 15.0


class Backend(abc.ABC):
    name: str = ""
    extensions = False  # implements stack-uat's own toxics (packet_loss, corrupt): our server only
    seed: int | None = None  # seeds the random draws of the toxics, where the server can take one

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @classmethod
    @abc.abstractmethod
    def unavailable(cls, *, forced: bool = False) -> str | None:
        """Why this backend cannot run here, or None when it can (`forced`: the user asked for it
        by name, so it may do slower set-up that `auto` should not)."""

    @abc.abstractmethod
    def start(self) -> None: ...

    @abc.abstractmethod
    def stop(self) -> None: ...

    def describe(self) -> str:
        return self.name


class EmbeddedBackend(Backend):
    name = "embedded"
    extensions = True

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
        self._server: EmbeddedToxiproxy | None = None

    @classmethod
    def unavailable(cls, *, forced: bool = False) -> str | None:
        return None

    def start(self) -> None:
        self._server = EmbeddedToxiproxy(self.host, self.port, seed=self.seed).start()
        self.port = self._server.port

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def describe(self) -> str:
        return "embedded (stack-uat's asyncio server, Toxiproxy 2.12.0 API)"


class BinaryBackend(Backend):
    """Spawns `toxiproxy-server` from PATH (or $TOXIPROXY_SERVER) with Go-style flags."""

    name = "binary"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, executable: str | None = None) -> None:
        super().__init__(host, port)
        self.executable = executable or self.find()
        self._proc: subprocess.Popen[bytes] | None = None

    @staticmethod
    def find() -> str | None:
        return os.environ.get("TOXIPROXY_SERVER") or shutil.which("toxiproxy-server")

    @classmethod
    def unavailable(cls, *, forced: bool = False) -> str | None:
        if cls.find() is None:
            return "no toxiproxy-server on PATH (and TOXIPROXY_SERVER is not set)"
        return None

    def start(self) -> None:
        if self.executable is None:
            raise BackendUnavailable(self.unavailable() or "no executable")
        if self.port == 0:
            self.port = free_port(self.host)
        cmd = [self.executable, "-host", self.host, "-port", str(self.port)]
        self._proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            _wait_ready(self.url, lambda: self._proc is not None and self._proc.poll() is None, self._stderr)
        except BaseException:
            self.stop()
            raise

    def _stderr(self) -> str:
        if self._proc is None or self._proc.poll() is None or self._proc.stderr is None:
            return ""
        return self._proc.stderr.read().decode(errors="replace")[-2000:]

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        if proc.stderr is not None:
            proc.stderr.close()

    def describe(self) -> str:
        return f"binary ({self.executable})"


class DockerBackend(Backend):
    """A container on the host network (loopback only): the official image where it is present
    locally, otherwise stack-uat's harness image running `uat toxiproxy` (built when missing).

    `auto` picks this backend only when the official image is already there; forcing it
    (`--backend docker`) also accepts building our image.
    """

    name = "docker"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, image: str = TOXIPROXY_IMAGE) -> None:
        super().__init__(host, port)
        self.image = image
        self.official = True
        self._container: Any = None

    @classmethod
    def unavailable(cls, *, forced: bool = False, image: str = TOXIPROXY_IMAGE) -> str | None:
        from ..containers import Images, engine_unavailable

        reason = engine_unavailable()
        if reason is not None or forced:
            return reason
        if not Images().present(image):
            return f"image {image} is not present locally and no registry can be reached to pull it"
        return None

    def start(self) -> None:
        from ..containers import Images, run_container

        reason = self.unavailable(forced=True, image=self.image)
        if reason is not None:
            raise BackendUnavailable(reason)
        images = Images()
        if self.port == 0:
            self.port = free_port(self.host)
        if images.present(self.image):
            command = [f"-host={self.host}", f"-port={self.port}"]
        else:
            self.official = False
            self.extensions = True  # our image runs our server
            self.image = images.ensure_harness()
            command = ["toxiproxy", "--host", self.host, "--port", str(self.port)]
        self._container = run_container(self.image, command, role="toxiproxy")
        try:
            _wait_ready(self.url, self._container.running, self._container.logs_tail)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        container, self._container = self._container, None
        if container is not None:
            container.remove()

    def describe(self) -> str:
        kind = "official image" if self.official else "stack-uat's image, embedded server"
        return f"docker ({self.image}, {kind}, host network)"


class ExternalBackend(Backend):
    """A Toxiproxy API somebody else runs (`uat mocks up --toxiproxy URL`): attached, never stopped."""

    name = "external"

    @classmethod
    def unavailable(cls, *, forced: bool = False) -> str | None:
        return None

    def start(self) -> None:
        _wait_ready(self.url, lambda: True, lambda: "")

    def stop(self) -> None:
        pass

    def describe(self) -> str:
        return f"external ({self.url})"


BACKENDS: dict[str, type[Backend]] = {
    "binary": BinaryBackend,
    "docker": DockerBackend,
    "embedded": EmbeddedBackend,
}


def _wait_ready(url: str, alive: Any, stderr: Any) -> None:
    import httpx

    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if not alive():
            raise BackendUnavailable(f"the fault plane exited before it was ready: {stderr()}".strip())
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/version", timeout=0.5, trust_env=False).status_code == 200:
                return
        time.sleep(0.05)
    raise BackendUnavailable(f"the fault plane at {url} was not ready within {READY_TIMEOUT_S:.0f} s")

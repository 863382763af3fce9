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

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @classmethod
    @abc.abstractmethod
    def unavailable(cls) -> str | None:
        """Why this backend cannot run here, or None when it can."""

    @abc.abstractmethod
    def start(self) -> None: ...

    @abc.abstractmethod
    def stop(self) -> None: ...

    def describe(self) -> str:
        return self.name


class EmbeddedBackend(Backend):
    name = "embedded"

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(host, port)
        self._server: EmbeddedToxiproxy | None = None

    @classmethod
    def unavailable(cls) -> str | None:
        return None

    def start(self) -> None:
        self._server = EmbeddedToxiproxy(self.host, self.port).start()
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
    def unavailable(cls) -> str | None:
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
    """The official image through testcontainers, on the host network (loopback only)."""

    name = "docker"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, image: str = TOXIPROXY_IMAGE) -> None:
        super().__init__(host, port)
        self.image = image
        self._container: Any = None

    @classmethod
    def unavailable(cls, image: str = TOXIPROXY_IMAGE) -> str | None:
        try:
            import docker
        except ImportError:
            return "the docker Python package is not installed (pip install 'stack-uat[docker]')"
        docker_host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        if docker_host.startswith("unix://") and not os.path.exists(docker_host[len("unix://") :]):
            # Checked before docker-py tries: its failed connect leaks the socket it opened.
            return f"no Docker engine: {docker_host} does not exist (start one, or set DOCKER_HOST)"
        try:
            client = docker.from_env(timeout=3)
        except Exception as exc:  # docker raises many kinds here; all mean "no engine"
            return f"no Docker engine reachable ({type(exc).__name__}: {str(exc)[:120]})"
        try:
            client.ping()
        except Exception as exc:
            return f"no Docker engine reachable ({type(exc).__name__}: {str(exc)[:120]})"
        else:
            try:
                client.images.get(image)
            except Exception:
                return f"image {image} is not present locally and no registry can be reached to pull it"
        finally:
            client.close()
        return None

    def start(self) -> None:
        reason = self.unavailable(self.image)
        if reason is not None:
            raise BackendUnavailable(reason)
        os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
        from testcontainers.core.container import DockerContainer

        if self.port == 0:
            self.port = free_port(self.host)
        container = DockerContainer(self.image).with_kwargs(network_mode="host")
        container = container.with_command(f"-host={self.host} -port={self.port}")
        self._container = container.start()
        try:
            _wait_ready(self.url, lambda: True, lambda: "")
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        container, self._container = self._container, None
        if container is not None:
            with contextlib.suppress(Exception):
                container.stop()

    def describe(self) -> str:
        return f"docker ({self.image}, host network)"


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

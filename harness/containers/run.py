"""One harness container: started through testcontainers on the host network, labelled so
teardown can always find it, ready when a line of its output says so, and removed for sure."""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Callable
from typing import Any

from .engine import LABEL, OWNER_LABEL
from .errors import EngineUnavailable

READY_TIMEOUT_S = 60.0


class HarnessContainer:
    """A started container; `remove()` is idempotent and never raises."""

    def __init__(self, container: Any, role: str) -> None:
        self._tc = container
        self.role = role

    @property
    def id(self) -> str:
        return str(self._tc.get_wrapped_container().id)

    def running(self) -> bool:
        wrapped = self._tc.get_wrapped_container()
        if wrapped is None:
            return False
        try:
            wrapped.reload()
        except Exception:  # gone already: docker-py raises NotFound and friends
            return False
        return str(wrapped.status) in ("created", "running")

    def logs(self) -> str:
        with contextlib.suppress(Exception):
            out, err = self._tc.get_logs()
            return bytes(out or b"").decode(errors="replace") + bytes(err or b"").decode(errors="replace")
        return ""

    def logs_tail(self, lines: int = 30) -> str:
        return "\n".join(self.logs().splitlines()[-lines:])

    def wait_for_line(self, ready: Callable[[str], bool], timeout: float = READY_TIMEOUT_S) -> str:
        """The first stdout line for which ready() holds; fails fast if the container exits."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                out, _ = self._tc.get_logs()
                for line in bytes(out or b"").decode(errors="replace").splitlines():
                    if ready(line):
                        return line
            if not self.running():
                raise EngineUnavailable(
                    f"the {self.role} container exited before it was ready; its output:\n{self.logs_tail()}"
                )
            time.sleep(0.1)
        raise EngineUnavailable(
            f"the {self.role} container was not ready within {timeout:.0f} s; its output:\n{self.logs_tail()}"
        )

    def state(self) -> dict[str, Any]:
        """The engine's State of the container (Status, ExitCode, Pid, ...); {} once it is gone."""
        with contextlib.suppress(Exception):
            wrapped = self._tc.get_wrapped_container()
            wrapped.reload()
            return dict(wrapped.attrs.get("State") or {})
        return {}

    def terminate(self, timeout: float) -> None:
        """SIGTERM, then SIGKILL after timeout seconds (`docker stop`); remove() still follows."""
        with contextlib.suppress(Exception):
            self._tc.get_wrapped_container().stop(timeout=max(1, round(timeout)))

    def kill(self, signal_name: str = "SIGKILL") -> None:
        """`docker kill --signal`: a crash (SIGKILL) or any other signal; remove() still follows."""
        with contextlib.suppress(Exception):
            self._tc.get_wrapped_container().kill(signal=signal_name)

    def remove(self) -> None:
        with contextlib.suppress(Exception):
            self._tc.stop(force=True)


def run_container(
    image: str,
    command: list[str] | None,
    *,
    role: str,
    run_id: str | None = None,
    env: dict[str, str] | None = None,
    init: bool = False,
) -> HarnessContainer:
    """Start image with command (None: the image's CMD) and env on the host network (never a
    bridge: only loopback is allowed); `init` runs it under the engine's tini, so a process that
    sets no SIGTERM handler still stops on SIGTERM, as it would outside a container."""
    # Ryuk needs a bridge and a pulled image, neither of which exists here; we reap by label.
    os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
    from testcontainers.core.container import DockerContainer

    name = f"uat-{role}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    labels = {LABEL: "1", OWNER_LABEL: str(os.getpid()), f"{LABEL}.role": role}
    if run_id:
        labels[f"{LABEL}.run"] = run_id
    container = DockerContainer(image).with_name(name).with_envs(**(env or {}))
    if command is not None:
        container = container.with_command(command)
    container = container.with_kwargs(network_mode="host", labels=labels, **({"init": True} if init else {}))
    try:
        container.start()
    except BaseException:
        # a Ctrl-C between create and start leaves a created container: remove it by name
        _remove_by_name(name)
        raise
    return HarnessContainer(container, role)


def _remove_by_name(name: str) -> None:
    from .engine import docker_client

    with contextlib.suppress(Exception):
        client = docker_client()
        try:
            client.containers.get(name).remove(force=True)
        finally:
            client.close()

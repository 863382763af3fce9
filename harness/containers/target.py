"""The middleware under test as the agency ships it: a container from an image already on the
engine (`[start] image` in the target file). It is run the way TargetProcess runs a command: the
same rendered environment (and nothing else of ours), the same readiness wait, its output in the
same `target.log`, stopped with SIGTERM and then removed, Ctrl-C included.

It runs on the host network, like the mocks, so `{port}`, the mocks' URLs and the Postgres DSN
mean in the container what they mean on the host. Nothing is ever pulled: no registry can be
reached, so a missing image is refused before anything starts, with how to get it there.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from pathlib import Path

from ..report import Redactor
from ..target import Target
from ..topology import read_log_tail, wait_until_ready
from .engine import docker_client, engine_unavailable
from .errors import EngineUnavailable, ImageUnavailable
from .images import EXPRESS_SAMPLE_IMAGE, Images
from .run import HarnessContainer, run_container

STOP_TIMEOUT_S = 10.0  # SIGTERM, then SIGKILL: the same grace a middleware process gets
FOLLOW_TIMEOUT_S = 24 * 3600  # the log stream may stay silent for as long as the run lasts


def how_to_get(image: str) -> str:
    if image == EXPRESS_SAMPLE_IMAGE:
        return "build it with `uat engine build express-sample`"
    return (
        f"build it on that engine (`docker build -t {image} .`, with the same DOCKER_HOST) or load a "
        f"saved one (`docker load -i image.tar`)"
    )


def missing_image(target: Target) -> str | None:
    """Why target.image cannot run on the engine that answers here (it is not there, and nothing
    is pulled), naming start.image and how to get it there; None if it is there, or if no engine
    answers (that cannot be told before a run: require_image's infrastructure error)."""
    assert target.image
    if engine_unavailable() is not None or Images().present(target.image):
        return None
    host = os.environ.get("DOCKER_HOST") or "the standard socket"
    return (
        f"{target.source}: start.image: image {target.image!r} is not present on the engine at {host}, "
        f"and nothing is pulled (no registry can be reached); {how_to_get(target.image)}"
    )


def require_image(target: Target) -> None:
    """The engine answers and already holds target.image; otherwise EngineUnavailable or
    ImageUnavailable, naming start.image and saying how to get the image there."""
    assert target.image
    reason = engine_unavailable()
    if reason is not None:
        raise EngineUnavailable(
            f"{target.source}: start.image: {target.image} needs a Docker engine: {reason}"
        )
    problem = missing_image(target)
    if problem is not None:
        raise ImageUnavailable(problem)


class TargetContainer:
    """The system under test as a container; the same small interface as TargetProcess."""

    def __init__(
        self,
        target: Target,
        command: list[str],
        env: dict[str, str],
        ready_url: str,
        logdir: Path,
        redact: Redactor,
    ) -> None:
        assert target.image, "a TargetContainer runs a target file's start.image"
        self.target = target
        self.image = target.image
        self.command = command  # empty: the image's own CMD
        self.env = env
        self.ready_url = ready_url
        self.logfile = logdir / "target.log"
        self.redact = redact
        self._container: HarnessContainer | None = None
        self._follower: threading.Thread | None = None
        self._pid: int | None = None

    def start(self) -> None:
        require_image(self.target)
        self.logfile.write_bytes(b"")
        self._container = run_container(
            self.image, self.command or None, role="target", env=self.env, init=True
        )
        state = self._container.state()
        self._pid = int(state.get("Pid") or 0) or None
        self._follower = threading.Thread(
            target=self._follow, args=(self._container.id,), name="uat-target-log", daemon=True
        )
        self._follower.start()

    def _follow(self, container_id: str) -> None:
        """Copy the container's output (stdout and stderr, from its start) into target.log as it
        comes; the stream ends when the container stops or is removed."""
        with contextlib.suppress(Exception):
            client = docker_client(timeout=FOLLOW_TIMEOUT_S)
            try:
                stream = client.api.logs(container_id, stdout=True, stderr=True, stream=True, follow=True)
                with self.logfile.open("ab") as log:
                    for chunk in stream:
                        log.write(chunk)
                        log.flush()
            finally:
                client.close()

    def exit_code(self) -> int | None:
        """None while the container runs; its exit code once it has stopped (-1 if it is gone)."""
        if self._container is None:
            return -1
        state = self._container.state()
        if not state:
            return -1
        if state.get("Status") in ("created", "running", "restarting"):
            return None
        return int(state.get("ExitCode", -1))

    def wait_ready(self, timeout_s: float | None = None) -> float:
        what = f"{self.target.name} (container of {self.image})"
        return wait_until_ready(what, self.target, self.ready_url, self.exit_code, self.log_tail, timeout_s)

    @property
    def pid(self) -> int | None:
        """The container's init as this host sees it: its process tree is the middleware's, so
        `uat load` samples it like a process's."""
        return self._pid if self._container is not None else None

    @property
    def container_id(self) -> str | None:
        return self._container.id if self._container is not None else None

    def alive(self) -> bool:
        return self._container is not None and self._container.state().get("Status") == "running"

    def log_tail(self, lines: int = 60) -> str:
        """The last lines the middleware printed, secrets redacted."""
        return read_log_tail(self.logfile, self.redact, lines)

    def stop(self, sig: int = signal.SIGTERM, grace_s: float = STOP_TIMEOUT_S) -> int | None:
        """`sig` (SIGTERM: `docker stop`, up to grace_s for it to exit; SIGKILL: `docker kill`),
        then the container is removed for sure; its exit code."""
        container, self._container = self._container, None
        if container is None:
            return None
        code: int | None = None
        try:
            if sig == signal.SIGKILL:
                container.kill()
            elif sig == signal.SIGTERM:
                container.terminate(grace_s)
            else:
                container.kill(signal.Signals(sig).name)
                container.terminate(grace_s)
            state = container.state()
            code = int(state["ExitCode"]) if state and "ExitCode" in state else None
        finally:
            container.remove()
            follower, self._follower = self._follower, None
            if follower is not None:
                follower.join(timeout=5)
        return code

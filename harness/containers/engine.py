"""Finding a Docker engine, or starting a loopback-only one for hosts that have none running.

The only engine shape allowed here has no bridge and touches no iptables: containers use the
host network (everything stays on 127.0.0.1) or none. Stopping dockerd leaves an `nsfs` mount
under its exec root, so teardown unmounts whatever is still mounted below the engine's dirs.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from .errors import EngineUnavailable

DEFAULT_SOCKET = "unix:///var/run/docker.sock"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 20.0
# Labels every container the harness starts carries, so teardown can find them all.
LABEL = "io.stack-uat"
OWNER_LABEL = "io.stack-uat.owner-pid"


def docker_client(docker_host: str | None = None, timeout: int = 10) -> Any:
    """A docker-py client for the given engine (default: DOCKER_HOST, then the standard socket)."""
    from docker.client import DockerClient

    host = docker_host or os.environ.get("DOCKER_HOST") or DEFAULT_SOCKET
    return DockerClient(base_url=host, timeout=timeout)


def engine_unavailable(docker_host: str | None = None) -> str | None:
    """Why no engine answers at docker_host (or DOCKER_HOST, or the standard socket), or None."""
    try:
        import testcontainers  # noqa: F401

        import docker  # noqa: F401
    except ImportError:
        return "the container backend's packages are not installed (pip install 'stack-uat[docker]')"
    host = docker_host or os.environ.get("DOCKER_HOST") or DEFAULT_SOCKET
    if host.startswith("unix://") and not os.path.exists(host[len("unix://") :]):
        # Checked first: docker-py leaks the socket of a failed unix connect.
        return f"no Docker engine: {host} does not exist (start one with `uat engine up`, or set DOCKER_HOST)"
    try:
        client = docker_client(host, timeout=3)
    except Exception as exc:  # docker raises many kinds here; all mean "no engine"
        return f"no Docker engine reachable at {host} ({type(exc).__name__}: {str(exc)[:120]})"
    try:
        client.ping()
    except Exception as exc:
        return f"no Docker engine reachable at {host} ({type(exc).__name__}: {str(exc)[:120]})"
    finally:
        client.close()
    return None


def loopback_engine_unavailable() -> str | None:
    """Why this host cannot start a loopback engine of its own, or None."""
    if shutil.which("dockerd") is None:
        return "dockerd is not installed (apt-get install docker.io)"
    if os.geteuid() != 0:
        return "starting dockerd needs root"
    return None


def mounts_under(root: Path) -> list[str]:
    """Mount points below root, deepest first (so nested mounts come off before their parents)."""
    prefix = str(root.resolve())
    points: list[str] = []
    with contextlib.suppress(OSError), open("/proc/self/mountinfo") as info:
        for line in info:
            point = line.split()[4].replace("\\040", " ")
            if point == prefix or point.startswith(prefix + "/"):
                points.append(point)
    return sorted(set(points), key=lambda p: p.count("/"), reverse=True)


def pids_mentioning(needle: str) -> list[int]:
    """Processes whose command line names needle (dockerd, its containerd and the shims)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            if needle in (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                pids.append(int(entry.name))
    return pids


class LoopbackEngine:
    """dockerd with no bridge, no iptables, and every path of its own, torn down without a trace.

    `data_dir` holds images and may be kept between runs (warm starts); the exec root, the socket
    and the pid file live in a fresh temp dir that is always removed.
    """

    def __init__(self, data_dir: Path | None = None) -> None:
        self._own_data = data_dir is None
        self._data_dir = data_dir
        self.run_dir: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self.started_s = 0.0

    @property
    def data_dir(self) -> Path:
        assert self._data_dir is not None, "the engine is not started"
        return self._data_dir

    @property
    def docker_host(self) -> str:
        assert self.run_dir is not None, "the engine is not started"
        return f"unix://{self.run_dir}/docker.sock"

    def start(self) -> LoopbackEngine:
        reason = loopback_engine_unavailable()
        if reason is not None:
            raise EngineUnavailable(reason)
        began = time.monotonic()
        # Short path: a unix socket path must stay under 108 bytes.
        self.run_dir = Path(tempfile.mkdtemp(prefix="uat-dockerd-", dir="/tmp"))
        if self._data_dir is None:
            self._data_dir = self.run_dir / "data"
        self._data_dir.mkdir(parents=True, exist_ok=True)
        cmd = [
            "dockerd",
            "--bridge=none",
            "--iptables=false",
            "--ip-forward=false",
            "--ip-masq=false",
            f"--data-root={self._data_dir}",
            f"--exec-root={self.run_dir}/exec",
            f"--pidfile={self.run_dir}/docker.pid",
            f"--host={self.docker_host}",
        ]
        log = (self.run_dir / "dockerd.log").open("wb")
        try:
            self._proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            log.close()
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        self.started_s = time.monotonic() - began
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self._proc is not None
            if self._proc.poll() is not None:
                code = self._proc.returncode
                raise EngineUnavailable(f"dockerd exited with code {code}: {self.log_tail()}")
            if engine_unavailable(self.docker_host) is None:
                return
            time.sleep(0.2)
        raise EngineUnavailable(f"dockerd did not answer within {START_TIMEOUT_S:.0f} s: {self.log_tail()}")

    def log_tail(self, lines: int = 15) -> str:
        if self.run_dir is None:
            return ""
        try:
            text = (self.run_dir / "dockerd.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """Containers, dockerd and its containerd, leftover mounts, then the temp dirs."""
        if self.run_dir is None:
            return
        run_dir = self.run_dir
        if self._proc is not None and self._proc.poll() is None:
            with contextlib.suppress(Exception):
                remove_containers(self.docker_host, label=None)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._proc.pid, signal.SIGTERM)
            try:
                self._proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self._proc.pid, signal.SIGKILL)
                self._proc.wait(timeout=10)
        self._proc = None
        # containerd and shims are in dockerd's session, but a killed dockerd can orphan them
        for pid in pids_mentioning(str(run_dir)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        roots = [run_dir] + ([self.data_dir] if self._data_dir is not None else [])
        for root in roots:
            for point in mounts_under(root):
                subprocess.run(["umount", "-l", point], check=False, capture_output=True)
        shutil.rmtree(run_dir, ignore_errors=True)
        if self._own_data and self._data_dir is not None:
            shutil.rmtree(self._data_dir, ignore_errors=True)
        self.run_dir = None

    def __enter__(self) -> LoopbackEngine:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def list_containers(docker_host: str | None = None, *, label: str | None = LABEL) -> list[dict[str, Any]]:
    """The engine's summaries (Id, Names, Labels, State) of every container carrying label.

    One list call and no inspect per container: docker-py's `containers.list` inspects each one
    it found, and a container removed in between (a teardown running alongside) raises NotFound.
    """
    client = docker_client(docker_host)
    try:
        filters = {"label": label} if label else {}
        found: list[dict[str, Any]] = client.api.containers(all=True, filters=filters)
        return found
    finally:
        client.close()


def container_names(summaries: list[dict[str, Any]]) -> list[str]:
    """The names of the listed containers, without the engine's leading slash."""
    return [str(s["Names"][0]).lstrip("/") for s in summaries if s.get("Names")]


def _remove(client: Any, container_id: str) -> bool:
    try:
        client.api.remove_container(container_id, force=True)
    except Exception:  # already gone, or being removed by its own teardown
        return False
    return True


def remove_containers(docker_host: str | None = None, *, label: str | None = LABEL) -> int:
    """Force-remove every container carrying label (every container at all with label=None)."""
    found = list_containers(docker_host, label=label)
    client = docker_client(docker_host)
    try:
        for summary in found:
            _remove(client, summary["Id"])
        return len(found)
    finally:
        client.close()


def remove_orphans(docker_host: str | None = None) -> int:
    """Remove harness containers whose owning process is gone (a run that was killed with -9)."""
    client = docker_client(docker_host)
    removed = 0
    try:
        for summary in list_containers(docker_host, label=OWNER_LABEL):
            pid = int((summary.get("Labels") or {}).get(OWNER_LABEL, "0") or 0)
            if pid and not Path(f"/proc/{pid}").exists() and _remove(client, summary["Id"]):
                removed += 1
        return removed
    finally:
        client.close()

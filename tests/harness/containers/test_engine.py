"""The loopback engine helper: it starts in the only allowed shape, and Ctrl-C in the middle of
a run leaves no container, no dockerd or containerd, no mount and no new network interface."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from harness.containers import LABEL, docker_client, loopback_engine_unavailable
from harness.containers.engine import mounts_under, pids_mentioning


def _interfaces() -> set[str]:
    return set(os.listdir("/sys/class/net"))


def _tiny_rootfs() -> bytes:
    """A root filesystem holding /bin/sleep and the libraries it links: enough for one container
    on an engine with no image at all, and no registry to pull one from."""
    sleep = shutil.which("sleep")
    assert sleep is not None
    libs = subprocess.run(["ldd", sleep], capture_output=True, text=True, check=True).stdout
    files = {Path(sleep).resolve()}
    for line in libs.splitlines():
        for part in line.split():
            if part.startswith("/"):
                files.add(Path(part))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.add(str(Path(sleep).resolve()), arcname="bin/sleep")
        for path in files:
            tar.add(str(path.resolve()), arcname=str(path).lstrip("/"))
    return buf.getvalue()


def test_engine_check_names_the_missing_socket(tmp_path: Path) -> None:
    env = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/none.sock"}
    done = subprocess.run(
        [sys.executable, "-m", "harness", "engine", "check"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 3
    assert f"{tmp_path}/none.sock does not exist" in done.stderr


def _run_with_a_container_then_ctrl_c(proc: subprocess.Popen[str]) -> Path:
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, proc.stderr.read() if proc.stderr else ""
        info = json.loads(line)
        run_dir = Path(info["docker_host"].removeprefix("unix://")).parent
        client = docker_client(info["docker_host"])
        try:
            assert client.info()["Driver"]
            # no bridge was created, and nothing to route through
            assert {n.name for n in client.networks.list()} <= {"host", "none"}
            client.api.import_image_from_data(_tiny_rootfs(), repository="uat-tiny", tag="1")
            container = client.containers.run(
                "uat-tiny:1", ["/bin/sleep", "300"], network_mode="none", detach=True, labels={LABEL: "1"}
            )
            container.reload()
            assert container.status == "running"
            assert mounts_under(run_dir), "a running container mounts under the exec root"
        finally:
            client.close()
        proc.send_signal(signal.SIGINT)  # Ctrl-C with a container running
        assert proc.wait(timeout=60) == 0, proc.stderr.read() if proc.stderr else ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return run_dir


@pytest.mark.docker
@pytest.mark.slow
def test_ctrl_c_in_the_middle_of_a_run_leaves_nothing_behind() -> None:
    reason = loopback_engine_unavailable()
    if reason is not None:
        pytest.skip(f"cannot start a loopback engine here: {reason}")
    interfaces = _interfaces()
    with subprocess.Popen(
        [sys.executable, "-m", "harness", "engine", "up", "--json", "--no-images"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        run_dir = _run_with_a_container_then_ctrl_c(proc)
    deadline = time.monotonic() + 5
    while pids_mentioning(str(run_dir)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert pids_mentioning(str(run_dir)) == [], "dockerd, containerd or a shim outlived the helper"
    assert mounts_under(run_dir) == [], "a mount (the nsfs one, say) was left behind"
    assert not run_dir.exists()
    assert _interfaces() == interfaces

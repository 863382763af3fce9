"""The middleware as the agency ships it: `[start] image` runs the target from a local image on the
host network, wired, awaited, logged and stopped exactly like a process; a missing image is
refused before anything starts; and the gate passes against the containerised Express sample.

The container tests use the Express sample's image (built on first use: Node 20 from apt on the
local Debian trixie base, `npm ci` inside the build). Most of them override its command with a
small env-echo server run by the image's own Node, so they can see what reached the container.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from harness import resources
from harness.containers import (
    LABEL,
    OWNER_LABEL,
    Images,
    ImageUnavailable,
    docker_client,
    list_containers,
)
from harness.containers.images import EXPRESS_SAMPLE_IMAGE
from harness.containers.target import TargetContainer, missing_image
from harness.faults.plane import choose_backend
from harness.ports import is_listening
from harness.report import MASK
from harness.target import Target, load
from harness.topology import TargetNotReady, Topology
from tests.harness.gate.test_gate import uat

# A stand-in middleware in JavaScript, for the image's Node: /health, /env echoes its environment,
# it prints its TT secret (redaction is checked) and says when SIGTERM stops it. argv[1] is the
# mode. Passed base64-encoded, since a target file's command is templated and JS is full of {}.
ENV_ECHO_JS = r"""
const http = require('node:http');
const mode = process.argv[1] || 'serve';
console.log(`booting with TT secret ${process.env.TT_APP_SECRET} on port ${process.env.PORT}`);
if (mode === 'exit') {
  console.error('fatal: cannot reach the order plant');
  process.exit(4);
}
process.on('SIGTERM', () => { console.log('stopping on SIGTERM'); process.exit(0); });
if (mode === 'silent') {
  setInterval(() => {}, 1000);
} else {
  http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(req.url === '/env' ? JSON.stringify(process.env) : '{"status":"ok"}');
  }).listen(Number(process.env.PORT), '127.0.0.1');
}
"""
ENV_ECHO = f"eval(Buffer.from('{base64.b64encode(ENV_ECHO_JS.encode()).decode()}','base64').toString())"


def _target(image: str, mode: str | None = "serve", timeout_s: float = 30) -> Target:
    """The image target file, with the env-echo's command (mode None: the image's own CMD), env
    and readiness instead (its adapter is never called here)."""
    return dataclasses.replace(
        load("express-sample-image"),
        name="env-echo-image",
        image=image,
        command=("node", "-e", ENV_ECHO, mode) if mode is not None else (),
        ready_url="http://127.0.0.1:{port}/health",
        ready_timeout_s=timeout_s,
        env={
            "PORT": "{port}",
            "TT_URL": "{mocks.tt.url}",
            "TT_APP_SECRET": "{mocks.tt.app_secret}",
            "DATABASE_URL": "{postgres.dsn}",
        },
        passthrough_env=(),
        venues=("tt",),
    )


def _target_containers(docker_host: str) -> list[str]:
    """The ids of the target's containers (listed without inspecting: one may be going away)."""
    return [str(c["Id"]) for c in list_containers(docker_host, label=f"{LABEL}.role=target")]


@pytest.fixture(scope="session")
def express_sample_image(docker_engine: str) -> str:
    """The Express sample's image for this source tree (about 100 s from nothing: 45 s for the
    trixie base, 55 s for apt's Node and `npm ci`; reused after that)."""
    return Images(docker_engine).ensure_express_sample()


# -- the target file (no engine needed)


def test_the_image_target_file_is_the_process_one_but_for_start() -> None:
    """targets/express-sample-image.toml must not drift from targets/express-sample.toml."""
    image, process = load("express-sample-image"), load("express-sample")
    assert image.image == EXPRESS_SAMPLE_IMAGE and image.command == () and image.cwd is None
    assert process.image is None and process.command
    # the image carries its R|Protocol schema: no interpreter of ours to build it at start; and it
    # cannot read the run's secret file yet, so it keeps the credentials it was started with
    apart = {"RITHMIC_SCHEMA_PYTHON", "SECRETS_FILE"}
    assert {k: v for k, v in process.env.items() if k not in apart} == image.env
    assert process.secrets is not None and image.secrets is None
    for name in ("ready_url", "ready_timeout_s", "passthrough_env", "adapter", "adapter_table", "base_url",
                 "webhooks", "checks_sql", "venues", "slo", "allowed_hosts", "postgres_dsn", "database",
                 "deploy", "metrics"):  # fmt: skip
        assert getattr(image, name) == getattr(process, name), name
    assert resources.real_path(resources.TARGETS, "express-sample-image.toml").is_file()


def test_an_image_with_or_without_a_command_override(tmp_path: Path) -> None:
    text = resources.real_path(resources.TARGETS, "express-sample-image.toml").read_text()
    (tmp_path / "express-sample.sql").write_text("")
    path = tmp_path / "t.toml"
    path.write_text(text.replace('# command = ["node"', 'command = ["node"'))
    target = load(str(path))
    assert target.image == EXPRESS_SAMPLE_IMAGE and target.command == ("node", "src/server.js")
    assert load("express-sample-image").command == ()


# -- on an engine


@pytest.mark.docker
@pytest.mark.slow
def test_a_missing_image_is_refused_before_anything_starts(
    tmp_path: Path, docker_engine: str, no_leftover_containers: None
) -> None:
    target = _target("stack-uat/no-such-image:1")
    problem = missing_image(target)
    assert problem is not None
    assert "start.image" in problem and "'stack-uat/no-such-image:1' is not present" in problem
    assert "nothing is pulled" in problem and "docker build -t stack-uat/no-such-image:1" in problem
    topo = Topology(target, venues=("tt",), workdir=tmp_path, backend="embedded")
    with pytest.raises(ImageUnavailable, match=r"\.toml: start\.image: image 'stack-uat/no-such-image:1'"):
        topo.start()
    assert "postgres" not in topo.timings and "mocks" not in topo.timings, "it started things first"
    express = _target(EXPRESS_SAMPLE_IMAGE)
    if missing_image(express):
        assert "uat engine build express-sample" in str(missing_image(express))


@pytest.mark.docker
@pytest.mark.slow
def test_a_container_target_is_wired_awaited_logged_restarted_and_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, docker_engine: str, express_sample_image: str,
    no_leftover_containers: None,
) -> None:  # fmt: skip
    monkeypatch.setenv("UAT_PARENT_ONLY", "1")
    with Topology(
        _target(express_sample_image), venues=("tt",), workdir=tmp_path, backend="embedded"
    ) as topo:
        process = topo.process
        assert isinstance(process, TargetContainer)
        assert process.alive() and {"target_image", "target_spawn", "target_ready"} <= set(topo.timings)
        # the rendered [env] reached the container, and nothing else of ours did
        env = httpx.get(f"http://127.0.0.1:{topo.port}/env", trust_env=False).json()
        tt = topo.stack.describe()["mocks"]["tt"]
        assert env["TT_URL"] == tt["url"] and env["DATABASE_URL"] == topo.postgres_dsn  # through the proxy
        assert env["PORT"] == str(topo.port)
        assert "UAT_PARENT_ONLY" not in env and "VIRTUAL_ENV" not in env
        # on the host network, labelled for teardown, under the engine's init
        (container_id,) = _target_containers(docker_engine)
        assert container_id == process.container_id
        client = docker_client(docker_engine)
        try:
            container = client.containers.get(container_id)
        finally:
            client.close()
        assert container.attrs["HostConfig"]["NetworkMode"] == "host"
        assert container.attrs["HostConfig"]["Init"] is True
        assert container.labels[OWNER_LABEL] == str(os.getpid())
        # its main process, as this host sees it (what `uat load` samples)
        assert process.pid is not None
        assert b"node" in Path(f"/proc/{process.pid}/cmdline").read_bytes()
        # its output in target.log, secrets redacted in the tail
        assert (tmp_path / "target.log").is_file()
        tail = process.log_tail()
        assert "booting with TT secret" in tail and MASK in tail and tt["app_secret"] not in tail
        # a restart (a deployment scenario) is a fresh container, over the same world
        first = process.container_id
        assert topo.restart_target({"EXTRA": "1"}) > 0
        assert isinstance(topo.process, TargetContainer) and topo.process.container_id != first
        assert httpx.get(f"http://127.0.0.1:{topo.port}/env", trust_env=False).json()["EXTRA"] == "1"
        assert _target_containers(docker_engine) == [topo.process.container_id]
        # a crash (the crash deployment): docker kill, its exit code, the container gone; then back
        assert topo.process.stop(signal.SIGKILL) == 137
        assert _target_containers(docker_engine) == []
        topo.spawn_target().wait_ready()
        port = topo.port
    assert _target_containers(docker_engine) == [], "stop left the container behind"
    assert not is_listening("127.0.0.1", port)
    assert "stopping on SIGTERM" in (tmp_path / "target.log").read_text(), "it was not stopped gently"


@pytest.mark.docker
@pytest.mark.slow
def test_a_container_that_exits_is_the_middlewares_failure(
    tmp_path: Path, docker_engine: str, express_sample_image: str, no_leftover_containers: None
) -> None:
    topo = Topology(
        _target(express_sample_image, "exit"), venues=("tt",), workdir=tmp_path, backend="embedded"
    )
    pattern = (
        r"container of stack-uat/express-sample:local\) exited with code 4(.|\n)*cannot reach the order plant"
    )
    with pytest.raises(TargetNotReady, match=pattern) as caught:
        topo.start()
    assert f"booting with TT secret {MASK} on port {topo.port}" in str(caught.value), "not redacted"
    assert _target_containers(docker_engine) == []


@pytest.mark.docker
@pytest.mark.slow
def test_a_container_that_never_answers_is_the_middlewares_failure(
    tmp_path: Path, docker_engine: str, express_sample_image: str, no_leftover_containers: None
) -> None:
    target = _target(express_sample_image, "silent", timeout_s=3)
    with pytest.raises(
        TargetNotReady, match=r"did not answer http://127\.0\.0\.1:\d+/health with 200 within 3 s"
    ):
        Topology(target, venues=("tt",), workdir=tmp_path, backend="embedded").start()
    assert _target_containers(docker_engine) == []


_HOLD = """
import sys, time
from harness.topology import Topology
from tests.harness.containers.test_target_container import _target
with Topology(_target(sys.argv[1]), venues=("tt",), backend="embedded") as topo:
    print(topo.process.container_id, flush=True)
    time.sleep(600)
"""


@pytest.mark.docker
@pytest.mark.slow
def test_ctrl_c_removes_the_target_container(docker_engine: str, express_sample_image: str) -> None:
    with subprocess.Popen(
        [sys.executable, "-c", _HOLD, express_sample_image],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            assert proc.stdout is not None
            container_id = proc.stdout.readline().strip()
            assert container_id, proc.stderr.read() if proc.stderr else ""
            assert _target_containers(docker_engine) == [container_id]
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    deadline = time.monotonic() + 5
    while _target_containers(docker_engine) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _target_containers(docker_engine) == [], "Ctrl-C left the target's container behind"


@pytest.mark.docker
@pytest.mark.slow
def test_the_gate_passes_against_the_containerised_express_sample(
    tmp_path: Path, docker_engine: str, express_sample_image: str, no_leftover_containers: None
) -> None:
    report = tmp_path / "g"
    done = uat("gate", "--target", "express-sample-image", "--scenario", "RITHMIC-DUPLICATE-FILL",
               "--seed", "7", "--no-html", "--report", str(report), timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    gate = json.loads((report / "gate.json").read_text())
    assert gate["verdict"] == "passed" and gate["target"] == "express-sample-image"
    (record,) = gate["scenarios"]
    assert record["status"] == "passed"
    used = choose_backend()[0].name  # what auto chose; the reproduce command names binary or embedded
    backend = f" --backend {used}" if used in ("binary", "embedded") else ""
    assert record["reproduce"] == (
        f"uat reproduce RITHMIC-DUPLICATE-FILL --seed 7 --target express-sample-image{backend}"
    )
    assert _target_containers(docker_engine) == []

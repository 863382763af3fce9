"""FaultPlane and its backends: choice, start, stop, and nothing left behind."""

from __future__ import annotations

import os
import shutil
import stat
import sys
from pathlib import Path

import pytest

from harness.containers import Images
from harness.faults import (
    BackendUnavailable,
    BinaryBackend,
    DockerBackend,
    FaultPlane,
    choose_backend,
)
from harness.faults.backends import TOXIPROXY_IMAGE
from harness.ports import is_listening
from tests.netutil import connect, recv_exactly, round_trip


@pytest.fixture
def no_binary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOXIPROXY_SERVER", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")


@pytest.fixture
def shim_binary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `toxiproxy-server` stand-in that runs *our* server with Go-style flags translated.

    It exercises the binary backend's spawn, readiness and teardown for real; the server
    behind it is the embedded one, so it says nothing about the Go binary itself.
    """
    shim = tmp_path / "toxiproxy-server"
    shim.write_text(
        "#!/bin/sh\n"
        '[ "$1" = -host ] && [ "$3" = -port ] || { echo "unexpected flags: $*" >&2; exit 64; }\n'
        f'exec "{sys.executable}" -m harness toxiproxy --host "$2" --port "$4"\n'
    )
    shim.chmod(shim.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("TOXIPROXY_SERVER", str(shim))
    return shim


def test_auto_falls_back_to_embedded_and_says_why(no_binary: None) -> None:
    cls, reason = choose_backend("auto")
    if DockerBackend.unavailable() is None:
        pytest.skip("a Docker engine with the Toxiproxy image is present, so auto picks docker here")
    assert cls.name == "embedded"
    assert "binary: no toxiproxy-server on PATH" in reason and "docker:" in reason


def test_forcing_an_unavailable_backend_fails_with_the_reason(no_binary: None) -> None:
    with pytest.raises(BackendUnavailable, match="'binary' is unavailable: no toxiproxy-server"):
        FaultPlane("binary").start()


def test_embedded_plane_proxies_and_frees_its_ports(echo_server: int) -> None:
    with FaultPlane("embedded") as plane:
        assert plane.backend_name == "embedded" and plane.client.version() == "2.12.0"
        proxy = plane.client.create_proxy("echo", upstream=f"127.0.0.1:{echo_server}")
        with connect(proxy.port) as sock:
            round_trip(sock)
        api_port = int(plane.url.rpartition(":")[2])
    assert not is_listening("127.0.0.1", api_port)
    assert not is_listening("127.0.0.1", proxy.port)


def _cut_pattern(seed: int | None, echo_port: int, connections: int = 16) -> list[bool]:
    """Which of `connections` opened one after another a half-toxic `limit_data` cut (toxicity 0.5)."""
    with FaultPlane("embedded", seed=seed) as plane:
        proxy = plane.client.create_proxy("echo", upstream=f"127.0.0.1:{echo_port}")
        proxy.add_toxic("limit_data", name="cut", toxicity=0.5, bytes=4)
        pattern = []
        for _ in range(connections):
            with connect(proxy.port) as sock:
                sock.sendall(b"0123456789")
                got = recv_exactly(sock, 10)
            pattern.append(len(got) < 10)
        return pattern


def test_a_seeded_embedded_plane_repeats_its_toxics_draws(echo_server: int) -> None:
    first = _cut_pattern(11, echo_server)
    assert 0 < sum(first) < len(first), first  # toxicity 0.5 really draws
    assert _cut_pattern(11, echo_server) == first
    assert _cut_pattern(12, echo_server) != first


def test_binary_backend_spawns_waits_and_reaps(shim_binary: Path, echo_server: int) -> None:
    cls, reason = choose_backend("auto")
    assert cls is BinaryBackend and reason == "binary (auto)"
    plane = FaultPlane("auto").start()
    try:
        assert plane.backend_name == "binary"
        proxy = plane.client.create_proxy("echo", upstream=f"127.0.0.1:{echo_server}")
        with connect(proxy.port) as sock:
            round_trip(sock)
        backend = plane._backend
        assert isinstance(backend, BinaryBackend) and backend._proc is not None
        proc = backend._proc
    finally:
        plane.stop()
    assert proc.poll() is not None, "the server process outlived the plane"
    assert not is_listening("127.0.0.1", proxy.port)


def test_binary_backend_reports_a_server_that_dies_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "toxiproxy-server"
    broken.write_text("#!/bin/sh\necho 'flag provided but not defined: -host' >&2\nexit 2\n")
    broken.chmod(0o755)
    monkeypatch.setenv("TOXIPROXY_SERVER", str(broken))
    with pytest.raises(BackendUnavailable, match="flag provided but not defined"):
        FaultPlane("binary").start()


@pytest.mark.skipif(
    shutil.which("toxiproxy-server") is None,
    reason="no real toxiproxy-server binary on PATH: no registry here ships it (reference §0)",
)
def test_real_toxiproxy_binary(echo_server: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOXIPROXY_SERVER", raising=False)
    with FaultPlane("binary") as plane:
        assert plane.client.version().startswith("2.")
        proxy = plane.client.create_proxy("echo", upstream=f"127.0.0.1:{echo_server}")
        with connect(proxy.port) as sock, proxy.toxic("latency", latency=100):
            assert round_trip(sock) >= 0.09


@pytest.mark.docker
@pytest.mark.slow
def test_docker_backend_without_the_official_image_runs_our_server_in_a_container(
    echo_server: int, harness_image: str, no_leftover_containers: None
) -> None:
    if Images().present(TOXIPROXY_IMAGE):
        pytest.skip(f"{TOXIPROXY_IMAGE} is present here, so the official image is what runs")
    # `auto` does not build images: without the official image it falls back to embedded
    assert DockerBackend.unavailable() is not None
    with FaultPlane("docker") as plane:
        assert plane.backend_name == "docker"
        assert harness_image in plane.describe() and "embedded server" in plane.describe()
        assert plane.client.version() == "2.12.0"
        proxy = plane.client.create_proxy("echo", upstream=f"127.0.0.1:{echo_server}")
        with connect(proxy.port) as sock, proxy.toxic("latency", latency=100):
            assert round_trip(sock) >= 0.09
    assert not is_listening("127.0.0.1", proxy.port)


def test_env_is_untouched_by_auto_choice(no_binary: None) -> None:
    before = dict(os.environ)
    choose_backend("auto")
    assert dict(os.environ) == before

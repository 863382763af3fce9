"""`uat toxiproxy`: foreground server, config errors, and clean shutdown on signals."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.ports import free_port, is_listening, wait_until
from harness.testing import adapter_toml
from tests.netutil import EchoServer, connect, round_trip


def _start(args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "harness", "toxiproxy", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_api(port: int, proc: subprocess.Popen[str]) -> None:
    def up() -> bool:
        assert proc.poll() is None, proc.communicate(timeout=5)
        try:
            return httpx.get(f"http://127.0.0.1:{port}/version", timeout=0.5).status_code == 200
        except httpx.HTTPError:
            return False

    assert wait_until(up, timeout=15), "uat toxiproxy never became ready"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_stops_the_server_and_frees_every_port(sig: signal.Signals, tmp_path: Path) -> None:
    with EchoServer() as echo:
        api_port, proxy_port = free_port(), free_port()
        config = tmp_path / "populate.json"
        config.write_text(
            json.dumps(
                [{"name": "echo", "listen": f"127.0.0.1:{proxy_port}", "upstream": f"127.0.0.1:{echo.port}"}]
            )
        )
        proc = _start(["--port", str(api_port), "--config", str(config)])
        try:
            _wait_api(api_port, proc)
            live = connect(proxy_port)
            round_trip(live)
            proc.send_signal(sig)
            _, stderr = proc.communicate(timeout=15)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        assert proc.returncode == 0, stderr
        assert "listening on http://127.0.0.1:" in stderr
        assert live.recv(1) == b"", "a live proxied connection outlived the server"
        live.close()
        assert not is_listening("127.0.0.1", api_port)
        assert not is_listening("127.0.0.1", proxy_port)


def test_a_port_in_use_is_an_infrastructure_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = _start(["--port", str(port)])
        _, stderr = proc.communicate(timeout=15)
    assert proc.returncode == 3
    assert f"cannot listen on 127.0.0.1:{port}" in stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"name": "x"}', "expected a JSON array"),
        (
            '[{"name": "x", "upstream": "127.0.0.1:1"}, {"upstream": "127.0.0.1:2"}]',
            "missing required field: name at proxy 2",
        ),
    ],
)
def test_a_bad_config_is_a_usage_error_naming_the_problem(tmp_path: Path, content: str, message: str) -> None:
    config = tmp_path / "populate.json"
    config.write_text(content)
    result = CliRunner().invoke(main, ["toxiproxy", "--port", "0", "--config", str(config)])
    assert result.exit_code == 2, result.output
    assert "--config" in result.output and message in result.output


def test_a_missing_config_file_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["toxiproxy", "--port", "0", "--config", str(tmp_path / "nope.json")])
    assert result.exit_code == 2 and "No such file" in result.output


def test_target_check_accepts_the_bundled_reference() -> None:
    result = CliRunner().invoke(main, ["target", "check", "reference"])
    assert result.exit_code == 0, result.output
    assert "reference.toml: ok" in result.output and "REFMW_MUTANTS" in result.output
    assert "database    accounts; lock table orders" in result.output
    assert "bad release REFMW_BAD_RELEASE=1" in result.output


def test_target_check_names_the_bad_field_and_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "agency.toml"
    bad.write_text(
        'name = "agency"\n[start]\ncommand = ["node", "app.js"]\n[ready]\nurl = "http://x/health"\n'
        + adapter_toml()
        + '[slo]\nrecovery_s = "fast"\n'
    )
    result = CliRunner().invoke(main, ["target", "check", str(bad)])
    assert result.exit_code == 2
    assert "slo.recovery_s: must be a number" in result.output

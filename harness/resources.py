"""Package data, found the way an installed package finds it: through importlib.resources.

The bundled target files and their SQL (`targets`), the seeded fixtures (`fixtures`) and the
scenario docs (`scenarios/README.md`) ship inside the wheel, so `uat gate --target reference`
works from any directory, with or without a checkout. Nothing walks up from `__file__`.

A package installed as files (the usual case, and the checkout) is read in place. Where a
package is not on the file system (a zip), `real_dir` copies its data files into a temp dir
that lives as long as the process, so code that needs a real path (a target file's relative
`checks.sql`) still gets one.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

TARGETS = "targets"
FIXTURES = "fixtures"
SCENARIOS = "scenarios"


def data(package: str, name: str) -> Traversable:
    """One data file of a package, readable with `.read_text()` wherever the package lives."""
    return files(package).joinpath(name)


def stems(package: str, suffix: str) -> list[str]:
    """The names, less `suffix`, of a package's data files ending in it."""
    entries = files(package).iterdir()
    return sorted(e.name.removesuffix(suffix) for e in entries if e.name.endswith(suffix) and e.is_file())


@cache
def real_dir(package: str) -> Path:
    """A file-system directory holding the package's data files: the package itself when it is
    installed as files, otherwise a copy removed when the process exits."""
    root = files(package)
    if isinstance(root, Path):
        return root
    copy = Path(tempfile.mkdtemp(prefix=f"uat-{package}-"))
    atexit.register(shutil.rmtree, copy, True)
    _copy_tree(root, copy)
    return copy


def real_path(package: str, name: str) -> Path:
    """A file-system path of one data file (see `real_dir`)."""
    return real_dir(package) / name


def _copy_tree(source: Traversable, dest: Path) -> None:
    for entry in source.iterdir():
        if entry.name == "__pycache__":
            continue
        if entry.is_dir():
            (dest / entry.name).mkdir()
            _copy_tree(entry, dest / entry.name)
        else:
            (dest / entry.name).write_bytes(entry.read_bytes())

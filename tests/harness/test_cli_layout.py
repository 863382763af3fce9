"""The CLI's shape: `harness.cli:main` still has every command, the exit codes and their errors live in
a leaf module nothing in the harness imports back through harness.cli (fast: imports only)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

import harness
from harness.cli import main
from harness.exitcodes import (
    EXIT_FAILED,
    EXIT_INFRA,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    InfraFailure,
    UsageFailure,
)

PACKAGE = Path(harness.__file__).parent
CODES = (
    "EXIT_OK",
    "EXIT_FAILED",
    "EXIT_USAGE",
    "EXIT_INFRA",
    "EXIT_PASSED",
    "EXIT_HARNESS",
    "EXIT_INTERRUPTED",
)


def test_every_command_is_registered() -> None:
    assert set(main.commands) == {
        "toxiproxy", "mocks", "engine", "target", "gate", "reproduce", "report", "load", "spec",
        "contract", "investigate",
    }  # fmt: skip
    result = CliRunner().invoke(main, ["gate", "--help"])
    for option in ("--target", "--suite", "--scenario", "--seed", "--report", "--backend", "--no-html",
                   "--strict", "--shard", "--repeat", "--seed-step", "--list"):  # fmt: skip
        assert option in result.output


def test_exit_codes_are_the_cli_contracts() -> None:
    assert (EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INFRA, EXIT_INTERRUPTED) == (0, 1, 2, 3, 130)
    assert UsageFailure("x").exit_code == 2 and InfraFailure("x").exit_code == 3


def test_exitcodes_is_a_leaf() -> None:
    code = "import sys, harness.exitcodes; print(sorted(m for m in sys.modules if m.startswith('harness')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "['harness', 'harness.exitcodes']"


def _imports(path: Path) -> list[str]:
    """Every module a source file imports, relative imports resolved against its package."""
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            name = node.module or ""
            full = (f"{base}.{name}" if name else base) if node.level else name
            found.append(full)
            found += [f"{full}.{alias.name}" for alias in node.names]
    return found


def test_nothing_outside_the_cli_imports_from_it() -> None:
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "cli" not in path.relative_to(PACKAGE).parts[:1] and path.name != "__main__.py"
        if any(name == "harness.cli" or name.startswith("harness.cli.") for name in _imports(path))
    ]
    assert offenders == []


def test_no_stray_exit_code_constants() -> None:
    """The numbers are defined once: nothing but exitcodes assigns an EXIT_* code of its own."""
    owners = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Assign):
                names = [t.id for t in node.targets if isinstance(t, ast.Name)]
                names += [
                    e.id
                    for t in node.targets
                    if isinstance(t, ast.Tuple)
                    for e in t.elts
                    if isinstance(e, ast.Name)
                ]
                if any(n in CODES for n in names):
                    owners.append(str(path.relative_to(PACKAGE)))
    assert owners == ["exitcodes.py"] * len(owners) and owners

"""`--list-mutants`: one `name: description` line per mutant, each naming what exposes it."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from reference_middleware.mutants import MUTANTS, parse


def test_list_mutants_prints_one_named_line_each() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "reference_middleware", "--list-mutants"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == len(MUTANTS) >= 12
    names = [line.split(":", 1)[0] for line in lines]
    assert names == [m.name for m in MUTANTS]
    for line in lines:
        assert re.match(r"^[a-z0-9_]+: \S.*\(exposed by: \S.*\)$", line), line


def test_every_mutant_documents_what_exposes_it() -> None:
    assert len({m.name for m in MUTANTS}) == len(MUTANTS)
    for m in MUTANTS:
        assert m.description and m.exposed_by, m.name


def test_mutant_names_are_checked() -> None:
    assert parse("") == frozenset()
    assert parse(" no_reconnect ,admin_coupled") == {"no_reconnect", "admin_coupled"}
    with pytest.raises(ValueError, match="unknown mutant 'typo'"):
        parse("no_reconnect,typo")

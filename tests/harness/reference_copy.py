"""A variant of the reference target written elsewhere needs the files it names beside it."""

from __future__ import annotations

from pathlib import Path

from harness.resources import data

COMPANIONS = ("reference.sql", "reference-zaps.toml")  # its [checks] sql and its [lifecycle] zaps


def companions(dest: Path) -> None:
    for name in COMPANIONS:
        (dest / name).write_text(data("targets", name).read_text())

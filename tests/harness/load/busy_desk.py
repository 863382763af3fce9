"""A load population busy enough for a short run to judge something."""

from __future__ import annotations

from pathlib import Path

import yaml

from harness.load.identities import DEFAULT_FILE


def busy_desk(directory: Path, customer_prefix: str | None = None) -> Path:
    """The bundled population, twenty times as active: a short run must still place hundreds
    of orders for the invariants to have something to judge (at the bundled rates a 12 s run of
    5 traders places about one order, and can place none)."""
    data = yaml.safe_load(DEFAULT_FILE.read_text())
    data["actions_per_minute"] = {"scalper": 120, "swing": 12, "watcher": 12, "backoffice": 30}
    if customer_prefix:
        data["customer_prefix"] = customer_prefix
    directory.mkdir()
    (directory / "traders.yaml").write_text(yaml.safe_dump(data))
    return directory

"""The run's copy of the target's secret source (`[secrets]`): rendered from the topology's values and
replaced whole, so the middleware never reads half a file, and rewritten only when a value changed."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..target import render_template
from .secretspec import SecretsSpec


class SecretFile:
    def __init__(self, spec: SecretsSpec, path: Path, source: str) -> None:
        self.spec = spec
        self.path = path
        self.source = source
        self.writes = 0  # how many times its content changed, the first write included
        self._last: str | None = None

    def render(self, values: dict[str, Any]) -> dict[str, str]:
        return {
            key: render_template(text, values, f"secrets.values.{key}", self.source)
            for key, text in self.spec.values.items()
        }

    def write(self, values: dict[str, Any]) -> bool:
        """Write the file if its content would change; whether it did."""
        content = json.dumps(self.render(values), indent=2, sort_keys=True) + "\n"
        if content == self._last:
            return False
        temp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(content)
        os.replace(temp, self.path)  # atomic: a reader sees the old file or the new one
        self._last = content
        self.writes += 1
        return True

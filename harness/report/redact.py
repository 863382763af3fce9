"""Secret redaction for logs and every report attachment."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

SECRET_KEY = re.compile(r"(secret|password|passwd|token|api_?key|app_key|dsn|credential)", re.IGNORECASE)
# leaves that are never a credential, whatever their parent is called: `{secrets.file}` is the path of
# the target's secret source, which a middleware may well log
NOT_SECRET_LEAVES = frozenset({"file"})
MASK = "«redacted»"
_MIN_LEN = 4  # shorter values would mask ordinary words


class Redactor:
    """Replaces every known secret value in text. Longest first, so a secret that contains
    another is masked whole."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._lock = threading.Lock()  # trader keys are learnt from the gate's trader threads
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        with self._lock:
            self._secrets.update(s for s in secrets if isinstance(s, str) and len(s) >= _MIN_LEN)
            ordered = sorted(self._secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    @property
    def secrets(self) -> frozenset[str]:
        """Every secret it knows: what the security suite searches the middleware's output for."""
        with self._lock:
            return frozenset(self._secrets)

    def add_from_mapping(self, values: Mapping[str, Any]) -> None:
        """Learn secrets from a nested mapping: values under keys that look secret."""
        found: list[str] = []
        _collect(values, found, secret=False)
        self.add(found)

    def __call__(self, text: str) -> str:
        if self._pattern is None:
            return text
        return self._pattern.sub(MASK, text)


def _collect(node: Any, out: list[str], *, secret: bool) -> None:
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key not in NOT_SECRET_LEAVES:
                _collect(value, out, secret=secret or bool(SECRET_KEY.search(str(key))))
    elif isinstance(node, list | tuple):
        for value in node:
            _collect(value, out, secret=secret)
    elif secret and isinstance(node, str):
        out.append(node)

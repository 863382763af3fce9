"""The target file's `[secrets]` table: the secret source the middleware reads its venue credentials
from, so the harness can rotate a credential mid-run the way an operator would (the venue first, with
a grace period, then the source) and judge whether the middleware took it up without a restart.

    [secrets]
    file = "venue-secrets.json"  # written in the run's directory; its path is `{secrets.file}`
    reload = "watch"             # watch: the middleware notices the change; signal: the harness signals it
    signal = "SIGHUP"            # with reload = "signal"
    settle_s = 2                 # how long the middleware may take to take up a rewritten file
    [secrets.values]             # the file: one JSON object, each value a template
    REFMW_RITHMIC_PASSWORD = "{mocks.rithmic.password}"

A target without the table keeps its credentials for the life of the process: the rotation scenario is
not applicable to it, never passed."""

from __future__ import annotations

import re
import signal as signals
from dataclasses import dataclass, field

from ..targetfields import Fields

ROTATION_NEED = "secrets:rotation"
# the venue mocks that can rotate a credential, and the describe() field each credential is read from
ROTATABLE = {"rithmic": "password", "tt": "app_secret", "stripe": "secret"}
RELOADS = ("watch", "signal")
_PLACEHOLDER = re.compile(r"\{mocks\.(\w+)\.(\w+)\}")
_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


@dataclass(frozen=True)
class SecretsSpec:
    file: str = "secrets.json"
    reload: str = "watch"
    signal: str = "SIGHUP"
    settle_s: float = 2.0
    values: dict[str, str] = field(default_factory=dict)

    def offers(self) -> tuple[str, ...]:
        return (ROTATION_NEED,) if self.rotatable() else ()

    def rotatable(self) -> tuple[str, ...]:
        """The venues whose rotating credential the file carries: only those can be rotated, since the
        middleware would learn of no other one's new value."""
        named = {m.groups() for text in self.values.values() for m in _PLACEHOLDER.finditer(text)}
        return tuple(v for v, what in ROTATABLE.items() if (v, what) in named)

    @property
    def signum(self) -> int:
        return int(getattr(signals, self.signal))


def parse_secrets(table: Fields, *, image: bool) -> SecretsSpec | None:
    if not table.data:
        return None
    name = table.get("file", str, "secrets.json")
    if not _FILE_NAME.fullmatch(name):
        raise table.error("file", f"must be a plain file name (written in the run's directory), got {name!r}")
    reload = table.get("reload", str, "watch")
    if reload not in RELOADS:
        raise table.error("reload", f"must be one of {', '.join(RELOADS)}, got {reload!r}")
    signal = table.get("signal", str, "SIGHUP")
    if not signal.startswith("SIG") or not isinstance(getattr(signals, signal, None), signals.Signals):
        raise table.error("signal", f"must be a signal name such as SIGHUP, got {signal!r}")
    settle = table.positive("settle_s", 2.0)
    values = table.table("values")
    rendered = {key: values.get(key, str, required=True) for key in values.data}
    if not rendered:
        raise table.error("values", "is required: the file's entries, each a template")
    if image:
        raise table.error("file", "a container target cannot read the run's secret file yet")
    table.no_unknown()
    return SecretsSpec(name, reload, signal, settle, rendered)

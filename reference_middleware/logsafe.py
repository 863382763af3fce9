"""No credential in the log: every formatted line, traceback included, is scrubbed before it is written.

The service's own log calls name no secret, but a library's may (async_rithmic logs its login
request, password included, at DEBUG), and an exception's text can quote a DSN. So the handler's
formatter replaces each configured secret, and any `Bearer <token>` or `password=...`, with a mask.
Rotated credentials (secretsource.py) are masked too: the formatter asks the live source for every
value it has held whenever the source's version moves, so a new password is masked from its first use.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Protocol

MASK = "[REDACTED]"
_PATTERNS = (
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"),
    re.compile(r"(?i)((?:password|passwd|secret)['\"]?\s*[:=]\s*['\"]?)[^\s'\",}&]+"),
    re.compile(r"(?i)(://[^:/@\s]+:)[^@\s]+(?=@)"),  # user:password@ in a URL
)


class LiveSecrets(Protocol):
    """What the masker needs of a secret source: a version that moves on change, and the values."""

    @property
    def version(self) -> int: ...

    def known(self) -> frozenset[str]: ...


class RedactingFormatter(logging.Formatter):
    def __init__(self, fmt: str, secrets: tuple[str, ...], live: LiveSecrets | None = None) -> None:
        super().__init__(fmt)
        self.static = frozenset(s for s in secrets if s)
        self.live = live
        self._version: int | None = None
        self.secrets = self._ordered(self.static)

    @staticmethod
    def _ordered(values: frozenset[str]) -> tuple[str, ...]:
        # longest first, so a secret that contains another is masked whole
        return tuple(sorted(values, key=len, reverse=True))

    def format(self, record: logging.LogRecord) -> str:
        live = self.live
        if live is not None and live.version != self._version:
            self._version = live.version
            self.secrets = self._ordered(self.static | {s for s in live.known() if s})
        return redact(super().format(record), self.secrets)


def redact(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        text = text.replace(secret, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + MASK, text)
    return text


def configure(
    level: str, secrets: tuple[str, ...], *, redacted: bool = True, live: LiveSecrets | None = None
) -> None:
    """The root logger to stdout, redacting unless `redacted` is False (the secret_in_log mutant);
    `live`: a source of rotated secrets, masked as well as `secrets`."""
    fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(RedactingFormatter(fmt, secrets, live) if redacted else logging.Formatter(fmt))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # A library may bring its own handler (async-rithmic adds one to "rithmic" when imported): its
    # lines would skip the redaction (its failed-login error quotes the login request, password
    # included) and appear twice. Every record goes through the root handler instead.
    for logger in logging.Logger.manager.loggerDict.values():
        if isinstance(logger, logging.Logger):
            for own in list(logger.handlers):
                logger.removeHandler(own)
            logger.propagate = True
